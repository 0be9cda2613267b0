/**
 * A pointer drag on a dial, told to whoever prefetches its frames (the image loop's drag
 * sweep, useSteerRun.ts): which dial, its value when the drag started and the value of one
 * pixel of travel. The dial's value under the pointer is `dragValue` of the whole pixels moved
 * since the start (the finest step a hand controls), so the sweep asks for exactly the values
 * a drag can reach. Wheel, keyboard and typed values are no drag. A pointer resting on a knob
 * (`hoverDial`) is told the same way, so the frames of its drag are on their way before the
 * press and a drag's first moves are drawn from them too; the drag that follows from the same
 * value and step keeps them. Before that, the dial most likely dragged next (the one added or
 * turned last, `expectDialDrag`) is told whenever no drag or hover is on: its frames are
 * fetched while the hand is still on its way to the knob (a drag's first moves come some
 * 20-60 ms after the press, too soon for a sweep started by the hover or press to have
 * computed them on a busy machine). While the pointer moves, the frames ahead of it come first
 * (`sweepOrder`, `followPointer`).
 */
import type { DialInput } from '../../../preload/contract';
import { dragValue } from '../../../preload/contract/sweepMath';

// The grid's arithmetic is the contract's, so the worker computes the very values the page
// looks its frames up by (preload/contract/sweepMath.ts).
export {
  clampDialValue,
  DIAL_VALUE_MAX,
  dragValue,
  SWEEP_AHEAD,
  sweepOffsets,
  sweepOrder,
} from '../../../preload/contract/sweepMath';

export interface DialDrag {
  /** The dial's key (store.ts). */
  key: string;
  /** Its method: the frames of a drag are those of the dial list with this method. */
  method: DialInput['method'];
  /** Its value when the drag started. */
  start: number;
  /** The value of one pixel of travel. */
  step: number;
}

/** A press on a knob: the drag it starts, and where the pointer went down. */
export interface DialPress extends DialDrag {
  x: number;
  y: number;
}

/** The value of a fine drag's pixel (Shift) against a plain one's. */
export const FINE_DRAG = 0.1;

/**
 * The dial's value with the pointer at (x, y): whole pixels of travel up and right from the
 * press, at the press's own step (a calibrated range that arrives meanwhile changes the next
 * drag, not this one: its values would jump and leave the sweep's grid); a tenth of it fine.
 */
export function pressValue(press: DialPress, x: number, y: number, fine: boolean): number {
  const px = Math.round(x - press.x - (y - press.y));
  return dragValue({ start: press.start, step: fine ? press.step * FINE_DRAG : press.step }, px);
}

/**
 * How many of the frames a sweep's call will send next are looked at when the pointer moves:
 * the call is kept while the next few frames the pointer wants are among them.
 */
const SWEEP_SOON = 8;
/** How many of the frames the pointer wants next must be coming soon to keep the call. */
const SWEEP_WANT = 3;
/**
 * When the pointer's own frame is missing (a move waits for it), it must be among this many of
 * the call's next frames (about its next batch) to keep the call.
 */
const SWEEP_NOW = 2;

/**
 * Whether a call should give way to one from the pointer: the next frames the pointer wants
 * are not all among the ones it sends next, and it has sent a batch (each call makes some
 * progress). When the pointer's own frame is missing (`waiting`: a move waits for it;
 * `want[0]` is where it is), that frame must be about the next one the call sends, whether or
 * not the call has sent anything: the new call starts with that very frame, so the worker's
 * next batch after its current one is the frame the move waits for (a drag's first move,
 * pressed a moment after the hover that started the sweep, would otherwise wait for the
 * frames both ways nearer the start). `want`: the missing offsets in sweepOrder from the
 * pointer; `next`: the call's missing offsets in its own order, from the next it sends.
 */
export function followPointer(
  call: { sent: number },
  want: readonly number[],
  next: readonly number[],
  waiting = false,
): boolean {
  if (want.length === 0 || (call.sent === 0 && !waiting)) return false;
  const soon = new Set(next.slice(0, waiting ? SWEEP_NOW : SWEEP_SOON));
  return !want.slice(0, waiting ? 1 : SWEEP_WANT).every((px) => soon.has(px));
}

/** Told the drag whose frames are wanted now (see `wantedDialDrag`), or null for none. */
type Listener = (drag: DialDrag | null) => void;

const listeners = new Set<Listener>();
let current: DialDrag | null = null;

let hovered: DialDrag | null = null;

let likely: DialDrag | null = null;

const tell = (drag: DialDrag | null): void => {
  for (const l of [...listeners]) l(drag);
};

/** Whether two drags reach the same frames (the same dial and method, start and step). */
export function sameDialDrag(a: DialDrag | null, b: DialDrag | null): boolean {
  return (
    a !== null &&
    b !== null &&
    a.key === b.key &&
    a.method === b.method &&
    a.start === b.start &&
    a.step === b.step
  );
}

/** The drag whose frames are wanted: the one on, else the knob the pointer rests on, else the
 * dial most likely dragged next. */
export function wantedDialDrag(): DialDrag | null {
  return current ?? hovered ?? likely;
}

/**
 * Whether a drag is on or the pointer rests on a knob: only then are a sweep's frames drawn
 * (a change made otherwise, by keys or a typed value, runs and is recorded as it comes).
 */
export function dialDragActive(): boolean {
  return current !== null || hovered !== null;
}

/** A drag on a dial starts. */
export function beginDialDrag(drag: DialDrag): void {
  hovered = null;
  current = drag;
  tell(drag);
}

/** The drag ends (release or cancel); listeners hear the drag wanted next (the likely one). */
export function endDialDrag(): void {
  if (current === null) return;
  current = null;
  tell(wantedDialDrag());
}

/**
 * The pointer rests on a dial's knob (a drag from there would reach these values), or left it
 * (null: listeners hear the likely drag). Nothing is told during a drag, and a hover the
 * listeners already heard is not repeated.
 */
export function hoverDial(drag: DialDrag | null): void {
  if (current !== null || sameDialDrag(hovered, drag) || (hovered === null && drag === null))
    return;
  hovered = drag;
  tell(wantedDialDrag());
}

/**
 * The dial most likely dragged next, from where it is now: the one added or turned last (null
 * when it is removed). Told at once unless a drag or hover is on (then when it ends).
 */
export function expectDialDrag(drag: DialDrag | null): void {
  if (sameDialDrag(likely, drag) || (likely === null && drag === null)) return;
  likely = drag;
  if (!dialDragActive()) tell(drag);
}

/** The dial expected to be dragged next (expectDialDrag), if any. */
export function expectedDialDrag(): DialDrag | null {
  return likely;
}

/** Told each change of the drag wanted (see Listener); returns an unsubscribe. */
export function onDialDrag(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
