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
import { bytesSchema } from './binarySchemas';
import {
  DialSchema,
  DialsSchema,
  ImageMetricsSchema,
  ImageSourceSchema,
  MaskSchema,
} from './runtime';
import { IdSchema, JobIdSchema } from './schemas';
import { DIAL_VALUE_MAX, SWEEP_VALUES_MAX } from './sweepMath';

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
