// Parity check for an HF fixture's exported decoder: onnxruntime-node on onnx/decoder_model.onnx
// (external data included) against the torch reference.json written by models/recipes/hf/recipe.py.
// The unmodified graph exposes no hooks, so this compares what it does expose: the last position's
// logits without the cache (all tokens at once) and with it (the prefix, then the last token with
// the prefix's present.N.key/value as past_key_values.N.key/value), the present shapes, and a
// batch of two with right and left padding masked by attention_mask (reference.padded).
// Also: the fixture's tokenizer.json, loaded in @huggingface/tokenizers (what the app uses), gives the
// reference's input_ids for its prompt (the post-processor's BOS for Llama; GPT-2's added by hand).
// Prints one JSON line of maximum absolute errors last; exits non-zero on any mismatch.
//   node models/recipes/hf/check_parity.mjs <model folder>
import { Tokenizer } from '@huggingface/tokenizers';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const require = createRequire(join(repoRoot, 'package.json'));
const ort = require('onnxruntime-node');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node check_parity.mjs <model folder>');
  process.exit(2);
}
const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
const nLayers = config.n_layer ?? config.num_hidden_layers;
const nKv = config.num_key_value_heads ?? config.n_head ?? config.num_attention_heads;
const dHead = (config.n_embd ?? config.hidden_size) / (config.n_head ?? config.num_attention_heads);
const session = await ort.InferenceSession.create(join(dir, 'onnx', 'decoder_model.onnx'));

const int64 = (values, dims) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

async function step(ids, start, past) {
  const total = start + ids.length;
  const feeds = {
    input_ids: int64(ids, [1, ids.length]),
    attention_mask: int64(Array(total).fill(1), [1, total]),
    position_ids: int64(
      ids.map((_, i) => start + i),
      [1, ids.length],
    ),
  };
  for (let l = 0; l < nLayers; l++) {
    for (const kv of ['key', 'value']) {
      feeds[`past_key_values.${l}.${kv}`] =
        past?.[`present.${l}.${kv}`] ?? new ort.Tensor('float32', new Float32Array(0), [1, nKv, 0, dHead]);
    }
  }
  const out = await session.run(feeds);
  for (let l = 0; l < nLayers; l++) {
    for (const kv of ['key', 'value']) {
      const dims = out[`present.${l}.${kv}`].dims.join(',');
      if (dims !== [1, nKv, total, dHead].join(',')) throw new Error(`present.${l}.${kv} has dims ${dims}`);
    }
  }
  return out;
}

function lastLogits(out) {
  const t = out.logits;
  const v = t.dims[2];
  return t.data.subarray(t.data.length - v);
}

function maxAbs(got, want) {
  if (got.length !== want.length) return Infinity;
  let m = 0;
  for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m;
}

const ids = ref.input_ids;
const tokenizer = new Tokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), {
  clean_up_tokenization_spaces: false,
});
const encoded = tokenizer.encode(ref.prompt).ids;
const tokenIds = config.model_type === 'gpt2' ? [config.bos_token_id, ...encoded] : encoded;
const tokenizerOk = tokenIds.join(',') === ids.join(',');
console.log(`${tokenizerOk ? 'ok  ' : 'FAIL'} ${ref.model} tokenizer: [${tokenIds.join(', ')}] vs reference [${ids.join(', ')}]`);
const tol = ref.tolerance ?? 1e-4;
const full = await step(ids, 0, null);
const head = await step(ids.slice(0, -1), 0, null);
const tail = await step(ids.slice(-1), ids.length - 1, head);
const errors = {
  logits_no_cache: maxAbs(lastLogits(full), ref.no_cache.logits_last),
  logits_with_cache: maxAbs(lastLogits(tail), ref.with_cache.logits_last),
};
if (ref.padded) {
  const p = ref.padded;
  const [B, T] = [p.input_ids.length, p.input_ids[0].length];
  const feeds = {
    input_ids: int64(p.input_ids.flat(), [B, T]),
    attention_mask: int64(p.attention_mask.flat(), [B, T]),
    position_ids: int64(p.position_ids.flat(), [B, T]),
  };
  for (let l = 0; l < nLayers; l++) {
    for (const kv of ['key', 'value']) {
      feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [B, nKv, 0, dHead]);
    }
  }
  const logits = (await session.run(feeds)).logits;
  const V = logits.dims[2];
  errors.logits_padded = Math.max(
    ...p.last_real_position.map((pos, b) =>
      maxAbs(logits.data.subarray((b * T + pos) * V, (b * T + pos + 1) * V), p.logits_at_last_real_position[b]),
    ),
  );
}
let failed = !tokenizerOk;
for (const [name, err] of Object.entries(errors)) {
  const ok = err <= tol;
  failed ||= !ok;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${ref.model} ${name}: max abs ${err.toExponential(2)} (tolerance ${tol})`);
}
console.log(JSON.stringify({ passed: !failed, tokenizer: tokenizerOk, tolerance: tol, max_abs: errors }));
process.exit(failed ? 1 : 0);
