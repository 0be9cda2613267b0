/**
 * Schemas of the inference calls: dials, sampling, inputs and outputs for text, image and
 * typeface packs. Images cross the API as raw RGBA bytes.
 */
import { z } from 'zod';
import { bytesSchema } from './binarySchemas';
import { CarriedSchema } from './carry';
import { BlobHashSchema, IdSchema, JobIdSchema } from './schemas';

/** One member of a composite dial: a feature and its weight in the mix. */
export const CompositeMemberSchema = z
  .object({
    feature: z.number().int().nonnegative().max(10_000_000),
    weight: z.number().finite().min(-1e6).max(1e6),
  })
  .strict();
export type CompositeMember = z.infer<typeof CompositeMemberSchema>;

export const DialSchema = z
  .object({
    /** The SAE (by its id in the pack manifest) the feature belongs to. */
    saeId: IdSchema,
    feature: z.number().int().nonnegative().max(10_000_000),
    method: z.enum(['add', 'pin', 'scale']),
    /** Activation units for add and pin; a factor for scale. Finite, and not absurd. */
    value: z.number().finite().min(-1e6).max(1e6),
    /** Optional feature scale (max activation from the index), used to reject absurd values. */
    maxActivation: z.number().finite().positive().nullable().optional(),
    /** The dial's name as the person saw it (the feature's label); kept with steps and presets. */
    label: z.string().max(200).optional(),
    /**
     * A composite dial (add only): it moves along the weighted sum of these features' decoder
     * directions (main/sae/composite.ts) instead of `feature`'s own; `feature` names it.
     */
    members: z.array(CompositeMemberSchema).min(1).max(4096).optional(),
  })
  .strict();
export type DialInput = z.infer<typeof DialSchema>;

export const DialsSchema = z.array(DialSchema).max(256);

export const SamplingSchema = z
  .object({
    maxTokens: z.number().int().min(1).max(512).default(48),
    /** 0 = greedy. */
    temperature: z.number().finite().min(0).max(5).default(0),
    topK: z.number().int().min(0).max(100_000).default(0),
    topP: z.number().finite().gt(0).max(1).default(1),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
  })
  .strict();
export type Sampling = z.infer<typeof SamplingSchema>;

/** [H × W] positions of a spatial map, 1 where a dial applies (a painted region). */
export const MaskSchema = z.array(z.number().min(0).max(1)).max(65_536);

/** A person's own file, uploaded once with `blobs.put` and named by its hash. */
const BlobSourceSchema = z
  .object({ blob: BlobHashSchema, name: z.string().max(512).optional() })
  .strict();

/** A pack example, or a person's image (PNG, JPEG or WebP) uploaded with `blobs.put`. */
export const ImageSourceSchema = z.union([
  z.object({ example: z.number().int().nonnegative() }).strict(),
  BlobSourceSchema,
]);

/** A pack face, or a person's font (TTF, OTF or WOFF) uploaded with `blobs.put`. */
export const StyleSourceSchema = z.union([
  z.object({ example: z.number().int().nonnegative() }).strict(),
  BlobSourceSchema,
]);

export const TextRunSchema = z.object({
  text: z.string(),
  tokens: z.array(z.string()),
  tokenIds: z.array(z.number().int()),
});

export const TextGenerateOutput = z.object({
  before: TextRunSchema,
  after: TextRunSchema,
  promptTokens: z.array(z.string()),
  ms: z.number(),
  batched: z.boolean(),
});

export const ActiveFeatureSchema = z.object({ feature: z.number().int(), value: z.number() });

export const ActiveOutput = z.object({
  /** One row per token (text) or per spatial position / the single latent (images). */
  rows: z.array(z.object({ label: z.string(), features: z.array(ActiveFeatureSchema) })),
  /** Per feature, its strongest activation over all rows (for lighting up the galaxy). */
  strongest: z.array(ActiveFeatureSchema),
});

export const ImageMetricsSchema = z.object({
  /** Mean absolute difference over RGB, 0–255. */
  meanAbs: z.number(),
  /** Share of pixels pixelmatch (threshold 0.05) calls different, 0–1. */
  changedShare: z.number(),
  /** Mean SSIM as ssim.js computes it by default; 1 = the same. Over the 11 × 11 windows
   * that hold ink in either image when `ssimOver` is 'ink' (lines of letters). */
  ssim: z.number(),
  ssimOver: z.enum(['image', 'ink']).optional(),
});
export type ImageMetrics = z.infer<typeof ImageMetricsSchema>;

/**
 * Before and after as raw pixels ([height, width, 4] RGBA, 8-bit, row-major; bytes on the
 * wire, never base64), with the metrics and heatmap the inference worker computed from them.
 */
export const ImageOutput = z.object({
  before: bytesSchema,
  after: bytesSchema,
  /** [height, width, 4] RGBA: where after differs from before. */
  heatmap: bytesSchema,
  metrics: ImageMetricsSchema,
  /** False when no dial is off rest: after is before. */
  changed: z.boolean(),
  width: z.number().int(),
  height: z.number().int(),
  ms: z.number(),
});

/** The text packs' default prompt: the app's first input, the effect strip's and the text
 * calibration's prompt. */
export const DEFAULT_TEXT_PROMPT = 'The Lord said unto';

/** The strengths of a card's effect strip, in multiples of the feature's typical activation. */
export const STRIP_MULTIPLES = [-2, 0, 1, 2, 4] as const;

