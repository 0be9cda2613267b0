/**
 * A drag sweep (issue 14): while a person drags an image dial, the page asks the inference
 * worker once for the frames of that dial at every value the drag can reach in whole pixels
 * of travel (the other dials fixed), nearest to the start first. They stream back in batches
 * as `image.sweep` events of raw RGBA with each frame's metrics, so a pointer move whose frame
 * is already in the page is drawn at once; the drag's step is still committed by one normal
 * run on release. Both sides build the dials of each value with `sweepDials`, so a frame is the
 * run of exactly the dial list the page would send for that value.
 */
import { z } from 'zod';
import { bytesSchema } from './binary';
import {
  DialSchema,
  DialsSchema,
  ImageMetricsSchema,
  ImageSourceSchema,
  MaskSchema,
  type DialInput,
} from './runtime';
import { IdSchema, JobIdSchema } from './schemas';

/** The most frames one sweep asks for (both ways from the start, and the start itself). */
export const SWEEP_VALUES_MAX = 2049;

/** Frames of a sweep (after and heatmap, RGBA) kept in the page at most, in bytes. */
export const SWEEP_BYTES = 32 * 1024 * 1024;

/** The bytes one sweep frame takes in the page: its after-image and its heatmap. */
export const sweepFrameBytes = (width: number, height: number): number => 2 * width * height * 4;

/** A dial's rest value (at rest it is left out of a run's dials). */
export const dialRest = (method: DialInput['method']): number => (method === 'scale' ? 1 : 0);

/** The dial that turns and where it sits among the others (they stay as they are). */
export const SweptDialSchema = z
  .object({
    /** The dials that stay, in the order a run sends them (muted and at-rest ones left out). */
    others: DialsSchema,
    /** Where the turning dial goes among them (0…others.length). */
    at: z.number().int().nonnegative().max(256),
    /** The turning dial; its `value` is replaced by each swept value. */
    dial: DialSchema,
  })
  .strict();
export type SweptDial = z.infer<typeof SweptDialSchema>;

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
 * A sweep's whole grid, sent instead of its values by a sweep's first call: a few numbers, not
 * hundreds (the call a dial's add or turn starts stays far under a tick's 1 KB). Its values are
 * `dragValue` of each offset within ±reach of `start`, in `gridOffsets` order.
 */
export const SweepGridSchema = z
  .object({
    start: z.number().finite().min(-DIAL_VALUE_MAX).max(DIAL_VALUE_MAX),
    step: z.number().finite().positive().max(DIAL_VALUE_MAX),
    reach: z
      .number()
      .int()
      .min(1)
      .max((SWEEP_VALUES_MAX - 1) / 2),
  })
  .strict();
export type SweepGrid = z.infer<typeof SweepGridSchema>;

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

export const imageSweepInput = z
  .object({
    packId: IdSchema,
    source: ImageSourceSchema,
    mask: MaskSchema.nullable().optional(),
    swept: SweptDialSchema,
    /** The values to run, in the order wanted (nearest to the pointer first)… */
    values: z.array(z.number().finite().min(-1e6).max(1e6)).min(1).max(SWEEP_VALUES_MAX).optional(),
    /** …or the whole grid of a drag from its start (a sweep's first call). */
    grid: SweepGridSchema.optional(),
    jobId: JobIdSchema.optional(),
  })
  .strict()
  .refine((i) => (i.values === undefined) !== (i.grid === undefined), {
    message: 'a sweep names its values or its grid, one of the two',
  });
export type ImageSweepInput = z.output<typeof imageSweepInput>;

export const ImageSweepOutput = z.object({
  /** Frames sent (fewer than asked when cancelled). */
  frames: z.number().int(),
  /** Milliseconds the worker took. */
  ms: z.number(),
});

/**
 * One batch of a sweep's frames: `index[k]` is the position in the call's `values` of frame
 * k, whose after-image and heatmap are the k-th width·height·4 bytes of `after` and `heatmap`.
 */
export const ImageSweepEventSchema = z.object({
  jobId: JobIdSchema,
  width: z.number().int(),
  height: z.number().int(),
  index: z.array(z.number().int()),
  after: bytesSchema,
  heatmap: bytesSchema,
  metrics: z.array(ImageMetricsSchema),
  changed: z.array(z.boolean()),
});
export type ImageSweepEvent = z.infer<typeof ImageSweepEventSchema>;
