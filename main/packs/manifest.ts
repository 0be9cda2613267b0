/**
 * The pack manifest (models/PACK_FORMAT.md), validated with zod. Paths in a manifest are
 * relative, forward-slashed and never leave the pack folder.
 */
import { z } from 'zod';
import { isAbsolutePackPath } from './packPaths';

export { isAbsolutePackPath, packFile } from './packPaths';

const RelPath = z
  .string()
  .min(1)
  .max(512)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').includes('..'), {
    message: 'must be a relative path inside the pack (no leading /, no .., no backslashes)',
  });

const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and - only');

const Hook = z.string().min(1).max(128);

/**
 * An absolute path. Only a library entry made by "Open model…" (a text-lm manifest whose model
 * is a Hugging Face folder referenced in place, `format: 'hf'`) may name one; a pack that is
 * imported or bundled may not (validatePack refuses it).
 */
const AbsPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => /^(\/|[A-Za-z]:[\\/])/.test(p) && !p.includes('\0'), {
    message: 'must be an absolute path',
  });

/** A path in a manifest: inside the pack, or (library entries only) absolute. */
const PackPath = z.union([RelPath, AbsPath]);

const SaeRef = z.object({ id: z.string().min(1).max(64), hook: Hook, dir: PackPath });

/**
 * text-lm graphs: the model split at the hook, `below` (tokens → hook_resid) and `above`
 * (hook_resid + steering → logits), each with its layers' per-layer KV cache; a pack with SAEs
 * at several hooks (`model.hooks`) adds one `middle` graph between each pair of consecutive
 * hooks (hook_resid + steering → next_hook_resid; textSegments.ts). A plain path is the
 * single-graph layout of older packs: still parsed so that loading it can say what to do
 * (models/recipes/text/reexport.py converts it from the same weights).
 */
export const TextGraphs = z.object({
  below: RelPath,
  middle: z.array(RelPath).min(1).max(63).optional(),
  above: RelPath,
});

/** The block a text-lm hook reads (blocks.<L>.hook_resid_post → L), or null if it names none < n_layers. */
export function textHookLayer(hook: string, nLayers: number): number | null {
  const m = /^blocks\.(\d+)\.hook_resid_post$/.exec(hook);
  const layer = m ? Number(m[1]) : NaN;
  return Number.isInteger(layer) && layer >= 0 && layer < nLayers ? layer : null;
}

/** What every text model tells the engine, whatever its graphs. */
const TextShape = {
  d_model: z.number().int().positive(),
  n_layers: z.number().int().positive(),
  n_heads: z.number().int().positive(),
  d_head: z.number().int().positive(),
  context: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  bos_token_id: z.number().int().nonnegative().optional(),
  eos_token_id: z.number().int().nonnegative().optional(),
};

/**
 * A Hugging Face decoder-only export referenced in place (never copied): `dir` holds
 * config.json, the tokenizer and the ONNX graph (`graph`, relative to `dir`, e.g.
 * onnx/decoder_model.onnx, with any external data beside it). The shape fields are read from
 * config.json when the entry is made. The engine rewires the graph at load (main/onnx): hooks
 * blocks.N.hook_resid_pre/mid/post as outputs and a steering input at each SAE's hook.
 */
export const HfTextModel = z.object({
  format: z.literal('hf'),
  dir: AbsPath,
  graph: RelPath,
  tokenizer: RelPath,
  config: RelPath,
  /** config.json's model_type (gpt2, llama, …). */
  architecture: z.string().min(1).max(64),
  /** Key/value heads (grouped-query attention); n_heads when absent. */
  n_kv_heads: z.number().int().positive().optional(),
  ...TextShape,
});
export type HfTextModel = z.infer<typeof HfTextModel>;

const TextModel = z.object({
  onnx: z.union([TextGraphs, RelPath]),
  tokenizer: RelPath,
  /** The hook `below` ends at (the first of `hooks`). */
  hook: Hook,
  /** Every hook the graphs are split at, in layer order (absent: `hook` alone). */
  hooks: z.array(Hook).min(2).max(64).optional(),
  ...TextShape,
});
export type SplitTextModel = z.infer<typeof TextModel>;

const ImageModel = z.object({
  onnx: z.object({ encoder: RelPath, decoder_head: RelPath, decoder_tail: RelPath }),
  image: z.object({
    size: z.number().int().positive(),
    channels: z.number().int().min(1).max(4),
    range: z.tuple([z.number(), z.number()]),
    background: z.array(z.number()).optional(),
  }),
  latent_dim: z.number().int().positive(),
  spatial: z
    .object({
      hook: Hook,
      channels: z.number().int().positive(),
      height: z.number().int().positive(),
      width: z.number().int().positive(),
    })
    .optional(),
});

