/**
 * Honest automatic labels: every label says where it came from.
 * - metadata: a metadata value the feature passes the rule for: at least half its top
 *   examples carry the value, so many that chance cannot explain it (the hypergeometric
 *   tail, Bonferroni-corrected over the values tested, below 0.01; a value most of the
 *   corpus has cannot pass on a handful of examples), and the feature ranks the value's
 *   examples above the others overall (AUC above 0.5). Of the values it passes for, the
 *   one with the strongest evidence, unless the coverage pass (assignMetadataLabels) gave it
 *   another one it also passes for, so that a value no feature's best names gets a feature.
 *   A sparse feature often fires on a part of a value's examples only (dark skin on hands,
 *   not on faces), so AUC, which needs most of them, is the floor rather than the test.
 *   Where two values of one key share the top examples ("book=Ezra | 1 Chronicles"), each
 *   enriched on its own but neither holding half, the pair is tested like one value (its
 *   own Bonferroni factor: the number of same-key pairs) and the label names both;
 * - top-tokens (text): the tokens where the feature peaks on its top examples;
 * - top-examples (images, faces): the names of its top examples.
 * A feature that never fired on the corpus gets no label.
 */
import { namedValues, PAIR_SEPARATOR, type Association } from './associations';

export const LABEL_AUC_THRESHOLD = 0.5;
export const MIN_PRECISION_TOP = 0.5;
/** Family-wise chance, per feature, of a label that the base rate explains. */
export const LABEL_ALPHA = 0.01;

export interface AutoLabel {
  label: string;
  source: 'metadata' | 'top-tokens' | 'top-examples';
  description: string;
}

export interface WeightedToken {
  token: string;
  weight: number;
}

const isPair = (a: Association): boolean => a.value.includes(PAIR_SEPARATOR);

/**
 * The values (and pairs of values) a feature passes the label rule for, strongest evidence
 * first, single values before pairs. `tested`: how many values were tested, `pairsTested`:
 * how many same-key pairs could be (the Bonferroni factors, so a feature's chance of any
 * label its examples' base rates explain stays under 0.01 for singles and 0.01 for pairs).
 */
export function metadataCandidates(
  assocs: readonly Association[],
  tested: number,
  threshold = LABEL_AUC_THRESHOLD,
  pairsTested = 0,
): Association[] {
  const single = Math.log10(LABEL_ALPHA / Math.max(1, tested));
  const pair = Math.log10(LABEL_ALPHA / Math.max(1, pairsTested));
  return assocs
    .filter(
      (a) =>
        a.auc > threshold &&
        a.precisionTop >= MIN_PRECISION_TOP &&
        a.log10P <= (isPair(a) ? pair : single),
    )
    .sort(
      (a, b) =>
        Number(isPair(a)) - Number(isPair(b)) ||
        a.log10P - b.log10P ||
        b.precisionTop - a.precisionTop ||
        a.nPositive - b.nPositive ||
        (a.key + a.value < b.key + b.value ? -1 : 1),
    );
}

/** The threshold a single value's chance must be under to pass (and to be paired). */
export function singleLog10Threshold(tested: number): number {
  return Math.log10(LABEL_ALPHA / Math.max(1, tested));
}

const kv = (a: Association): string => `${a.key}=${a.value}`;

/**
 * One candidate per feature (null: none passes), chosen so that as many values as possible
 * are named. Each feature starts with its best candidate; then each value no feature names
 * yet, rarest candidates first, takes the feature that passes best for it among those whose
 * current values other features also name, so no value loses its last name. Every choice
 * passes the rule: only which passing candidate a feature shows changes.
 */
