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

export const imageSweepInput = z
  .object({
    packId: IdSchema,
    source: ImageSourceSchema,
    mask: MaskSchema.nullable().optional(),
    swept: SweptDialSchema,
    /** The values to run, in the order wanted (nearest to the pointer first). */
    values: z.array(z.number().finite().min(-1e6).max(1e6)).min(1).max(SWEEP_VALUES_MAX),
    jobId: JobIdSchema.optional(),
  })
  .strict();
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
