/**
 * A pointer drag on a dial, told to whoever prefetches its frames (the image loop's drag
 * sweep, useSteerRun.ts): which dial, its value when the drag started and the value of one
 * pixel of travel. The dial's value under the pointer is `dragValue` of the whole pixels moved
 * since the start (the finest step a hand controls), so the sweep asks for exactly the values
 * a drag can reach. Wheel, keyboard and typed values are no drag. A pointer resting on a knob
 * (`hoverDial`) is told the same way, so the frames of its drag are on their way before the
 * press and a drag's first moves are drawn from them too; the drag that follows from the same
 * value and step keeps them.
 */
export interface DialDrag {
  /** The dial's key (store.ts). */
  key: string;
  /** Its value when the drag started. */
  start: number;
  /** The value of one pixel of travel. */
  step: number;
}

/** The most a dial's value may be turned to, either way. */
export const DIAL_VALUE_MAX = 1e5;

/** A value kept within ±DIAL_VALUE_MAX. */
export function clampDialValue(value: number): number {
  return Math.max(-DIAL_VALUE_MAX, Math.min(DIAL_VALUE_MAX, value));
}

/** The dial's value `px` whole pixels of travel from the drag's start. */
export function dragValue(drag: Pick<DialDrag, 'start' | 'step'>, px: number): number {
  return clampDialValue(drag.start + px * drag.step);
}

/** Whole pixels of travel from a drag's start, nearest first: 0, 1, −1, 2, −2, … ±reach. */
export function sweepOffsets(reach: number): number[] {
  const out = [0];
  for (let px = 1; px <= reach; px++) out.push(px, -px);
  return out;
}

type Listener = (drag: DialDrag | null) => void;

const listeners = new Set<Listener>();
let current: DialDrag | null = null;

let hovered: DialDrag | null = null;

const tell = (drag: DialDrag | null): void => {
  for (const l of [...listeners]) l(drag);
};

/** Whether two drags reach the same values (the same dial, start and step). */
export function sameDialDrag(a: DialDrag | null, b: DialDrag | null): boolean {
  return a !== null && b !== null && a.key === b.key && a.start === b.start && a.step === b.step;
}

/** A drag on a dial starts. */
export function beginDialDrag(drag: DialDrag): void {
  hovered = null;
  current = drag;
  tell(drag);
}

/** The drag ends (release or cancel); listeners hear null. */
export function endDialDrag(): void {
  if (current === null) return;
  current = null;
  tell(null);
}

/**
 * The pointer rests on a dial's knob (a drag from there would reach these values), or left it
 * (null). Nothing is told during a drag, and a hover the listeners already heard is not
 * repeated.
 */
export function hoverDial(drag: DialDrag | null): void {
  if (current !== null || sameDialDrag(hovered, drag) || (hovered === null && drag === null))
    return;
  hovered = drag;
  tell(drag);
}

/** Told each drag's start and end; returns an unsubscribe. */
export function onDialDrag(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
