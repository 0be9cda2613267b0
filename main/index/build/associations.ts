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

/** The associations table's columns for an Association, in the order of AssociationRow. */
export const ASSOCIATION_COLUMNS = 'key, value, auc, precision_top, log10_p, n_positive';

/** A row of the associations table, as `select ${ASSOCIATION_COLUMNS}` reads it. */
export interface AssociationRow {
  key: string;
  value: string;
  auc: number;
  precision_top: number;
  log10_p: number;
  n_positive: number;
}

export const associationOf = (a: AssociationRow): Association => ({
  key: a.key,
  value: a.value,
  auc: a.auc,
  precisionTop: a.precision_top,
  log10P: a.log10_p,
  nPositive: a.n_positive,
});

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
  const lc = (a: number, b: number): number => (lf[a] ?? 0) - (lf[b] ?? 0) - (lf[a - b] ?? 0);
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
interface Ranked {
  /** mid-rank of each fired example (1-based; the zero block holds 1…zeros) */
  rank: Float64Array;
  zeroRank: number;
  /** indices into slots, highest activation first (ties: lower slot first) */
  byRank: number[];
}

function rankActivations(n: number, slots: Int32Array, acts: Float32Array): Ranked {
  const m = slots.length;
  const order = Array.from({ length: m }, (_, i) => i);
  order.sort((a, b) => (acts[a] ?? 0) - (acts[b] ?? 0) || (slots[a] ?? 0) - (slots[b] ?? 0));
  const zeros = n - m;
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
  return { rank, zeroRank: (zeros + 1) / 2, byRank: order.slice().reverse() };
}

/** AUC, precision@top and its chance for the examples `member` marks (`pos` of them). */
function measure(
  meta: MetaIndex,
  r: Ranked,
  slots: Int32Array,
  member: (slot: number) => boolean,
  pos: number,
  topN: number,
): { auc: number; precisionTop: number; log10P: number } {
  const n = meta.n;
  const m = slots.length;
  let sumRanks = 0;
  let activePos = 0;
  for (let s = 0; s < m; s++) {
    if (member(slots[s] ?? 0)) {
      sumRanks += r.rank[s] ?? 0;
      activePos++;
    }
  }
  sumRanks += (pos - activePos) * r.zeroRank;
  const auc = (sumRanks - (pos * (pos + 1)) / 2) / (pos * (n - pos));
  // The feature's top min(topN, positives) examples (where it fired) that carry the value.
  const kTop = Math.min(topN, pos, m);
  let hits = 0;
  for (let t = 0; t < kTop; t++) if (member(slots[r.byRank[t] ?? 0] ?? 0)) hits++;
  return {
    auc,
    precisionTop: kTop ? hits / kTop : 0,
    log10P: kTop ? hypergeomLog10Tail(meta.logFactorial, n, pos, kTop, hits) : 0,
  };
}

const byEvidence = (a: Association, b: Association): number =>
  a.log10P - b.log10P || b.auc - a.auc || b.precisionTop - a.precisionTop;

export function featureAssociations(
  meta: MetaIndex,
  slots: Int32Array,
  acts: Float32Array,
  topN = 16,
): Association[] {
  if (slots.length === 0 || meta.values.length === 0) return [];
  const r = rankActivations(meta.n, slots, acts);
  const out: Association[] = meta.values.map((vs) => ({
    key: vs.key,
    value: vs.value,
    ...measure(meta, r, slots, (slot) => vs.members[slot] === 1, vs.count, topN),
    nPositive: vs.count,
  }));
  // Strongest evidence first (the card lists them in this order), then AUC.
  return out.sort(byEvidence);
}

/** How a label names two values of one key: "book=Ezra | 1 Chronicles". */
export const PAIR_SEPARATOR = ' | ';

/** Same-key pairs of values the build may test: the Bonferroni factor of pair labels. */
export function pairCount(meta: MetaIndex): number {
  const perKey = new Map<string, number>();
  for (const v of meta.values) perKey.set(v.key, (perKey.get(v.key) ?? 0) + 1);
  let pairs = 0;
  for (const c of perKey.values()) pairs += (c * (c - 1)) / 2;
  return pairs;
}

/**
 * Pairs of values of one key, for a feature whose top examples mix two values, each enriched
 * on its own (log10P ≤ `maxLog10P`) though neither holds half of them: the union measured
 * like one value (its examples are the two values' examples). At most `limit` values, the
 * most enriched, are paired.
 */
export function pairAssociations(
  meta: MetaIndex,
  slots: Int32Array,
  acts: Float32Array,
  singles: readonly Association[],
  maxLog10P: number,
  topN = 16,
  limit = 6,
): Association[] {
  const enriched = singles
    .filter((a) => a.log10P <= maxLog10P && a.precisionTop < 0.5 && a.auc > 0.5)
    .slice(0, limit);
  if (enriched.length < 2) return [];
  const sets = new Map(meta.values.map((v) => [`${v.key}=${v.value}`, v]));
  const r = rankActivations(meta.n, slots, acts);
  const out: Association[] = [];
  for (let i = 0; i < enriched.length; i++) {
    for (let j = i + 1; j < enriched.length; j++) {
      const a = enriched[i] as Association;
      const b = enriched[j] as Association;
      if (a.key !== b.key) continue;
      const va = sets.get(`${a.key}=${a.value}`);
      const vb = sets.get(`${b.key}=${b.value}`);
      if (!va || !vb) continue;
      const [first, second] = a.value < b.value ? [a, b] : [b, a];
      const pos = va.count + vb.count;
      out.push({
        key: a.key,
        value: `${first.value}${PAIR_SEPARATOR}${second.value}`,
        ...measure(
          meta,
          r,
          slots,
          (slot) => va.members[slot] === 1 || vb.members[slot] === 1,
          pos,
          topN,
        ),
        nPositive: pos,
      });
    }
  }
  return out.sort(byEvidence);
}

/** The values a label or association names: "book=Ezra | Job" → ["book=Ezra", "book=Job"]. */
export function namedValues(label: string): string[] {
  const eq = label.indexOf('=');
  if (eq < 0) return [];
  const key = label.slice(0, eq);
  return label
    .slice(eq + 1)
    .split(PAIR_SEPARATOR)
    .map((v) => `${key}=${v}`);
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
