/** Value schemas shared by calls and events. Pure: zod only. */
import { z } from 'zod';
import { limits } from './limits';

export const IdSchema = z
  .string()
  .min(1)
  .max(limits.idLength)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits and . _ : - only');

export const JobIdSchema = IdSchema;

/** A blob's name: the SHA-256 of its bytes, 64 lower-case hex digits. */
export const BlobHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a blob hash is 64 hex digits');
export const BlobRefSchema = z.object({
  hash: BlobHashSchema,
  size: z.number().int().nonnegative(),
});

export const PathSchema = z
  .string()
  .min(1)
  .max(limits.pathLength)
  .refine((p) => !p.includes('\0'), 'a path cannot contain a NUL character');

export const EmptySchema = z.object({}).strict();

export const PackKindSchema = z.enum(['text-lm', 'image-vae', 'glyph-cvae']);
export type PackKind = z.infer<typeof PackKindSchema>;

export const SaeSummarySchema = z.object({
  id: z.string(),
  hook: z.string(),
  dSae: z.number().int().nullable(),
  architecture: z.string().nullable(),
});

export const PackSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: PackKindSchema,
  version: z.string(),
  license: z.string(),
  source: z.string(),
  location: z.enum(['bundled', 'library']),
  dir: z.string(),
  saes: z.array(SaeSummarySchema),
  hasIndex: z.boolean(),
  sizeBytes: z.number().int().nonnegative(),
  /** Image packs: the decoder's spatial map, where a feature can be painted onto a region. */
  spatial: z
    .object({ hook: z.string(), height: z.number().int(), width: z.number().int() })
    .nullable(),
});
export type PackSummary = z.infer<typeof PackSummarySchema>;

export const PackProblemSchema = z.object({
  dir: z.string(),
  file: z.string(),
  message: z.string(),
});
export type PackProblem = z.infer<typeof PackProblemSchema>;

export const PackListSchema = z.object({
  packs: z.array(PackSummarySchema),
  problems: z.array(PackProblemSchema),
  folders: z.object({ bundled: z.string(), library: z.string() }),
});
export type PackList = z.infer<typeof PackListSchema>;

export const HealthSchema = z.object({
  app: z.object({ version: z.string(), mode: z.enum(['desktop', 'headless']) }),
  onnx: z.object({
    ok: z.boolean(),
    version: z.string(),
    backends: z.array(z.string()),
    /** The tiny model's output, computed for real, and what it should be. */
    check: z.object({ got: z.array(z.number()), want: z.array(z.number()), ms: z.number() }),
    error: z.string().nullable(),
  }),
  sqlite: z.object({
    ok: z.boolean(),
    version: z.string(),
    fts5: z.boolean(),
    journalMode: z.string(),
    error: z.string().nullable(),
  }),
  node: z.object({ version: z.string(), platform: z.string(), arch: z.string() }),
});
export type Health = z.infer<typeof HealthSchema>;

export const ProgressSchema = z.object({
  jobId: JobIdSchema,
  /** What the job is doing now, for a person. */
  stage: z.string(),
  done: z.number().nonnegative(),
  total: z.number().nonnegative(),
});
export type Progress = z.infer<typeof ProgressSchema>;