const GlyphModel = z.object({
  onnx: z.object({ encoder: RelPath, decoder: RelPath }),
  charset: z.string().min(1),
  glyph: z
    .object({ size: z.number().int().positive(), range: z.tuple([z.number(), z.number()]) })
    .passthrough(),
  style_dim: z.number().int().positive(),
  encoder_chars: z.string().min(1),
});

/** What the feature index reads of the examples, beyond the files. */
const IndexHints = {
  /** The metadata keys whose values labels may name (default: every key with at most 200
   * values). Other keys (identifiers, duplicates) still show on feature cards. */
  label_keys: z.array(z.string().min(1).max(100)).min(1).max(64).optional(),
  /** The examples an index is built over by default (default: the held-out split when it
   * has at least 256 examples, else all). */
  index_split: z.enum(['val', 'all']).optional(),
};
const TextExamples = z.object({ texts: PackPath, ...IndexHints });
const SheetExamples = z.object({
  sheet: RelPath,
  tile: z.number().int().positive(),
  meta: RelPath,
  ...IndexHints,
});

const common = {
  format: z.literal(1),
  id: Id,
  name: z.string().min(1).max(200),
  version: z.string().max(40).default('0.0.0'),
  license: z.string().max(2000),
  source: z.string().max(10000),
  saes: z.array(SaeRef).max(64),
  index: RelPath.optional(),
};

export const ManifestSchema = z.discriminatedUnion('kind', [
  z.object({
    ...common,
    kind: z.literal('text-lm'),
    model: z.union([HfTextModel, TextModel]),
    examples: TextExamples.optional(),
    /** Neuronpedia exports whose dashboards fill this model's index (library entries). */
    neuronpedia: z
      .array(z.object({ sae: z.string().min(1).max(64), dir: PackPath }))
      .max(64)
      .optional(),
  }),
  z.object({
    ...common,
    kind: z.literal('image-vae'),
    model: ImageModel,
    examples: SheetExamples.optional(),
  }),
  z.object({
    ...common,
    kind: z.literal('glyph-cvae'),
    model: GlyphModel,
    examples: SheetExamples.optional(),
  }),
]);

export type Manifest = z.infer<typeof ManifestSchema>;
export type TextManifest = Extract<Manifest, { kind: 'text-lm' }>;

/** A text model that is a Hugging Face folder referenced in place. */
export function isHfModel(model: TextManifest['model']): model is HfTextModel {
  return 'format' in model && model.format === 'hf';
}

/** Every absolute path a manifest names (a bundled or imported pack must name none). */
export function absolutePaths(m: Manifest): string[] {
  const paths: string[] = m.saes.map((s) => s.dir);
  if (m.kind === 'text-lm') {
    if (isHfModel(m.model)) paths.push(m.model.dir);
    if (m.examples) paths.push(m.examples.texts);
    for (const n of m.neuronpedia ?? []) paths.push(n.dir);
  }
  return paths.filter(isAbsolutePackPath);
}

/**
 * Every file the manifest names, relative to the pack folder or absolute (library entries; SAE
 * folders get their cfg and weights). Resolve each with packFile.
 */
export function namedFiles(m: Manifest): string[] {
  const files: string[] = [];
  if (m.kind === 'text-lm') {
    const t = m.model;
    if (isHfModel(t)) {
      const inDir = (rel: string): string => `${t.dir.replace(/[\\/]+$/, '')}/${rel}`;
      files.push(inDir(t.graph), inDir(t.tokenizer), inDir(t.config));
    } else {
      const g = t.onnx;
      files.push(
        ...(typeof g === 'string' ? [g] : [g.below, ...(g.middle ?? []), g.above]),
        t.tokenizer,
      );
    }
    if (m.examples) files.push(m.examples.texts);
  } else if (m.kind === 'image-vae') {
    files.push(m.model.onnx.encoder, m.model.onnx.decoder_head, m.model.onnx.decoder_tail);
    if (m.examples) files.push(m.examples.sheet, m.examples.meta);
  } else {
    files.push(m.model.onnx.encoder, m.model.onnx.decoder);
    if (m.examples) files.push(m.examples.sheet, m.examples.meta);
  }
  for (const sae of m.saes) {
    files.push(`${sae.dir}/cfg.json`, `${sae.dir}/sae_weights.safetensors`);
  }
  return files;
}

/** Turns a zod error into one sentence naming the field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
