/**
 * Exports an artist can use, made in main (sharp's Lanczos filter) and sent back as bytes:
 * the output as a PNG at a chosen size, a sweep of one dial (−2× to +4× its typical
 * activation, and its calibrated limit) as a strip, an animated WebP or GIF, or text, and a
 * text run with its diff marked. Pure module: zod only.
 */
import { z } from 'zod';
import { bytesSchema } from './binarySchemas';
import { SWEEP_MAX_SIZE } from './exportSizes';
import { effectStripInput } from './runtime';

export const sweepFormats = ['strip', 'webp', 'gif', 'text'] as const;
export type SweepFormat = (typeof sweepFormats)[number];

const side = z.number().int().min(1).max(4096);

export const exportInputs = {
  /** A picture (raw RGBA as the runs return it) scaled so its long side is `size`. */
  image: z
    .object({
      rgba: bytesSchema,
      width: side,
      height: side,
      size: z.number().int().min(16).max(4096),
      /** the file name to suggest, without extension */
      name: z.string().min(1).max(200).default('orrery'),
    })
    .strict(),
  /** One dial's sweep: the effect strip's frames, each scaled so its long side is `size`. */
  sweep: effectStripInput
    .extend({
      format: z.enum(sweepFormats),
      size: z.number().int().min(16).max(SWEEP_MAX_SIZE).default(256),
      /** animated formats: how long each frame shows */
      frameMs: z.number().int().min(40).max(10_000).default(450),
    })
    .strict(),
  /** A text run: the prompt, then the continuation with words added {+so+} and removed [-so-]. */
  text: z
    .object({
      prompt: z.string().max(20_000),
      before: z.string().max(200_000),
      after: z.string().max(200_000),
      name: z.string().min(1).max(200).default('orrery'),
    })
    .strict(),
};

/** A file to save: its bytes, type, suggested name and (pictures) size. */
export const ExportFileSchema = z.object({
  bytes: bytesSchema,
  mime: z.string(),
  name: z.string(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  /** pictures in it: 1 for a PNG, the frames of a sweep */
  frames: z.number().int(),
});
export type ExportFile = z.infer<typeof ExportFileSchema>;
