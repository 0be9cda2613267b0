/**
 * Image frames from the socket straight to the canvases that show them, outside React: the
 * steer loop hands over a run's pixels the moment its image.frame event arrives, and each
 * canvas of the compare view puts its bytes in at once (the React state that follows brings
 * the same arrays, which the canvases then skip).
 */
import { markDrawn, type RgbaImage } from './pixels';

export interface LiveFrame {
  before: Uint8Array;
  after: Uint8Array;
  heatmap: Uint8Array;
  width: number;
  height: number;
}

type Listener = (frame: LiveFrame) => void;

const listeners = new Set<Listener>();

let lastAfter: Uint8Array | null = null;

/** Draws a frame on every canvas that shows one, then marks the pixels drawn (markDrawn). */
export function showFrame(frame: LiveFrame): void {
  if (listeners.size === 0) return;
  for (const l of listeners) l(frame);
  lastAfter = frame.after;
  markDrawn();
}

/** Whether these after-pixels were drawn from a live frame already (and marked then). */
export function shownLive(after: Uint8Array): boolean {
  return after === lastAfter;
}

export function onFrame(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** One of a frame's pictures as an image to draw. */
export function pictureOf(frame: LiveFrame, which: 'before' | 'after' | 'heatmap'): RgbaImage {
  return { rgba: frame[which], width: frame.width, height: frame.height };
}
