/**
 * Proposed calls of the feature index (main/index), for the lead to merge into api.ts:
 * inputs and outputs as zod schemas, in the same shape as `calls` there. Pure: zod only.
 *
 * index.positions returns the galaxy's points as base64 of packed little-endian typed
 * arrays (Float32 xyz, Uint32 idx and cluster, Float32 density), never JSON per point:
 * 100k features are 2.4 MB of base64, above limits.messageLength (1M characters) today:
 * raise it for this call, or send the four buffers as one binary frame / transferable.
 */
import { z } from 'zod';
import { limits } from './limits';
import { IdSchema, JobIdSchema, PathSchema } from './schemas';

const Base64 = z
  .string()
  .max(40_000_000)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

export const LabelSourceSchema = z.enum([
  'metadata',
  'top-tokens',
  'top-examples',
  'user',
  'neuronpedia',
]);
export type LabelSourceName = z.infer<typeof LabelSourceSchema>;

const FeatureIndex = z.number().int().nonnegative().max(10_000_000);

export const indexInputs = {
  /** Build (or resume) the index of a pack's SAEs; reports job.progress (stage, done, total). */
  build: z
    .object({
      packId: IdSchema,
      saeId: IdSchema.optional(),
      split: z.enum(['auto', 'val', 'all']).default('auto'),
      jobId: JobIdSchema.optional(),
    })
    .strict(),
  status: z.object({ packId: IdSchema }).strict(),
  search: z
    .object({
      packId: IdSchema,
      saeId: IdSchema,
      text: z.string().max(limits.queryLength).default(''),
      densityMin: z.number().min(0).max(1).optional(),
      densityMax: z.number().min(0).max(1).optional(),
      cluster: z.number().int().nonnegative().optional(),
      hasLabel: z.boolean().optional(),
      labelSources: z.array(LabelSourceSchema).max(5).optional(),
      limit: z.number().int().min(1).max(1000).default(50),
      offset: z.number().int().nonnegative().max(10_000_000).default(0),
    })
    .strict(),
  positions: z.object({ packId: IdSchema, saeId: IdSchema }).strict(),
  clusters: z.object({ packId: IdSchema, saeId: IdSchema }).strict(),
  feature: z.object({ packId: IdSchema, saeId: IdSchema, feature: FeatureIndex }).strict(),
  exampleThumb: z.object({ packId: IdSchema, example: z.number().int().nonnegative() }).strict(),
  rename: z
    .object({
      packId: IdSchema,
      saeId: IdSchema,
      feature: FeatureIndex,
      /** null or '' restores the automatic label */
      label: z.string().max(200).nullable(),
    })
    .strict(),
  notes: z
    .object({
      packId: IdSchema,
      saeId: IdSchema,
      feature: FeatureIndex,
      notes: z.string().max(20_000).nullable(),
    })
    .strict(),
  importNeuronpedia: z
    .object({
      packId: IdSchema,
      saeId: IdSchema,
      file: PathSchema,
      modelId: z.string().max(200).optional(),
      layer: z.string().max(200).optional(),
      jobId: JobIdSchema.optional(),
    })
    .strict(),
};

export const IndexStatusSchema = z.object({
  saes: z.array(
    z.object({
      saeId: z.string(),
      hook: z.string(),
      kind: z.string(),
      dSae: z.number().int(),
      nExamples: z.number().int(),
      nPositions: z.number().int(),
      builtAt: z.string().nullable(),
      /** examples | activations | features | logit-lens | map | done; null = never built */
      stage: z.string().nullable(),
      chunksDone: z.number().int(),
      chunksTotal: z.number().int(),
    }),
  ),
});

export const BuildSummarySchema = z.object({
  saeId: z.string(),
  resumedFromChunk: z.number().int(),
  chunks: z.number().int(),
  examples: z.number().int(),
  positions: z.number().int(),
  features: z.number().int(),
  alive: z.number().int(),
  labels: z.record(z.string(), z.number().int()),
  activationSeconds: z.number(),
  examplesPerSecond: z.number(),
  seconds: z.number(),
});

