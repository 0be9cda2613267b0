/**
 * The dial list for a view (the dials panel, the feature card, export). A view hears of a
 * change in a task of its own queued after the change (`afterTask`), not in the change's own
 * event: during a drag, the move's handler then does only the picture's work (the compare
 * canvases, drawn from the drag sweep) before the animation frame that shows it, and the knob
 * and its numbers follow in the task after that frame. The store itself changes at once
 * (everything that reads it, the steer loop included, sees the new value).
 */
import { useSyncExternalStore } from 'react';
import { dialStore, type DialState } from './store';

const queued: (() => void)[] = [];
let channel: MessageChannel | null = null;

/** Runs `fn` in a task of its own after the current one (a message to this page). */
export function afterTask(fn: () => void): void {
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => {
      for (const f of queued.splice(0)) f();
    };
  }
  if (queued.length === 0) channel.port2.postMessage(null);
  queued.push(fn);
}

/** A function that runs `fn` once in a task after the current one, however often it is
 * called meanwhile (afterTask, coalesced). */
export function coalescedAfterTask(fn: () => void): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    afterTask(() => {
      pending = false;
      fn();
    });
  };
}

/** dialStore.subscribe, each listener told once per task after changes (see the header). */
export function subscribeAfterTask(listener: () => void): () => void {
  let on = true;
  const off = dialStore.subscribe(
    coalescedAfterTask(() => {
      if (on) listener();
    }),
  );
  return () => {
    on = false;
    off();
  };
}

export function useDials(): readonly DialState[] {
  return useSyncExternalStore(subscribeAfterTask, dialStore.get);
}
