/**
 * Schemas of the feature-index calls: build, map (positions as typed arrays, sent as bytes),
 * search, feature cards, renames and notes.
 */
import { z } from 'zod';
import { IdSchema, JobIdSchema, PathSchema } from './schemas';
import { limits } from './limits';

const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

export const LabelSourceSchema = z.enum([
  'metadata',
  'top-tokens',
  'top-examples',
  'visual',
  'user',
  'neuronpedia',
  'none',
]);

/** The most features one index.titles call may name (a list's rows, not a whole SAE). */
export const TITLES_MAX = 1000;

const FeatureRef = {
  packId: IdSchema,
  saeId: IdSchema,
  /**
   * A folder of the person's own examples (texts, images or fonts) whose index to use instead
   * of the pack's own; each corpus has its own index file.
   */
  corpus: PathSchema.optional(),
};

export const featureInputs = {
  corpora: z.object({ packId: IdSchema }).strict(),
  status: z.object(FeatureRef).strict(),
  build: z.object({ ...FeatureRef, jobId: JobIdSchema.optional() }).strict(),
  map: z.object(FeatureRef).strict(),
  search: z
    .object({
      ...FeatureRef,
      query: z.string().max(limits.queryLength),
      limit: z.number().int().min(1).max(500).default(50),
      minDensity: z.number().min(0).max(1).optional(),
      maxDensity: z.number().min(0).max(1).optional(),
      cluster: z.number().int().nonnegative().optional(),
      labelSource: LabelSourceSchema.optional(),
    })
    .strict(),
  feature: z.object({ ...FeatureRef, feature: z.number().int().nonnegative() }).strict(),
  titles: z
    .object({
      ...FeatureRef,
      features: z.array(z.number().int().nonnegative()).max(TITLES_MAX),
    })
    .strict(),
  rename: z
    .object({
      ...FeatureRef,
      feature: z.number().int().nonnegative(),
      label: z.string().max(200).optional(),
      notes: z.string().max(10_000).optional(),
    })
    .strict(),
  importLabels: z
    .object({
      ...FeatureRef,
      /** A Neuronpedia explanations export: JSON lines (gzipped or not) or a JSON array. */
      from: PathSchema,
      /** Keep only records of this model / SAE ("gpt2-small", "6-res-jb"); all when absent. */
      modelId: z.string().trim().min(1).max(200).optional(),
      layer: z.string().trim().min(1).max(200).optional(),
      jobId: JobIdSchema.optional(),
    })
    .strict(),
  /** Neuronpedia dashboards into the index of an SAE (an SAE the index lacks is made). */
  importDashboards: z
    .object({
      ...FeatureRef,
      /** An export folder (features/, activations/, explanations/batch-N.jsonl.gz) or one
       * feature's JSON as Neuronpedia's API returns it. */
      from: PathSchema,
      /** Keep only rows of this Neuronpedia model / source ("gpt2-small", "6-res-jb"). */
      modelId: z.string().trim().min(1).max(200).optional(),
      sourceId: z.string().trim().min(1).max(200).optional(),
      jobId: JobIdSchema.optional(),
    })
    .strict(),
  /** Features (a selection, or all) as a Neuronpedia export folder, zipped. */
  exportNeuronpedia: z
    .object({
      ...FeatureRef,
      features: z.array(z.number().int().nonnegative()).min(1).max(1_000_000).optional(),
      /** Ids to write (default: the imported ones, else "orrery" and the SAE id). */
      modelId: z.string().trim().min(1).max(200).optional(),
      sourceId: z.string().trim().min(1).max(200).optional(),
      jobId: JobIdSchema.optional(),
    })
    .strict(),
  /** The galaxy as CSV (x, y, z, index, title, cluster, density). */
  exportMap: z.object(FeatureRef).strict(),
};

export const DashboardImportReportSchema = z.object({
  saeId: z.string(),
  modelId: z.string(),
  sourceId: z.string(),
  features: z.number().int(),
  activations: z.number().int(),
  explanations: z.number().int(),
  /** Whether the galaxy now shows the export's UMAP (else the map stays the build's). */
  umap: z.boolean(),
  skipped: z.number().int(),
  /** The first few problems, "features/batch-0.jsonl.gz line 7: not JSON". */
  problems: z.array(z.string()),
});

