/**
 * Feature ↔ metadata associations. For a feature with per-example activations a (the
 * example's peak; 0 where the feature never fired) and a metadata value v, the AUC is the
 * probability that an example with v outranks one without (ties count half): the exact
 * Mann–Whitney statistic from mid-ranks. Zeros are one tied block, so the cost per feature
 * is O(m log m) in the m examples where it fired, plus O(values).
 * precision@top: the share of the feature's top k examples that carry v, with
 * k = min(topN, examples with v, examples where it fired); and how surprising that share
 * is by chance: log10 of the hypergeometric tail P(X ≥ hits) for k draws from n examples of
 * which `count` carry v (so a share that the value's base rate explains scores near 0).
 */
import type { CorpusExample } from '../corpus';

export interface MetaValueSet {
  key: string;
  value: string;
  /** example ids (indices into the corpus order) holding this value */
  members: Uint8Array;
  count: number;
}

export interface Association {
  key: string;
  value: string;
  auc: number;
  precisionTop: number;
  /** log10 P(at least this many of the top k carry the value by chance); ≤ 0 */
  log10P: number;
  nPositive: number;
}

export interface MetaIndex {
  values: MetaValueSet[];
  /** corpus position of each example id */
  slotOf: Map<number, number>;
  n: number;
  /** ln(i!) for i = 0…n */
  logFactorial: Float64Array;
}

/** ln(i!) for i = 0…n. */
export function logFactorials(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let i = 2; i <= n; i++) out[i] = (out[i - 1] ?? 0) + Math.log(i);
  return out;
}

/**
 * log10 P(X ≥ hits) for X ~ Hypergeometric(population, successes, draws): the chance that
 * `draws` examples picked at random hold at least `hits` of the `successes` carrying a value.
 */
export function hypergeomLog10Tail(
  lf: Float64Array,
  population: number,
  successes: number,
  draws: number,
  hits: number,
): number {
  if (hits <= 0) return 0;
  const lc = (a: number, b: number): number =>
    (lf[a] ?? 0) - (lf[b] ?? 0) - (lf[a - b] ?? 0);
  const top = Math.min(draws, successes);
  const denom = lc(population, draws);
  // log-sum-exp over the tail terms
  const terms: number[] = [];
  for (let i = hits; i <= top; i++) {
    if (draws - i > population - successes) continue;
    terms.push(lc(successes, i) + lc(population - successes, draws - i) - denom);
  }
  if (terms.length === 0) return -Infinity;
  const m = Math.max(...terms);
  const sum = terms.reduce((acc, t) => acc + Math.exp(t - m), 0);
  return Math.min(0, (m + Math.log(sum)) / Math.LN10);
}

/**
 * Metadata values worth testing: of `keys` (default: every key with at most `maxValues`
 * distinct values), the values held by at least `minCount` examples and by fewer than all.
 */
export function metaIndex(
  examples: readonly CorpusExample[],
  keys: readonly string[] | null = null,
  maxValues = 200,
): MetaIndex {
  const n = examples.length;
  const minCount = Math.max(2, Math.ceil(0.005 * n));
  const byKey = new Map<string, Map<string, number[]>>();
  examples.forEach((e, slot) => {
    for (const [k, v] of Object.entries(e.meta)) {
      let m = byKey.get(k);
      if (!m) byKey.set(k, (m = new Map()));
      let list = m.get(v);
      if (!list) m.set(v, (list = []));
      list.push(slot);
    }
  });
  const values: MetaValueSet[] = [];
  for (const key of [...byKey.keys()].sort()) {
    const m = byKey.get(key) as Map<string, number[]>;
    if (keys ? !keys.includes(key) : m.size > maxValues) continue;
    for (const value of [...m.keys()].sort()) {
      const slots = m.get(value) as number[];
      if (slots.length < minCount || slots.length >= n) continue;
      const members = new Uint8Array(n);
      for (const s of slots) members[s] = 1;
      values.push({ key, value, members, count: slots.length });
    }
  }
  const slotOf = new Map<number, number>();
  examples.forEach((e, slot) => slotOf.set(e.id, slot));
  return { values, slotOf, n, logFactorial: logFactorials(n) };
}

/**
 * Associations of one feature. `slots` and `acts` list the examples (corpus slots) where the
 * feature fired and its peak there; all other examples count as 0.
 */
export function featureAssociations(
  meta: MetaIndex,
  slots: Int32Array,
  acts: Float32Array,
  topN = 16,
): Association[] {
  const n = meta.n;
  const m = slots.length;
  if (m === 0 || meta.values.length === 0) return [];
  const order = Array.from({ length: m }, (_, i) => i);
  order.sort((a, b) => (acts[a] ?? 0) - (acts[b] ?? 0) || (slots[a] ?? 0) - (slots[b] ?? 0));
  const zeros = n - m;
  // Mid-ranks (1-based): the zero block holds ranks 1…zeros.
  const rank = new Float64Array(m);
  let i = 0;
  while (i < m) {
    let j = i;
    const v = acts[order[i] ?? 0] ?? 0;
    while (j + 1 < m && (acts[order[j + 1] ?? 0] ?? 0) === v) j++;
    const mid = zeros + (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) rank[order[t] ?? 0] = mid;
    i = j + 1;
  }
  const zeroRank = (zeros + 1) / 2;
  const byRank = order.slice().reverse();
  const out: Association[] = [];
  for (const vs of meta.values) {
    let sumRanks = 0;
    let activePos = 0;
    for (let s = 0; s < m; s++) {
      if (vs.members[slots[s] ?? 0]) {
        sumRanks += rank[s] ?? 0;
        activePos++;
      }
    }
    const pos = vs.count;
    const neg = n - pos;
    sumRanks += (pos - activePos) * zeroRank;
    const auc = (sumRanks - (pos * (pos + 1)) / 2) / (pos * neg);
    // The feature's top min(topN, positives) examples (where it fired) that carry the value.
    const kTop = Math.min(topN, pos, m);
    let hits = 0;
    for (let t = 0; t < kTop; t++) if (vs.members[slots[byRank[t] ?? 0] ?? 0]) hits++;
    out.push({
      key: vs.key,
      value: vs.value,
      auc,
      precisionTop: kTop ? hits / kTop : 0,
      log10P: kTop ? hypergeomLog10Tail(meta.logFactorial, n, pos, kTop, hits) : 0,
      nPositive: pos,
    });
  }
  // Strongest evidence first (the card lists them in this order), then AUC.
  out.sort((a, b) => a.log10P - b.log10P || b.auc - a.auc || b.precisionTop - a.precisionTop);
  return out;
}

/** The plain O(n²) definition, for tests: P(a_pos > a_neg) + ½ P(a_pos = a_neg). */
export function aucByPairs(scores: ArrayLike<number>, positive: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let p = 0; p < scores.length; p++) {
    if (!positive[p]) continue;
    for (let q = 0; q < scores.length; q++) {
      if (positive[q]) continue;
      const a = scores[p] ?? 0;
      const b = scores[q] ?? 0;
      wins += a > b ? 1 : a === b ? 0.5 : 0;
      pairs++;
    }
  }
  return pairs ? wins / pairs : 0.5;
}
