/**
 * The dial list for a view (the dials panel, the feature card, export). A view hears of a
 * change in the change's own task: during a drag, the move's handler draws the picture (the
 * compare canvases, from the drag sweep) and React renders the knob and its numbers before the
 * same animation frame, so a move costs the page one frame. (A render a task later made a
 * second frame per move; under a software compositor each frame's composite took 25-40 ms,
 * and the next move waited for it: bench "dial to image", p95 5.9x the median.)
 */
import { useSyncExternalStore } from 'react';
import { dialStore, type DialState } from './store';

export function useDials(): readonly DialState[] {
  return useSyncExternalStore(dialStore.subscribe, dialStore.get);
}