export const ImportLabelsReportSchema = z.object({
  imported: z.number().int(),
  skipped: z.number().int(),
  /** The first few problems, "line 7: not JSON". */
  problems: z.array(z.string()),
});

export const IndexStatusSchema = z.object({
  built: z.boolean(),
  features: z.number().int(),
  examples: z.number().int(),
  file: z.string(),
  /** After a build over a folder: files that could not be used, "file: why" (the first 20). */
  skipped: z.array(z.string()).optional(),
});

export const CorporaSchema = z.object({
  corpora: z.array(
    z.object({
      /** The folder, as given when its index was first built. */
      path: z.string(),
      /** SAEs with a finished build over it. */
      built: z.array(z.string()),
    }),
  ),
});

const typedArray = <T>(ctor: abstract new (...args: never[]) => unknown, name: string) =>
  z.custom<T>((v) => v instanceof ctor, `must be a ${name}`);

/**
 * The galaxy's points as typed arrays: bytes on the wire (binary frames), never base64, and
 * compact (mapWire.ts: decodeMapArrays gives the float positions the galaxy uses).
 */
export const FeatureMapSchema = z.object({
  count: z.number().int(),
  /** [count]: the feature index of each point (dead features may be left out); null when point i is feature i. */
  features: typedArray<Uint32Array<ArrayBufferLike>>(Uint32Array, 'Uint32Array').nullable(),
  /** [count × 3] xyz quantised to 16 bits per axis against `box` (mapWire.ts). */
  positions: typedArray<Uint16Array<ArrayBufferLike>>(Uint16Array, 'Uint16Array'),
  box: z.object({
    min: z.tuple([z.number(), z.number(), z.number()]),
    step: z.tuple([z.number(), z.number(), z.number()]),
  }),
  /** Radius of the sphere around the box's centre that holds every (quantised) point (mapWire.ts). */
  radius: z.number(),
  /** [count]: fraction of examples (tokens, images) on which the feature fires, 16-bit log₂ levels of `densityScale` (mapWire.ts). */
  density: typedArray<Uint16Array<ArrayBufferLike>>(Uint16Array, 'Uint16Array'),
  densityScale: z.object({ min: z.number(), step: z.number() }),
  /** [count]: cluster id; 8 or 16 bits with all ones for none when every id fits, else i32 with −1 for none. */
  cluster: z.union([
    typedArray<Uint8Array<ArrayBufferLike>>(Uint8Array, 'Uint8Array'),
    typedArray<Uint16Array<ArrayBufferLike>>(Uint16Array, 'Uint16Array'),
    typedArray<Int32Array<ArrayBufferLike>>(Int32Array, 'Int32Array'),
  ]),
  clusters: z.array(
    z.object({
      id: z.number().int(),
      label: z.string(),
      size: z.number().int(),
      x: z.number(),
      y: z.number(),
      z: z.number(),
    }),
  ),
});

export const SearchHitSchema = z.object({
  feature: z.number().int(),
  label: z.string(),
  labelSource: LabelSourceSchema,
  density: z.number(),
  cluster: z.number().int(),
  score: z.number(),
  /** Why it matched, in words ("its measured effect: redder (a synonym of crimson)"). */
  why: z.string().optional(),
});

/** What a list shows of a feature without its card: its label and its effect in brief. */
export const FeatureTitleSchema = z.object({
  feature: z.number().int(),
  label: z.string(),
  /** the colour it moves toward (image packs), if the index measured one */
  swatch: z.object({ hex: z.string(), name: z.string() }).nullable(),
  /** what turning it up does, in words (the card's effect words; none if not measured) */
  words: z.array(z.string()),
});

