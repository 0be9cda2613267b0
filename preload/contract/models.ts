/**
 * Schemas of "Open model…": a Hugging Face decoder-only export (config.json, the tokenizer and
 * an ONNX graph) with SAELens SAE folders and, optionally, a Neuronpedia export of their
 * dashboards. `models.inspect` says what the folders hold and what is wrong with them;
 * `models.open` (a job) writes a library entry that names the folders in place and fills its
 * feature index; `models.addSae` (a job) attaches more SAE folders to such an entry. Pure: zod only.
 */
import { z } from 'zod';
import { IdSchema, JobIdSchema, PathSchema, PackSummarySchema } from './schemas';
export { describeHooks, isOpenedModel, OPENED_MODEL_SOURCE } from './modelNames';

/** The most SAE folders one model is opened with. */
export const MAX_OPEN_SAES = 64;

const folders = {
  /** The model folder (config.json, tokenizer.json, onnx/decoder_model.onnx or model.onnx). */
  dir: PathSchema,
  /** SAELens SAE folders (cfg.json + sae_weights.safetensors), or folders of such folders. */
  saes: z.array(PathSchema).max(MAX_OPEN_SAES).optional(),
  /** A Neuronpedia export of one of the SAEs' dashboards (features/ activations/ explanations/). */
  neuronpedia: PathSchema.optional(),
  /** Texts to index over when there is no export (a JSON-lines file, one {text} per line);
   * default: the texts of the bundled text pack. */
  examples: PathSchema.optional(),
};

export const modelInputs = {
  inspect: z.object(folders).strict(),
  open: z
    .object({
      ...folders,
      /** The name the library entry shows (default: the model folder's name). */
      name: z.string().trim().min(1).max(200).optional(),
      jobId: JobIdSchema.optional(),
    })
    .strict(),
  /** More SAE folders for a model already opened ("Add SAE…"). */
  addSae: z
    .object({
      packId: IdSchema,
      saes: z.array(PathSchema).min(1).max(MAX_OPEN_SAES),
      jobId: JobIdSchema.optional(),
    })
    .strict(),
};

/** A problem with one part, named (tests and the page tell them apart by `code`). */
export const ModelProblemSchema = z.object({
  code: z.enum([
    'hook-not-exposed',
    'd-in-mismatch',
    'bad-sae',
    'no-sae',
    'no-examples',
    'export-unmatched',
    'bad-export',
  ]),
  message: z.string(),
});
export type ModelProblem = z.infer<typeof ModelProblemSchema>;

export const InspectedSaeSchema = z.object({
  /** The SAE folder (the one holding cfg.json). */
  dir: z.string(),
  /** The id the library entry gives it. */
  id: z.string(),
  hook: z.string().nullable(),
  dIn: z.number().int().nullable(),
  dSae: z.number().int().nullable(),
  architecture: z.string().nullable(),
  problem: ModelProblemSchema.nullable(),
});
export type InspectedSae = z.infer<typeof InspectedSaeSchema>;

export const ModelInspectionSchema = z.object({
  dir: z.string(),
  /** config.json's model_type (gpt2, llama, …). */
  architecture: z.string(),
  layers: z.number().int(),
  heads: z.number().int(),
  kvHeads: z.number().int(),
  dModel: z.number().int(),
  dHead: z.number().int(),
  vocab: z.number().int(),
  context: z.number().int(),
  bos: z.number().int().nullable(),
  eos: z.number().int().nullable(),
  /** Files relative to the model folder. */
  config: z.string(),
  tokenizer: z.string(),
  graph: z.string(),
  /** External data files beside the graph (the weights), and their bytes. */
  externalFiles: z.number().int(),
  /** Graph, external data, config and tokenizer together. */
  sizeBytes: z.number().int(),
  /** TransformerLens hook names the graph exposes after rewiring (blocks.N.hook_resid_*). */
  hooks: z.array(z.string()),
  /** Every hook an SAE may read, with its width: the residual stream's (d_model) and each
   * block's attention output before its projection (blocks.N.attn.hook_z, n_heads·d_head). */
  hookWidths: z.record(z.string(), z.number().int()),
  saes: z.array(InspectedSaeSchema),
  neuronpedia: z
    .object({
      dir: z.string(),
      modelId: z.string().nullable(),
      sourceId: z.string().nullable(),
      hook: z.string().nullable(),
      features: z.number().int(),
      /** The SAE its dashboards go to, or null when none matches. */
      saeId: z.string().nullable(),
      problem: ModelProblemSchema.nullable(),
    })
    .nullable(),
  /** What the index is built over when there is no export (a file), or null. */
  examples: z.string().nullable(),
  /** What stops "Open" beside the SAEs' and the export's own problems. */
  problems: z.array(ModelProblemSchema),
  /** True when nothing above stops "Open". */
  ready: z.boolean(),
});
export type ModelInspection = z.infer<typeof ModelInspectionSchema>;

export const OpenedModelSchema = z.object({
  pack: PackSummarySchema,
  /** How the index was filled: imported dashboards (no corpus pass) or a local build. */
  index: z.enum(['neuronpedia', 'built']),
  features: z.number().int(),
});
export type OpenedModel = z.infer<typeof OpenedModelSchema>;

export const AddedSaesSchema = z.object({
  pack: PackSummarySchema,
  /** The SAEs added, as the entry now names them. */
  added: z.array(InspectedSaeSchema),
  /** Features indexed over all the added SAEs. */
  features: z.number().int(),
});
export type AddedSaes = z.infer<typeof AddedSaesSchema>;
