/**
 * The numbers of the drag sweep's frames on show (issue 14), outside React's state: a frame
 * drawn from a sweep in a move's handler (liveFrames.showFrame) sets no state of the app; its
 * metrics and the count of frames drawn this way are kept here, and the views that show them
 * (the compare strip and its header) hear of it at once: a drag re-renders those views, not
 * the app, in the move's own task, so the numbers reach the screen in the frame that shows the
 * pixels (one frame a move; see useDials). The steer loop hands the last frame to the app's
 * state when the drag ends.
 */
import type { ImageMetrics } from '../../../preload/contract';

export interface SweptShown {
  /** Frames drawn from drag sweeps so far (the compare strip's data-swept). */
  count: number;
  /** The metrics of the last of them (null before the first). */
  metrics: ImageMetrics | null;
}

let shown: SweptShown = { count: 0, metrics: null };
const listeners = new Set<() => void>();
const tell = (): void => {
  for (const l of [...listeners]) l();
};

/** A sweep's frame with these metrics is on show now (its pixels drawn by showFrame). */
export function showSwept(metrics: ImageMetrics): void {
  shown = { count: shown.count + 1, metrics };
  tell();
}

/** useSyncExternalStore's pair: told when a sweep frame is shown. */
export function onSweptShown(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const sweptShown = (): SweptShown => shown;
