/**
 * A Hugging Face model folder's config.json, read into the shape a text-lm manifest records
 * (main/packs/manifest.ts HfTextModel): GPT-2 family names (n_layer, n_head, n_embd,
 * n_positions / n_ctx) and Llama family names (num_hidden_layers, num_attention_heads,
 * num_key_value_heads, hidden_size, head_dim, max_position_embeddings), vocab_size and the
 * BOS/EOS ids (an id list takes its first). Used by "Open model…" when it makes a library
 * entry and by the HF engine when it loads one. Anything missing or inconsistent is an
 * OrreryError('bad_pack') naming the file and the field.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { OrreryError } from '../../../preload/contract/result';

export const HF_CONFIG_FILE = 'config.json';
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** What config.json says about the model, in the manifest's field names. */
export interface HfConfig {
  /** model_type: gpt2, llama, … */
  architecture: string;
  d_model: number;
  n_layers: number;
  n_heads: number;
  /** Key/value heads (grouped-query attention); n_heads when the config names none. */
  n_kv_heads: number;
  d_head: number;
  /** Positions the model was trained for. */
  context: number;
  vocab_size: number;
  bos_token_id?: number;
  eos_token_id?: number;
}

const Count = z.number().int().positive();
const TokenId = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]);

const RawConfig = z
  .object({
    model_type: z.string().min(1).max(64).optional(),
    architectures: z.array(z.string()).optional().nullable(),
    n_layer: Count.optional(),
    num_hidden_layers: Count.optional(),
    n_head: Count.optional(),
    num_attention_heads: Count.optional(),
    num_key_value_heads: Count.optional().nullable(),
    n_embd: Count.optional(),
    hidden_size: Count.optional(),
    head_dim: Count.optional().nullable(),
    n_positions: Count.optional(),
    n_ctx: Count.optional(),
    max_position_embeddings: Count.optional(),
    vocab_size: Count.optional(),
    bos_token_id: TokenId.optional().nullable(),
    eos_token_id: TokenId.optional().nullable(),
  })
  .passthrough();

/** Reads `<dir>/config.json`. */
export async function readHfConfig(dir: string): Promise<HfConfig> {
  const file = path.join(dir, HF_CONFIG_FILE);
  let text: string;
  try {
    const st = await fs.stat(file);
    if (st.size > MAX_CONFIG_BYTES) {
      throw new OrreryError('bad_pack', `${file} is ${st.size} bytes; a config is at most 4 MB`);
    }
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof OrreryError) throw e;
    throw new OrreryError('bad_pack', `${file} cannot be read (${(e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new OrreryError('bad_pack', `${file} is not JSON (${(e as Error).message})`);
  }
  return parseHfConfig(raw, file);
}

/** A parsed config.json → HfConfig; `file` names it in errors. */
export function parseHfConfig(raw: unknown, file: string): HfConfig {
  const parsed = RawConfig.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new OrreryError(
      'bad_pack',
      `${file}: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'not a model config'}`,
    );
  }
  const c = parsed.data;
  const need = (value: number | undefined, names: string): number => {
    if (value === undefined) {
      throw new OrreryError(
        'bad_pack',
        `${file} has no ${names}: it does not look like a decoder-only language model's config`,
      );
    }
    return value;
  };
  const dModel = need(c.n_embd ?? c.hidden_size, 'n_embd or hidden_size');
  const nLayers = need(c.n_layer ?? c.num_hidden_layers, 'n_layer or num_hidden_layers');
  const nHeads = need(c.n_head ?? c.num_attention_heads, 'n_head or num_attention_heads');
  const context = need(
    c.n_positions ?? c.max_position_embeddings ?? c.n_ctx,
    'n_positions or max_position_embeddings',
  );
  const vocab = need(c.vocab_size, 'vocab_size');
  const nKv = c.num_key_value_heads ?? nHeads;
  if (nHeads % nKv !== 0) {
    throw new OrreryError(
      'bad_pack',
      `${file}: num_key_value_heads ${nKv} does not divide the ${nHeads} attention heads`,
    );
  }
  const dHead = c.head_dim ?? dModel / nHeads;
  if (!Number.isInteger(dHead)) {
    throw new OrreryError(
      'bad_pack',
      `${file}: hidden size ${dModel} is not a multiple of the ${nHeads} heads, and no head_dim is given`,
    );
  }
  const first = (id: number | number[] | null | undefined): number | undefined =>
    Array.isArray(id) ? id[0] : (id ?? undefined);
  const bos = first(c.bos_token_id);
  const eos = first(c.eos_token_id);
  for (const [name, id] of [
    ['bos_token_id', bos],
    ['eos_token_id', eos],
  ] as const) {
    if (id !== undefined && id >= vocab) {
      throw new OrreryError('bad_pack', `${file}: ${name} ${id} is not below vocab_size ${vocab}`);
    }
  }
  return {
    architecture: c.model_type ?? c.architectures?.[0] ?? 'unknown',
    d_model: dModel,
    n_layers: nLayers,
    n_heads: nHeads,
    n_kv_heads: nKv,
    d_head: dHead,
    context,
    vocab_size: vocab,
    ...(bos !== undefined ? { bos_token_id: bos } : {}),
    ...(eos !== undefined ? { eos_token_id: eos } : {}),
  };
}