export const SearchHitSchema = z.object({
  idx: z.number().int(),
  label: z.string().nullable(),
  labelSource: LabelSourceSchema.nullable(),
  density: z.number(),
  maxAct: z.number(),
  cluster: z.number().int().nullable(),
  score: z.number().nullable(),
});

export const PositionsSchema = z.object({
  saeId: z.string(),
  count: z.number().int(),
  /** Uint32 [count] feature index of each point */
  idx: Base64,
  /** Float32 [count, 3] */
  xyz: Base64,
  /** Uint32 [count] */
  cluster: Base64,
  /** Float32 [count] */
  density: Base64,
});

export const ClusterSchema = z.object({
  id: z.number().int(),
  label: z.string(),
  size: z.number().int(),
  centroid: z.tuple([z.number(), z.number(), z.number()]),
});

const LensToken = z.object({ token: z.string(), logit: z.number() });

export const FeatureCardSchema = z.object({
  saeId: z.string(),
  idx: z.number().int(),
  label: z.string().nullable(),
  labelSource: LabelSourceSchema.nullable(),
  autoLabel: z.string().nullable(),
  autoSource: z.string().nullable(),
  description: z.string().nullable(),
  notes: z.string().nullable(),
  topTokens: z.array(z.string()),
  density: z.number(),
  nActive: z.number().int(),
  maxAct: z.number(),
  meanAct: z.number(),
  histogram: z.object({
    counts: z.array(z.number().int()),
    low: z.number().int(),
    perOctave: z.number().int(),
  }),
  position: z.tuple([z.number(), z.number(), z.number()]).nullable(),
  cluster: z.object({ id: z.number().int(), label: z.string() }).nullable(),
  topExamples: z.array(
    z.object({
      rank: z.number().int(),
      exampleId: z.number().int(),
      name: z.string(),
      meta: z.record(z.string(), z.string()),
      activation: z.number(),
      position: z.number().int(),
      /** text: {tokens, acts, start, focus}; spatial: {grid: [h, w], acts}; else {} */
      window: z.unknown(),
    }),
  ),
  logitLens: z.object({ top: z.array(LensToken), bottom: z.array(LensToken) }).nullable(),
  nearest: z.array(
    z.object({ idx: z.number().int(), cosine: z.number(), label: z.string().nullable() }),
  ),
  associations: z.array(
    z.object({
      key: z.string(),
      value: z.string(),
      auc: z.number(),
      precisionTop: z.number(),
      nPositive: z.number().int(),
    }),
  ),
});

export const indexOutputs = {
  build: z.object({ summaries: z.array(BuildSummarySchema) }),
  status: IndexStatusSchema,
  search: z.object({ hits: z.array(SearchHitSchema) }),
  positions: PositionsSchema.nullable(),
  clusters: z.object({ clusters: z.array(ClusterSchema) }),
  feature: FeatureCardSchema.nullable(),
  exampleThumb: z.object({ png: Base64.nullable() }),
  rename: FeatureCardSchema.nullable(),
  notes: FeatureCardSchema.nullable(),
  importNeuronpedia: z.object({
    imported: z.number().int(),
    skipped: z.number().int(),
    problems: z.array(z.string()),
  }),
};

/** Suggested entries for `calls` in api.ts: [input, output, doc, long]. */
export const indexCallDocs = {
  'index.build':
    'Build or resume the feature index of a pack (all SAEs or one); progress events; cancellable.',
  'index.status': 'Which SAEs of a pack are indexed, and how far each build got.',
  'index.search':
    'Full-text search (prefix, bm25) over labels, notes, descriptions and top tokens, with filters.',
  'index.positions': "The galaxy's points as packed typed arrays (base64): xyz, cluster, density.",
  'index.clusters': 'The clusters of the map with their labels, sizes and centroids.',
  'index.feature':
    "One feature's card: label and source, stats, histogram, top examples, logit lens, nearest.",
  'index.exampleThumb': 'The PNG thumbnail of an example (image and typeface packs).',
  'index.rename': 'Rename a feature (null restores the automatic label); kept across rebuilds.',
  'index.notes': "Set a feature's notes (searchable); kept across rebuilds.",
  'index.importNeuronpedia': 'Import labels from a Neuronpedia explanations export (jsonl).',
} as const;
