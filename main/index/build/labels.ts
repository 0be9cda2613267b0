/**
 * Honest automatic labels: every label says where it came from.
 * - metadata: the feature's best metadata association (AUC × precision@top), when its AUC
 *   reaches the threshold and at least half its top examples carry the value;
 * - top-tokens (text): the tokens where the feature peaks on its top examples;
 * - top-examples (images, faces): the names of its top examples.
 * A feature that never fired on the corpus gets no label.
 */
import type { Association } from './associations';

export const LABEL_AUC_THRESHOLD = 0.8;
export const MIN_PRECISION_TOP = 0.5;

export interface AutoLabel {
  label: string;
  source: 'metadata' | 'top-tokens' | 'top-examples';
  description: string;
}

export interface WeightedToken {
  token: string;
  weight: number;
}

export function autoLabel(
  assocs: readonly Association[],
  topTokens: readonly WeightedToken[],
  topNames: readonly string[],
  threshold = LABEL_AUC_THRESHOLD,
): AutoLabel | null {
  // A metadata label needs both: the value ranks the feature's activations well (AUC) and
  // at least half of the feature's top examples carry it (else the label would name a value
  // that none of the examples a person sees on the card has).
  let best: Association | undefined;
  let bestScore = -1;
  for (const a of assocs) {
    if (a.auc < threshold || a.precisionTop < MIN_PRECISION_TOP) continue;
    const score = a.auc * a.precisionTop;
    if (score > bestScore) {
      best = a;
      bestScore = score;
    }
  }
  if (best) {
    return {
      label: `${best.key}=${best.value}`,
      source: 'metadata',
      description:
        `AUC ${best.auc.toFixed(2)} for ${best.key}=${best.value} ` +
        `(${best.nPositive} examples); ${Math.round(best.precisionTop * 100)}% of its top examples have it`,
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