export function assignMetadataLabels(
  candidates: readonly (readonly Association[])[],
): (Association | null)[] {
  const pick = candidates.map((c) => c[0] ?? null);
  const named = new Map<string, number>();
  const add = (a: Association, d: number): void => {
    for (const v of namedValues(kv(a))) named.set(v, (named.get(v) ?? 0) + d);
  };
  for (const p of pick) if (p) add(p, 1);
  const byValue = new Map<string, { f: number; a: Association }[]>();
  candidates.forEach((cs, f) => {
    for (const a of cs) {
      for (const v of namedValues(kv(a))) {
        let l = byValue.get(v);
        if (!l) byValue.set(v, (l = []));
        l.push({ f, a });
      }
    }
  });
  const isNamed = (v: string): boolean => (named.get(v) ?? 0) > 0;
  const open = [...byValue.entries()]
    .filter(([v]) => !isNamed(v))
    .sort((x, y) => x[1].length - y[1].length || (x[0] < y[0] ? -1 : 1));
  for (const [v, options] of open) {
    if (isNamed(v)) continue;
    options.sort(
      (x, y) => Number(isPair(x.a)) - Number(isPair(y.a)) || x.a.log10P - y.a.log10P || x.f - y.f,
    );
    for (const { f, a } of options) {
      const current = pick[f];
      if (!current) continue;
      if (namedValues(kv(current)).some((c) => (named.get(c) ?? 0) < 2)) continue;
      add(current, -1);
      pick[f] = a;
      add(a, 1);
      break;
    }
  }
  return pick;
}

/** "3e-9" style: the chance a label's evidence is a coincidence. */
function chance(log10P: number): string {
  if (log10P > -3) return (10 ** log10P).toFixed(3);
  const e = Math.floor(log10P);
  return `${(10 ** (log10P - e)).toFixed(0)}e${e}`;
}

export function autoLabel(
  assocs: readonly Association[],
  topTokens: readonly WeightedToken[],
  topNames: readonly string[],
  tested: number,
  threshold = LABEL_AUC_THRESHOLD,
  /** The coverage pass's choice for this feature (one of its candidates), if any. */
  chosen?: Association | null,
): AutoLabel | null {
  const best = chosen === undefined ? metadataCandidates(assocs, tested, threshold)[0] : chosen;
  if (best) {
    const what = isPair(best)
      ? `${best.key} = ${best.value.split(PAIR_SEPARATOR).join(' or ')} (each enriched on its own)`
      : `${best.key}=${best.value}`;
    return {
      label: `${best.key}=${best.value}`,
      source: 'metadata',
      description:
        `${Math.round(best.precisionTop * 100)}% of its top examples have ${what} ` +
        `(${best.nPositive} examples in the corpus; chance ${chance(best.log10P)}), ` +
        `AUC ${best.auc.toFixed(2)}`,
    };
  }
  const top = assocs[0];
  const why = top
    ? `; best metadata ${top.key}=${top.value} AUC ${top.auc.toFixed(2)}, ` +
      `${Math.round(top.precisionTop * 100)}% of top examples`
    : '';
  if (topTokens.length > 0) {
    const shown = topTokens.slice(0, 3).map((t) => `“${t.token.trim() || t.token}”`);
    return {
      label: shown.join(' '),
      source: 'top-tokens',
      description: `the tokens where it peaks on its top examples${why}`,
    };
  }
  if (topNames.length > 0) {
    const unique = [...new Set(topNames)].slice(0, 3);
    return {
      label: unique.join(', '),
      source: 'top-examples',
      description: `the names of its top examples${why}`,
    };
  }
  return null;
}

/** Peak tokens over a feature's top examples, weighted by activation, heaviest first. */
export function peakTokens(
  entries: readonly { activation: number; token: string | null }[],
  limit = 8,
): WeightedToken[] {
  const w = new Map<string, number>();
  for (const e of entries) {
    if (e.token === null) continue;
    w.set(e.token, (w.get(e.token) ?? 0) + e.activation);
  }
  return [...w.entries()]
    .map(([token, weight]) => ({ token, weight }))
    .sort((a, b) => b.weight - a.weight || (a.token < b.token ? -1 : 1))
    .slice(0, limit);
}
