/**
 * SAELens cfg.json → one normalised, typed config. Reads SAELens ≥ 6 names (`architecture`,
 * `hook_name` or `metadata.hook_name`, `k`, string `normalize_activations`) and the older ones
 * (`hook_point`, `activation_fn_str` / `activation_fn` "relu" | "topk",
 * `activation_fn_kwargs.k`, boolean `normalize_activations`). Anything it cannot map exactly
 * (an unknown architecture or activation, a topk without k) is an error naming the file,
 * never a guess.
 */
import { z } from 'zod';

export type SaeArchitecture = 'standard' | 'topk' | 'jumprelu' | 'gated';
export const SAE_ARCHITECTURES: readonly SaeArchitecture[] = [
  'standard',
  'topk',
  'jumprelu',
  'gated',
];

/**
 * How inputs are normalised before encoding (SAELens's `normalize_activations`):
 * - none, expected_average_only_in: identity at inference. SAELens folds the dataset-wide
 *   scaling factor of expected_average_only_in into the weights, and its own forward pass
 *   applies nothing for it; we do the same. An old boolean `true` means this one.
 * - constant_norm_rescale: x · (√d_in / ‖x‖) per row; decode divides by the same factor.
 * - layer_norm: (x − mean) / (std + 1e-5) per row (std unbiased, as torch.std); decode
 *   multiplies by std and adds the mean back.
 */
export type ActivationNorm =
  'none' | 'expected_average_only_in' | 'constant_norm_rescale' | 'layer_norm';

export interface SaeConfig {
  architecture: SaeArchitecture;
  /** Width of the activation the SAE reads (d_model for a residual stream). */
  dIn: number;
  /** Number of features. */
  dSae: number;
  /** Features kept per row; topk only, otherwise null. */
  k: number | null;
  /** TransformerLens hook name, if the cfg names one. */
  hookName: string | null;
  /** Subtract b_dec from the input before encoding (SAELens default true). */
  applyBDecToInput: boolean;
  normalizeActivations: ActivationNorm;
  /**
   * TransformerLens's center_writing_weights (`model_from_pretrained_kwargs`, top level or in
   * `metadata`): the SAE was trained on a residual stream whose every token has mean 0 over
   * d_model, which a Hugging Face model's activations lack; encoding subtracts each row's mean
   * first (Sae.prepareInput).
   */
  centerInput: boolean;
  /** SAELens prepend_bos (default true): the texts it read began with BOS. */
  prependBos: boolean;
  /** SAELens context_size: the longest windows it read, or null when the cfg does not say. */
  contextSize: number | null;
  /**
   * Which naming the cfg used: 'legacy' when it has no `architecture` or uses a pre-6 field
   * (`hook_point`, boolean `normalize_activations`). Informational.
   */
  format: 'current' | 'legacy';
}

/** Largest sizes accepted: bounded so a bad cfg cannot ask for gigabytes of weights. */
export const MAX_D_IN = 65_536;
export const MAX_D_SAE = 1 << 24;
export const MAX_WEIGHTS = 1 << 30;

export class SaeConfigError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'SaeConfigError';
  }
}

const NORM_NAMES = [
  'none',
  'expected_average_only_in',
  'constant_norm_rescale',
  'layer_norm',
] as const;

const Size = z.number().int().positive();

const Kwargs = z
  .object({ center_writing_weights: z.boolean().optional().nullable() })
  .passthrough()
  .optional()
  .nullable();

/** Fields SAELens ≥ 6 keeps under `metadata` and older versions at the top level. */
const Provenance = {
  hook_name: z.string().optional().nullable(),
  prepend_bos: z.boolean().optional().nullable(),
  context_size: Size.optional().nullable(),
  model_from_pretrained_kwargs: Kwargs,
};

