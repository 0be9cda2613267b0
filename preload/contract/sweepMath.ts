/**
 * A drag sweep's numbers: which values a sweep runs, in what order, and what a drag's travel
 * turns a dial to. No zod (sweep.ts has the schemas): the page uses these without building the
 * contract's schemas (issue 19's cold start).
 */
import type { DialInput } from './runtime';
import type { SweepGrid, SweptDial } from './sweep';

/** The most frames one sweep asks for (both ways from the start, and the start itself). */
export const SWEEP_VALUES_MAX = 2049;

/** Frames of a sweep (after and heatmap, RGBA) kept in the page at most, in bytes. */
export const SWEEP_BYTES = 32 * 1024 * 1024;

/** The bytes one sweep frame takes in the page: its after-image and its heatmap. */
export const sweepFrameBytes = (width: number, height: number): number => 2 * width * height * 4;

/** A dial's rest value (at rest it is left out of a run's dials). */
export const dialRest = (method: DialInput['method']): number => (method === 'scale' ? 1 : 0);

/** The dials of one run of a sweep: the others with the turning dial at `value` in its place
 * (left out at rest, as the page leaves a dial at rest out of a run). */
export function sweepDials(swept: SweptDial, value: number): DialInput[] {
  const dials = swept.others.slice();
  if (value !== dialRest(swept.dial.method))
    dials.splice(Math.min(swept.at, dials.length), 0, { ...swept.dial, value });
  return dials;
}

/** The most a dial's value may be turned to, either way. */
export const DIAL_VALUE_MAX = 1e5;

/** A value kept within ±DIAL_VALUE_MAX. */
export function clampDialValue(value: number): number {
  return Math.max(-DIAL_VALUE_MAX, Math.min(DIAL_VALUE_MAX, value));
}

/** The dial's value `px` whole pixels of travel from the drag's start. */
export function dragValue(drag: { start: number; step: number }, px: number): number {
  return clampDialValue(drag.start + px * drag.step);
}

/** Whole pixels of travel from a drag's start, nearest first: 0, 1, −1, 2, −2, … ±reach. */
export function sweepOffsets(reach: number): number[] {
  return sweepOrder(reach, 0, 0);
}

/** Offsets ahead of a moving pointer taken for each one behind it (sweepOrder). */
export const SWEEP_AHEAD = 3;

/**
 * The order a drag sweep should compute the offsets within ±reach that it does not have yet,
 * for a pointer at `at` moving in direction `dir` (+1, −1; 0: not moving yet): `at` itself,
 * then SWEEP_AHEAD offsets ahead of the pointer for each one behind it, nearest first on
 * both sides; without a direction, one each way (nearest first: 0, 1, −1, 2, −2, …).
 */
export function sweepOrder(
  reach: number,
  at: number,
  dir: number,
  has: (px: number) => boolean = () => false,
): number[] {
  const out: number[] = [];
  const within = (px: number): boolean => px >= -reach && px <= reach;
  const take = (px: number): void => {
    if (within(px) && !has(px)) out.push(px);
  };
  const d = dir < 0 ? -1 : 1;
  const ahead = dir === 0 ? 1 : SWEEP_AHEAD;
  // a pointer past the reach: from the end of it
  const from = Math.max(-reach, Math.min(reach, at));
  take(from);
  let front = from + d;
  let back = from - d;
  while (within(front) || within(back)) {
    for (let k = 0; k < ahead && within(front); k++, front += d) take(front);
    if (within(back)) take(back);
    back -= d;
  }
  return out;
}

/**
 * The offsets a grid runs, in its order (nearest first, one each way); an offset whose value an
 * earlier one (counting up from −reach) already has, clamped at the dial's limit, is left out.
 */
export function gridOffsets(grid: SweepGrid): number[] {
  const kept = new Set<number>();
  const seen = new Set<number>();
  for (let px = -grid.reach; px <= grid.reach; px++) {
    const v = dragValue(grid, px);
    if (seen.has(v)) continue;
    seen.add(v);
    kept.add(px);
  }
  return sweepOrder(grid.reach, 0, 0, (px) => !kept.has(px));
}

/** The values a sweep call runs, in its order: its own list, or its grid's. */
export function sweepValues(input: { values?: number[]; grid?: SweepGrid }): number[] {
  if (input.values) return input.values;
  const grid = input.grid;
  return grid ? gridOffsets(grid).map((px) => dragValue(grid, px)) : [];
}
