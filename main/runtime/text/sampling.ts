/**
 * Next-token choice for text generation: a seeded PRNG and greedy / temperature / top-k /
 * top-p (nucleus) sampling over one row of logits [vocab]. Deterministic for a seed: the
 * same logits and the same generator state always give the same token, on every machine
 * (the PRNG is integer arithmetic, and the candidate order is fully specified).
 */

/** The sampling settings of the contract (SamplingSchema), less maxTokens. */
export interface SamplingParams {
  /** 0 = greedy (argmax). */
  temperature: number;
  /** Keep the k most likely tokens; 0 = no limit. */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p; 1 = no limit. */
  topP: number;
}

/**
 * mulberry32: a 32-bit state PRNG, good enough for sampling and reproducible across
 * platforms. next() is uniform in [0, 1) with 2^-32 resolution.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    // Spread small consecutive seeds apart (one splitmix32-style scramble of the seed).
    let s = (seed ^ 0x9e3779b9) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    this.state = (s ^ (s >>> 16)) >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** Index of the largest logit; ties go to the lower index. NaN logits are never chosen. */
export function argmax(logits: ArrayLike<number>): number {
  let best = -1;
  let bestV = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i] ?? Number.NaN;
    if (Number.isNaN(v)) continue;
    if (best < 0 || v > bestV) {
      best = i;
      bestV = v;
    }
  }
  if (best < 0) throw new RangeError('argmax of an empty (or all-NaN) row of logits');
  return best;
}

export interface Candidates {
  /** Token ids, most likely first (ties: lower id first). */
  ids: number[];
  /** Their probabilities after truncation, renormalised to sum to 1. */
  probs: number[];
}

/**
 * The tokens sampling may choose from, with their probabilities: softmax(logits / T),
 * truncated to the top k, then to the smallest prefix whose mass reaches top p (the token
 * that crosses p is kept), renormalised. temperature must be > 0.
 */
export function candidates(logits: ArrayLike<number>, params: SamplingParams): Candidates {
  const { temperature, topK, topP } = params;
  if (!(temperature > 0)) throw new RangeError(`temperature ${temperature} is not > 0`);
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP ${topP} is not in (0, 1]`);
  const n = logits.length;
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (!Number.isNaN(logits[i])) order.push(i);
  if (order.length === 0) throw new RangeError('no finite logits to sample from');
  order.sort((a, b) => (logits[b] ?? 0) - (logits[a] ?? 0) || a - b);
  const k = topK > 0 ? Math.min(topK, order.length) : order.length;
  const ids = order.slice(0, k);
  const max = logits[ids[0] ?? 0] ?? 0;
  const weights = ids.map((i) => Math.exp(((logits[i] ?? 0) - max) / temperature));
  let total = 0;
  for (const w of weights) total += w;
  let keep = weights.length;
  if (topP < 1) {
    let mass = 0;
    for (let s = 0; s < weights.length; s++) {
      mass += (weights[s] ?? 0) / total;
      if (mass >= topP) {
        keep = s + 1;
        break;
      }
    }
  }
  const keptIds = ids.slice(0, keep);
  const kept = weights.slice(0, keep);
  let keptTotal = 0;
  for (const w of kept) keptTotal += w;
  return { ids: keptIds, probs: kept.map((w) => w / keptTotal) };
}

/** One token from a row of logits: argmax when temperature is 0, else a draw from rng. */
export function sampleToken(logits: ArrayLike<number>, params: SamplingParams, rng: Prng): number {
  if (params.temperature === 0) return argmax(logits);
  const { ids, probs } = candidates(logits, params);
  const u = rng.next();
  let acc = 0;
  for (let s = 0; s < ids.length; s++) {
    acc += probs[s] ?? 0;
    if (u < acc) return ids[s] ?? 0;
  }
  // Rounding left u above the last partial sum: the last candidate.
  return ids[ids.length - 1] ?? 0;
}