const RawConfig = z.object({
  architecture: z.string().optional(),
  d_in: Size.max(MAX_D_IN),
  d_sae: Size.max(MAX_D_SAE),
  k: Size.optional().nullable(),
  activation_fn_str: z.string().optional().nullable(),
  activation_fn: z.string().optional().nullable(),
  activation_fn_kwargs: z.object({ k: Size.optional() }).optional().nullable(),
  ...Provenance,
  hook_point: z.string().optional().nullable(),
  metadata: z.object(Provenance).optional().nullable(),
  meta: z.object(Provenance).optional().nullable(),
  apply_b_dec_to_input: z.boolean().optional().nullable(),
  normalize_activations: z
    .union([z.enum(NORM_NAMES), z.boolean()])
    .optional()
    .nullable(),
  finetuning_scaling_factor: z.boolean().optional().nullable(),
  rescale_acts_by_decoder_norm: z.boolean().optional().nullable(),
});

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Validates and normalises a parsed cfg.json. `file` is used in error messages. */
export function parseSaeConfig(raw: unknown, file: string): SaeConfig {
  const parsed = RawConfig.safeParse(raw);
  if (!parsed.success) throw new SaeConfigError(file, describe(parsed.error));
  const c = parsed.data;
  const fail = (detail: string): never => {
    throw new SaeConfigError(file, detail);
  };

  if (c.d_in * c.d_sae > MAX_WEIGHTS) {
    fail(`d_in × d_sae = ${c.d_in * c.d_sae} weights exceeds the limit of ${MAX_WEIGHTS}`);
  }
  if (c.finetuning_scaling_factor === true) {
    fail('finetuning_scaling_factor is true; SAEs with a fine-tuning scale are not supported');
  }

  if (c.rescale_acts_by_decoder_norm === true) {
    fail(
      'rescale_acts_by_decoder_norm is true; SAEs that rescale codes by decoder norm are not supported',
    );
  }

  const activation = (c.activation_fn_str ?? c.activation_fn ?? 'relu').toLowerCase();
  if (activation !== 'relu' && activation !== 'topk') {
    fail(`unknown activation function "${activation}" (supported: relu, topk)`);
  }
  const declared = c.architecture ?? 'standard';
  let architecture: SaeArchitecture;
  switch (declared) {
    case 'standard':
      // Before SAELens 6, a TopK SAE was architecture "standard" with activation_fn_str "topk".
      architecture = activation === 'topk' ? 'topk' : 'standard';
      break;
    case 'topk':
    case 'jumprelu':
    case 'gated':
      architecture = declared;
      break;
    default:
      return fail(
        `unknown SAE architecture "${declared}" (supported: ${SAE_ARCHITECTURES.join(', ')})`,
      );
  }

  let k: number | null = null;
  if (architecture === 'topk') {
    k = c.k ?? c.activation_fn_kwargs?.k ?? null;
    if (k === null) fail('a topk SAE needs k (cfg "k" or activation_fn_kwargs.k)');
    else if (k > c.d_sae) fail(`k = ${k} is larger than d_sae = ${c.d_sae}`);
  }

  const norm = c.normalize_activations;
  const normalizeActivations: ActivationNorm =
    norm === undefined || norm === null || norm === false
      ? 'none'
      : norm === true
        ? 'expected_average_only_in'
        : norm;

  const hookName =
    c.hook_name ?? c.metadata?.hook_name ?? c.meta?.hook_name ?? c.hook_point ?? null;

  const kwargs =
    c.model_from_pretrained_kwargs ??
    c.metadata?.model_from_pretrained_kwargs ??
    c.meta?.model_from_pretrained_kwargs;
  const prependBos = c.prepend_bos ?? c.metadata?.prepend_bos ?? c.meta?.prepend_bos ?? true;
  const contextSize = c.context_size ?? c.metadata?.context_size ?? c.meta?.context_size ?? null;

  return {
    architecture,
    dIn: c.d_in,
    dSae: c.d_sae,
    k,
    hookName,
    applyBDecToInput: c.apply_b_dec_to_input ?? true,
    normalizeActivations,
    centerInput: kwargs?.center_writing_weights === true,
    prependBos,
    contextSize,
    format:
      c.architecture === undefined ||
      c.hook_point != null ||
      typeof c.normalize_activations === 'boolean'
        ? 'legacy'
        : 'current',
  };
}
