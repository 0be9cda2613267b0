/**
 * Feeds for a Hugging Face decoder-only graph (optimum's names), built from the session's
 * declared inputs: input_ids [1, n], attention_mask of ones over past + new tokens,
 * position_ids counting on from the past, past_key_values.N.key/value (the previous run's
 * present.N.* or an empty cache: [1, heads, 0, head_dim]), and zeros for each `steer.<hook>`
 * input not given. Used by the rewired graph's self-check and by tests and benches that drive
 * a decoder; one batch row.
 */
import { OrreryError } from '../../preload/contract/result';
import type { IoMeta, TensorLike } from '../runtime/onnx';

/** The cache a previous run left: its present.N.* outputs renamed past_key_values.N.*. */
export interface PastCache {
  length: number;
  tensors: Record<string, TensorLike>;
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

function emptyPast(meta: IoMeta): TensorLike {
  const dims = meta.shape.map((d, i) => {
    if (i === 0) return 1;
    if (i === meta.shape.length - 2) return 0;
    if (typeof d === 'number' && d > 0) return d;
    throw new OrreryError(
      'unavailable',
      `Input '${meta.name}' has a dynamic axis ${i} ('${String(d)}'); an empty cache needs its size.`,
    );
  });
  return { dims, data: new Float32Array(0) };
}

function steerZeros(meta: IoMeta, n: number): TensorLike {
  const d = meta.shape[meta.shape.length - 1];
  if (typeof d !== 'number' || d <= 0) {
    throw new OrreryError('unavailable', `Input '${meta.name}' has no fixed width.`);
  }
  return { dims: [1, n, d], data: new Float32Array(n * d) };
}

/** Feeds for `ids` after `past` (null: no cache yet); `given` overrides any input. */
export function decoderFeeds(
  inputs: readonly IoMeta[],
  ids: readonly number[],
  past: PastCache | null,
  given: Record<string, TensorLike> = {},
): Record<string, TensorLike> {
  const n = ids.length;
  const start = past?.length ?? 0;
  const feeds: Record<string, TensorLike> = {};
  for (const meta of inputs) {
    const own = given[meta.name] ?? past?.tensors[meta.name];
    if (own) feeds[meta.name] = own;
    else if (meta.name === 'input_ids') {
      feeds[meta.name] = { dims: [1, n], data: BigInt64Array.from(ids.map(BigInt)) };
    } else if (meta.name === 'attention_mask') {
      feeds[meta.name] = { dims: [1, start + n], data: new BigInt64Array(start + n).fill(1n) };
    } else if (meta.name === 'position_ids') {
      feeds[meta.name] = {
        dims: [1, n],
        data: BigInt64Array.from(ids.map((_, i) => BigInt(start + i))),
      };
    } else if (PAST.test(meta.name)) feeds[meta.name] = emptyPast(meta);
    else if (meta.name.startsWith('steer.')) feeds[meta.name] = steerZeros(meta, n);
    else {
      throw new OrreryError(
        'unavailable',
        `The decoder has an input '${meta.name}' Orrery does not feed.`,
      );
    }
  }
  return feeds;
}

/** The cache after a run: its present.N.key/value outputs as the next run's past. */
export function nextPast(
  outputs: Record<string, TensorLike>,
  past: PastCache | null,
  n: number,
): PastCache {
  const tensors: Record<string, TensorLike> = {};
  for (const [name, t] of Object.entries(outputs)) {
    const m = /^present\.(\d+)\.(key|value)$/.exec(name);
    if (m) tensors[`past_key_values.${m[1]}.${m[2]}`] = t;
  }
  return { length: (past?.length ?? 0) + n, tensors };
}
