/**
 * The math of selections that act, where the tensors are (the inference worker):
 * - rank: a selection's features by their activation on one input (strongest over the
 *   input's rows, then the mean over them);
 * - separate: the features whose mean activation is higher on chosen examples than on others
 *   (or on a corpus sample). Each example counts once: its value is the mean over its rows
 *   (tokens, spatial positions, or the one latent), so a long text weighs no more than a
 *   short one.
 */
import type { Sae } from '../sae';

export interface Ranked {
  feature: number;
  max: number;
  mean: number;
}

/** Features in first-seen order, each once. */
export function distinct(features: readonly number[]): number[] {
  return [...new Set(features)];
}

/**
 * The features of h [n, d_in] by activation: strongest over the rows first, ties by the
 * mean, then by index. `active` counts features above 0 on some row.
 */
export function rankFeatures(
  sae: Sae,
  h: Float32Array,
  n: number,
  features: readonly number[],
): { ranked: Ranked[]; active: number } {
  const feats = distinct(features);
  const m = feats.length;
  // a few features: only their columns; most of the SAE: the whole code
  const values =
    m * 4 < sae.dSae ? sae.encodeFeatures(h, n, feats).values : pickColumns(sae, h, n, feats);
  const ranked: Ranked[] = feats.map((feature, s) => {
    let max = 0;
    let sum = 0;
    for (let r = 0; r < n; r++) {
      const v = values[r * m + s] ?? 0;
      if (v > max) max = v;
      sum += v;
    }
    return { feature, max, mean: n > 0 ? sum / n : 0 };
  });
  ranked.sort((a, b) => b.max - a.max || b.mean - a.mean || a.feature - b.feature);
  return { ranked, active: ranked.filter((r) => r.max > 0).length };
}

/** encode(h) restricted to `features`: [n, m]. */
function pickColumns(sae: Sae, h: Float32Array, n: number, features: number[]): Float32Array {
  const f = sae.encode(h, n);
  const m = features.length;
  const out = new Float32Array(n * m);
  for (let r = 0; r < n; r++) {
    features.forEach((j, s) => (out[r * m + s] = f[r * sae.dSae + j] ?? 0));
  }
  return out;
}

/** [d_sae] the mean code over the rows of h [n, d_in] (float64; zeros when n = 0). */
export function meanCode(sae: Sae, h: Float32Array, n: number): Float64Array {
  const out = new Float64Array(sae.dSae);
  if (n === 0) return out;
  const f = sae.encode(h, n);
  const d = sae.dSae;
  for (let r = 0; r < n; r++)
    for (let j = 0; j < d; j++) out[j] = (out[j] ?? 0) + (f[r * d + j] ?? 0);
  for (let j = 0; j < d; j++) out[j] = (out[j] ?? 0) / n;
  return out;
}

/** The mean of several [d_sae] codes (each example once). */
export function meanOf(codes: readonly Float64Array[], dSae: number): Float64Array {
  const out = new Float64Array(dSae);
  for (const c of codes) for (let j = 0; j < dSae; j++) out[j] = (out[j] ?? 0) + (c[j] ?? 0);
  if (codes.length > 0) for (let j = 0; j < dSae; j++) out[j] = (out[j] ?? 0) / codes.length;
  return out;
}

export interface Separating {
  feature: number;
  like: number;
  away: number;
  score: number;
}

/**
 * The `top` features with the largest like − away (only those above 0), most first, ties by
 * index; and the score-weighted mean of their `like` (a composite dial's typical strength).
 */
export function separate(
  like: Float64Array,
  away: Float64Array,
  top: number,
): { features: Separating[]; typical: number } {
  const all: Separating[] = [];
  for (let j = 0; j < like.length; j++) {
    const l = like[j] ?? 0;
    const a = away[j] ?? 0;
    if (l - a > 0) all.push({ feature: j, like: l, away: a, score: l - a });
  }
  all.sort((x, y) => y.score - x.score || x.feature - y.feature);
  const features = all.slice(0, top);
  let w = 0;
  let t = 0;
  for (const f of features) {
    w += f.score;
    t += f.score * f.like;
  }
  return { features, typical: w > 0 ? t / w : 0 };
}

/** `count` indices spread evenly over 0 … total − 1 (all of them when total ≤ count). */
export function spreadIndices(total: number, count: number): number[] {
  if (total <= count) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * total) / count));
}