export const FeatureCardSchema = z.object({
  feature: z.number().int(),
  label: z.string(),
  labelSource: LabelSourceSchema,
  /** Why the label says what it says: a one-line description in words ("" when none). */
  labelWhy: z.string(),
  /** What the automatic label rests on: the label rule's finding as stored (key=value, AUC,
   * chance; top tokens; top examples), and which evidence named it. */
  evidence: z
    .object({ label: z.string(), source: z.string(), detail: z.string() })
    .nullable()
    .optional(),
  /** What turning it up does (image and typeface packs), measured at index time. */
  effect: z
    .object({
      facts: z.array(z.string()),
      words: z.array(z.string()),
      /** the colour it moves toward / the changed region's colour, as a swatch */
      swatch: z.object({ hex: z.string(), name: z.string() }).nullable(),
      multiple: z.number(),
      ssim: z.number(),
    })
    .nullable()
    .optional(),
  /** The dial's calibrated range (add, activation units): 1× = typical, limit = where SSIM to
   * before reaches `level`. */
  calibration: z
    .object({
      typical: z.number(),
      limit: z.number(),
      level: z.number(),
      reached: z.boolean(),
      /** what `level` measures: SSIM to before (pictures, the default), SSIM over the windows
       * of a line of letters that hold ink (typeface packs), or the share of greedy tokens
       * changed from the default prompt (text) */
      measure: z.enum(['ssim', 'ink-ssim', 'changed-tokens']).optional(),
    })
    .nullable()
    .optional(),
  notes: z.string(),
  density: z.number(),
  maxActivation: z.number(),
  meanActivation: z.number(),
  /** Counts per log-spaced bin: bin b covers [2^((b + low) / perOctave), 2^((b + 1 + low) / perOctave)). */
  histogram: z.object({ counts: z.array(z.number()), low: z.number(), perOctave: z.number() }),
  /** An imported Neuronpedia histogram as it was exported: bar centres (activation values) and
   * how many tokens fell in each bar (histogram above holds the same counts re-binned). */
  histogramBars: z
    .object({ values: z.array(z.number()), heights: z.array(z.number()) })
    .nullable()
    .optional(),
  /** Explanations imported from Neuronpedia, first (the label) first, each with the model that
   * wrote it ("gpt-4o-mini") and its method ("oai_token-act-pair"). */
  explanations: z
    .array(
      z.object({
        description: z.string(),
        explainer: z.string().nullable(),
        method: z.string().nullable(),
      }),
    )
    .optional(),
  /** The feature's Neuronpedia id (modelId/sourceId/index) when its dashboard was imported. */
  neuronpedia: z
    .object({ modelId: z.string(), sourceId: z.string(), index: z.number().int() })
    .nullable()
    .optional(),
  topTokens: z.array(z.string()),
  /** relation: the card's title names what the badge names ('names'), the badge names
   * something this feature's evidence does not hold ('other': shown as the cluster's, "not
   * this one"), or the badge is mixed and claims nothing ('mixed'). */
  cluster: z
    .object({
      id: z.number().int(),
      label: z.string(),
      relation: z.enum(['names', 'other', 'mixed']).optional(),
    })
    .nullable(),
  topExamples: z.array(
    z.object({
      activation: z.number(),
      name: z.string(),
      /** Text: the token window and each token's activation. */
      tokens: z.array(z.string()).optional(),
      activations: z.array(z.number()).optional(),
      /** Images: a PNG thumbnail. */
      thumbnailPng: Base64.optional(),
    }),
  ),
  logitLens: z
    .object({
      top: z.array(z.object({ token: z.string(), value: z.number() })),
      bottom: z.array(z.object({ token: z.string(), value: z.number() })),
    })
    .nullable(),
  nearest: z.array(z.object({ feature: z.number().int(), label: z.string(), cosine: z.number() })),
  /** Metadata values, strongest evidence first: `share` of the top examples that carry the
   * value, `log10Chance` of that share by chance (hypergeometric), and the AUC. */
  associations: z.array(
    z.object({
      key: z.string(),
      value: z.string(),
      auc: z.number(),
      share: z.number(),
      log10Chance: z.number(),
    }),
  ),
});
export type FeatureCard = z.infer<typeof FeatureCardSchema>;
export type FeatureTitle = z.infer<typeof FeatureTitleSchema>;
export type ImportLabelsReport = z.infer<typeof ImportLabelsReportSchema>;
