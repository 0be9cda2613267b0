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
  const n = logits.length;
  for (let i = 0; i < n; i++) {
    const v = logits[i] as number;
    // NaN is never greater; until a logit is taken, any that is not NaN (−Infinity too) is.
    if (v > bestV || (best < 0 && v >= -Infinity)) {
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
 *
 * Only the likely tokens are sorted: those with weight ≥ a threshold, the smallest power of
 * 2 at which they hold the k tokens or the mass p asked for. Every excluded token is less likely than every
 * included one, so the result is exactly that of sorting the whole vocabulary.
 */
export function candidates(logits: ArrayLike<number>, params: SamplingParams): Candidates {
  const { temperature, topK, topP } = params;
  if (!(temperature > 0)) throw new RangeError(`temperature ${temperature} is not > 0`);
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP ${topP} is not in (0, 1]`);
  const { weights, total, count } = softmaxWeights(logits, temperature);
  const n = logits.length;
  const k = topK > 0 ? Math.min(topK, count) : count;
  let ids: number[] = [];
  const all = (): number[] => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (!Number.isNaN(logits[i])) out.push(i);
    return out;
  };
  if (topK <= 0 && topP >= 1) {
    ids = all();
  } else {
    // The margin keeps float rounding from letting the set end just short of mass p.
    const needMass = topP * total * (1 + 1e-9);
    // Buckets of weight by powers of 2 (one pass): the fewest buckets, largest first, that
    // hold the k tokens (top-k) or the mass p (top-p alone) give the threshold.
    const counts = new Float64Array(BUCKETS);
    const masses = new Float64Array(BUCKETS);
    const bucket = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const w = weights[i] ?? 0;
      const b = w > 0 ? Math.min(BUCKETS - 1, Math.floor(-Math.log2(w))) : BUCKETS - 1;
      bucket[i] = b;
      counts[b] = (counts[b] ?? 0) + 1;
      masses[b] = (masses[b] ?? 0) + w;
    }
    let last = BUCKETS - 1;
    let c = 0;
    let m = 0;
    for (let b = 0; b < BUCKETS - 1; b++) {
      c += counts[b] ?? 0;
      m += masses[b] ?? 0;
      if (topK > 0 ? c >= k : m >= needMass) {
        last = b;
        break;
      }
    }
    if (last === BUCKETS - 1) {
      ids = all();
    } else {
      // The set is every token at least as likely as the least likely one in those buckets,
      // so it is a prefix of the full sort whatever log2's rounding did.
      let threshold = Infinity;
      for (let i = 0; i < n; i++) {
        if ((bucket[i] ?? BUCKETS) <= last) threshold = Math.min(threshold, weights[i] ?? 0);
      }
      for (let i = 0; i < n; i++) if ((weights[i] ?? 0) >= threshold) ids.push(i);
    }
  }
  ids.sort((a, b) => (weights[b] ?? 0) - (weights[a] ?? 0) || a - b);
  ids = ids.slice(0, k);
  // top-p reads the mass of the top k (the whole vocabulary when there is no top-k).
  let kTotal = total;
  if (topK > 0) {
    kTotal = 0;
    for (const i of ids) kTotal += weights[i] ?? 0;
  }
  let keep = ids.length;
  if (topP < 1) {
    let mass = 0;
    for (let s = 0; s < ids.length; s++) {
      mass += (weights[ids[s] ?? 0] ?? 0) / kTotal;
      if (mass >= topP) {
        keep = s + 1;
        break;
      }
    }
  }
  const keptIds = ids.slice(0, keep);
  let keptTotal = 0;
  for (const i of keptIds) keptTotal += weights[i] ?? 0;
  return { ids: keptIds, probs: keptIds.map((i) => (weights[i] ?? 0) / keptTotal) };
}

/** Weight buckets: [2^−(b+1), 2^−b] for b < 63; the last holds the rest (and zeros). */
const BUCKETS = 64;

/** exp((logit − max) / T) per token (0 for NaN), their sum, and how many are not NaN. */
function softmaxWeights(
  logits: ArrayLike<number>,
  temperature: number,
): { weights: Float64Array; total: number; count: number } {
  const n = logits.length;
  let max = -Infinity;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = logits[i] ?? Number.NaN;
    if (Number.isNaN(v)) continue;
    count++;
    if (v > max) max = v;
  }
  if (count === 0) throw new RangeError('no finite logits to sample from');
  const weights = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = logits[i] ?? Number.NaN;
    if (Number.isNaN(v)) continue;
    const w = max === -Infinity ? 1 : Math.exp((v - max) / temperature);
    weights[i] = w;
    total += w;
  }
  return { weights, total, count };
}

/** One token from a row of logits: argmax when temperature is 0, else a draw from rng. */
export function sampleToken(logits: ArrayLike<number>, params: SamplingParams, rng: Prng): number {
  if (params.temperature === 0) return argmax(logits);
  if (params.topK <= 0 && params.topP >= 1) {
    // No truncation: draw over the whole vocabulary in id order, no sorting needed.
    const { weights, total } = softmaxWeights(logits, params.temperature);
    const target = rng.next() * total;
    let acc = 0;
    let last = -1;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i] ?? 0;
      if (w === 0) continue;
      acc += w;
      last = i;
      if (target < acc) return i;
    }
    return last;
  }
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