/**
 * A feature's effect strip: the input at each of STRIP_MULTIPLES × its typical activation
 * (the app's `add`), as small pictures (raw RGBA, with SSIM to the 0× frame) or, for text, the
 * greedy continuation with the tokens that differ from the 0× one marked.
 */
export const EffectStripOutput = z.object({
  frames: z.array(
    z.object({
      multiple: z.number(),
      /** the add strength, activation units */
      value: z.number(),
      image: z
        .object({
          /** [height, width, 4] RGBA */
          rgba: bytesSchema,
          width: z.number().int(),
          height: z.number().int(),
          ssim: z.number(),
        })
        .nullable(),
      text: z
        .object({
          tokens: z.array(z.string()),
          /** per token: differs from the 0× continuation at the same place */
          changed: z.array(z.boolean()),
        })
        .nullable(),
    }),
  ),
  /** answered from the cache (the same feature, strength and input asked before) */
  cached: z.boolean(),
});

export const RuntimeInfoSchema = z.object({
  packId: z.string(),
  kind: z.enum(['text-lm', 'image-vae', 'glyph-cvae']),
  saes: z.array(
    z.object({
      id: z.string(),
      hook: z.string(),
      dIn: z.number().int(),
      dSae: z.number().int(),
      architecture: z.string(),
    }),
  ),
  examples: z
    .array(
      z.object({
        index: z.number().int(),
        name: z.string(),
        meta: z.record(z.string(), z.unknown()),
      }),
    )
    .max(10_000),
  charset: z.string().nullable(),
  loadMs: z.number(),
  /** What a person should know about this model once (a jumprelu SAE with negative thresholds). */
  warnings: z.array(z.string().max(1000)).max(64).optional(),
});
export type RuntimeInfo = z.infer<typeof RuntimeInfoSchema>;

export const runtimeInputs = {
  open: z.object({ packId: IdSchema }).strict(),
  textGenerate: z
    .object({
      packId: IdSchema,
      prompt: z.string().max(20_000),
      dials: DialsSchema.default([]),
      sampling: SamplingSchema.default({
        maxTokens: 48,
        temperature: 0,
        topK: 0,
        topP: 1,
        seed: 0,
      }),
      jobId: JobIdSchema.optional(),
      sessionId: IdSchema.optional(),
      /** Runs of one gesture (a dial drag) carry its id: the session keeps them as one step. */
      gestureId: IdSchema.optional(),
      /** Dials carried across a bridge (bridge.carry): the step keeps the mapping and scores. */
      carried: CarriedSchema.optional(),
    })
    .strict(),
  textActive: z
    .object({
      packId: IdSchema,
      saeId: IdSchema,
      prompt: z.string().max(20_000),
      topK: z.number().int().min(1).max(64).default(8),
    })
    .strict(),
  imageSteer: z
    .object({
      packId: IdSchema,
      source: ImageSourceSchema,
      dials: DialsSchema.default([]),
      /** For dials on a spatial hook: where they apply (H × W, row-major); absent = everywhere. */
      mask: MaskSchema.nullable().optional(),
      jobId: JobIdSchema.optional(),
      sessionId: IdSchema.optional(),
      /** Runs of one gesture (a dial drag) carry its id: the session keeps them as one step. */
      gestureId: IdSchema.optional(),
      /** Dials carried across a bridge (bridge.carry): the step keeps the mapping and scores. */
      carried: CarriedSchema.optional(),
    })
    .strict(),
  imageActive: z
    .object({
      packId: IdSchema,
      saeId: IdSchema,
      source: ImageSourceSchema,
      topK: z.number().int().min(1).max(64).default(8),
    })
    .strict(),
  glyphSpecimen: z
    .object({
      packId: IdSchema,
      source: StyleSourceSchema,
      text: z.string().min(1).max(64),
      dials: DialsSchema.default([]),
      jobId: JobIdSchema.optional(),
      sessionId: IdSchema.optional(),
      /** Runs of one gesture (a dial drag) carry its id: the session keeps them as one step. */
      gestureId: IdSchema.optional(),
      /** Dials carried across a bridge (bridge.carry): the step keeps the mapping and scores. */
      carried: CarriedSchema.optional(),
    })
    .strict(),
};

export const effectStripInput = z
  .object({
    packId: IdSchema,
    saeId: IdSchema,
    feature: z.number().int().nonnegative().max(10_000_000),
    /** the feature's typical activation (its card's calibration or mean activation): 1× */
    typical: z.number().finite().positive().max(1e6),
    /** the calibrated limit (add strength), when known: one more frame at it, after +4× */
    limit: z.number().finite().positive().max(1e6).optional(),
    /** image and typeface packs: the picture / face (default: example 0) */
    source: ImageSourceSchema.optional(),
    /** typeface packs: the specimen text (default "Orrery") */
    text: z.string().min(1).max(64).optional(),
    /** text packs: the prompt (default DEFAULT_TEXT_PROMPT) */
    prompt: z.string().min(1).max(2000).optional(),
    /** text packs: tokens generated per strength (greedy) */
    maxTokens: z.number().int().min(1).max(64).default(16),
  })
  .strict();

export const TextTokenEventSchema = z.object({
  jobId: JobIdSchema,
  row: z.enum(['before', 'after']),
  index: z.number().int(),
  tokenId: z.number().int(),
  text: z.string(),
});
export type TextTokenEvent = z.infer<typeof TextTokenEventSchema>;
