/**
 * A TopK SAE's codes of a few features, exactly as encode gives them, without the float
 * product of the whole row: what pin and scale dials read at every generated token
 * (main/runtime/text/steerPlan). Feature i's code is its pre-activation when that is positive
 * and fewer than k features rank above it (a larger pre-activation, or an equal one and a lower
 * index), else 0. Deciding that needs every feature's pre-activation; a float encoder streams
 * the whole d_in × d_sae W_enc each call (3 MB for the default text pack's SAEs), which also
 * pushes the model's own weights out of the caches between its graphs.
 *
 * Here ORT forms the product in int8 (MatMulInteger: a quarter of the bytes, exact integer
 * sums): each feature's pre-activation is then known to within a bound set by the two
 * quantisation steps, and only the features whose bound straddles feature i's value are
 * computed exactly, in JS, as encode computes them (Sae.preActivation). Every decision is
 * either certain from the bound or made on encode's own values, so the codes are encode's, bit
 * for bit, whatever the batch.
 *
 * Quantisation: W_enc column j as s_j · q_j + e_j with s_j = max|w_j| / 127 (q_j int8, each
 * |e_j| ≤ s_j / 2); a row x' as s₁ u₁ + s₂ u₂ (int8 rows with a zero point, s₁ = max|x'| / 127,
 * s₂ the same for what s₁ u₁ leaves), within s₂ / 2 in every dimension. With the exact
 * integers A_j = q_j · u of each row, |x'·w_j − s_j (s₁ A₁_j + s₂ A₂_j)| ≤ |x'·e_j| +
 * s_j s₂ ‖q_j‖₁ / 2, where |x'·e_j| is at most ‖x'‖₁ max|e_j| and at most ‖x'‖₂ ‖e_j‖₂ (the
 * smaller is used: on the default text pack's rows the ℓ₂ one, which leaves less than half
 * as many features to compute exactly); encode's float rounding adds at most
 * 2⁻²² (max|w_j| ‖x'‖₁ + |b_j|); the margin doubles that. Most features fall below v by a
 * looser margin (‖x'‖₁ s_j / 2 and the largest ‖q_j‖₁), tested first on s_j and b_j alone.
 */
import type { Sae } from '../sae';
import { OnnxSession } from './onnx';
import { buildModel } from './onnxGraph';

/** The int8 product as a graph: u [n, d_in] uint8 (zero point 128) → A [n, d_sae] int32. */
export function rankGraph(q: Int8Array, dIn: number, dSae: number): Uint8Array {
  return buildModel({
    name: 'orrery_sae_rank',
    inputs: [{ name: 'u', type: 'uint8', shape: ['n', dIn] }],
    outputs: [{ name: 'a', type: 'int32', shape: ['n', dSae] }],
    nodes: [{ op: 'MatMulInteger', inputs: ['u', 'q', 'zero'], outputs: ['a'] }],
    initializers: [
      { name: 'q', dims: [dIn, dSae], values: q, type: 'int8' },
      { name: 'zero', dims: [], values: [128], type: 'uint8' },
    ],
  });
}

/** Encode's rounding, bounded generously: 2⁻²¹ of the magnitudes summed. */
const ROUNDING = 2 ** -21;
/** Unsure features whose exact values inTopK computes at a time, between its checks. */
const CHUNK = 16;

/**
 * Per feature j: W_enc column j is s_j q_j + e_j (q_j int8). The step s_j, ‖q_j‖₁ (and the
 * largest of them), b_j less and plus twice its rounding share, max|e_j| and ‖e_j‖₂: each in
 * an array of its own, so that the loop that reads every feature for a row reads only what
 * its first test needs.
 */
interface FeatureTerms {
  step: Float64Array;
  mass: Float64Array;
  massMax: number;
  low: Float64Array;
  high: Float64Array;
  errMax: Float64Array;
  errNorm: Float64Array;
}

export class TopkRanker {
  /**
   * The features inTopK cannot place from their bounds alone, their exact pre-activations,
   * and what the first quantisation of a row leaves: reused from call to call, each filled
   * and read with no await in between (codes() awaits ORT, so its own arrays are its own).
   */
  private unsure = new Int32Array(256);
  private readonly exact = new Float64Array(CHUNK);
  private readonly rest: Float64Array;

  private constructor(
    private readonly sae: Sae,
    private readonly k: number,
    private readonly session: OnnxSession,
    private readonly terms: FeatureTerms,
  ) {
    this.rest = new Float64Array(sae.dIn);
  }

  /** The ranker of a TopK SAE with k codes a row (0 < k < d_sae). */
  static async create(sae: Sae, k: number, threads: number): Promise<TopkRanker> {
    const { dIn, dSae } = sae;
    const wT = sae.encoderTransposed;
    const bias = sae.encoderBias;
    const q = new Int8Array(dIn * dSae);
    const terms: FeatureTerms = {
      step: new Float64Array(dSae),
      mass: new Float64Array(dSae),
      massMax: 0,
      low: new Float64Array(dSae),
      high: new Float64Array(dSae),
      errMax: new Float64Array(dSae),
      errNorm: new Float64Array(dSae),
    };
    for (let j = 0; j < dSae; j++) {
      let max = 0;
      for (let c = 0; c < dIn; c++) max = Math.max(max, Math.abs(wT[j * dIn + c] ?? 0));
      const s = max / 127;
      let mass = 0;
      let eMax = 0;
      let eSq = 0;
      for (let c = 0; c < dIn; c++) {
        const w = wT[j * dIn + c] ?? 0;
        const v = s > 0 ? Math.round(w / s) : 0;
        q[c * dSae + j] = v;
        mass += Math.abs(v);
        const e = w - s * v;
        eMax = Math.max(eMax, Math.abs(e));
        eSq += e * e;
      }
      const b = bias[j] ?? 0;
      const slack = 2 * (ROUNDING * Math.abs(b) + Number.MIN_VALUE);
      terms.step[j] = s;
      terms.mass[j] = mass;
      terms.massMax = Math.max(terms.massMax, mass);
      terms.low[j] = b - slack;
      terms.high[j] = b + slack;
      terms.errMax[j] = eMax;
      terms.errNorm[j] = Math.sqrt(eSq);
    }
    const session = await OnnxSession.create(rankGraph(q, dIn, dSae), { intraOpThreads: threads });
    return new TopkRanker(sae, k, session, terms);
  }

  /**
   * The codes [n, m] of `features` (length m) for the prepared rows xp [n, d_in]
   * (Sae.prepareInput): encode(x)[r, features[s]] for every r and s.
   */
  async codes(xp: Float32Array, n: number, features: readonly number[]): Promise<Float32Array> {
    const { sae } = this;
    const dIn = sae.dIn;
    const m = features.length;
    const out = new Float32Array(n * m);
    // A code is 0 wherever the feature's pre-activation is ≤ 0, whatever the rest of the row;
    // only rows where a feature is positive need ranking, and only they go to ORT.
    const pre = new Float64Array(n * m);
    const rows = new Int32Array(n);
    let ranked = 0;
    for (let r = 0; r < n; r++) {
      let positive = false;
      for (let s = 0; s < m; s++) {
        const v = sae.preActivation(xp, r * dIn, features[s] ?? 0);
        pre[r * m + s] = v;
        positive ||= v > 0;
      }
      if (positive) rows[ranked++] = r;
    }
    if (ranked === 0) return out;
    // Each row goes as two int8 rows, x' ≈ s₁ u₁ + s₂ u₂, the second quantising what the first
    // left: residual streams have a few large dimensions, and one step set by them would blur
    // every other dimension (the bound would take in hundreds of features). Both rows share
    // one product, whose cost is in streaming the weights.
    const u = new Uint8Array(2 * ranked * dIn);
    // Per row ranked: s₁, s₂, ‖x'‖₁, ‖x'‖₂.
    const norms = new Float64Array(4 * ranked);
    const rest = this.rest;
    for (let i = 0; i < ranked; i++) {
      const o = (rows[i] ?? 0) * dIn;
      let max = 0;
      let l1 = 0;
      let l2 = 0;
      for (let c = 0; c < dIn; c++) {
        const x = xp[o + c] as number;
        const a = Math.abs(x);
        l1 += a;
        l2 += x * x;
        if (a > max) max = a;
      }
      const s1 = max / 127;
      let restMax = 0;
      const u1 = 2 * i * dIn;
      for (let c = 0; c < dIn; c++) {
        const x = xp[o + c] as number;
        const q = s1 > 0 ? Math.round(x / s1) : 0;
        u[u1 + c] = 128 + q;
        const left = x - s1 * q;
        rest[c] = left;
        const a = Math.abs(left);
        if (a > restMax) restMax = a;
      }
      const s2 = restMax / 127;
      const u2 = u1 + dIn;
      for (let c = 0; c < dIn; c++) {
        u[u2 + c] = 128 + (s2 > 0 ? Math.round((rest[c] as number) / s2) : 0);
      }
      norms[4 * i] = s1;
      norms[4 * i + 1] = s2;
      norms[4 * i + 2] = l1;
      norms[4 * i + 3] = Math.sqrt(l2);
    }
    const res = await this.session.run({ u: { dims: [2 * ranked, dIn], data: u } });
    const a = res.a?.data;
    if (!(a instanceof Int32Array)) throw new Error('the SAE ranking graph gave no int32 product');
    for (let i = 0; i < ranked; i++) {
      const r = rows[i] ?? 0;
      for (let s = 0; s < m; s++) {
        // The same row and pre as above: nothing ran in between but ORT.
        const v = pre[r * m + s] ?? 0;
        const j = features[s] ?? 0;
        if (v > 0 && this.inTopK(xp, r * dIn, j, v, a, i, norms)) out[r * m + s] = v;
      }
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  /**
   * Whether fewer than k features rank above feature i (pre-activation v) in the prepared row
   * at xp[o …], whose int8 products are rows 2·row and 2·row + 1 of `a`, with s1, s2 (x' ≈
   * s1 u₁ + s2 u₂, the second within s2 / 2 of x' in each dimension), ‖x'‖₁ and ‖x'‖₂ at
   * norms[4·row …].
   */
  private inTopK(
    xp: Float32Array,
    o: number,
    i: number,
    v: number,
    a: Int32Array,
    row: number,
    norms: Float64Array,
  ): boolean {
    const { sae, k } = this;
    const { step, mass, massMax, low, high, errMax, errNorm } = this.terms;
    const dSae = sae.dSae;
    const first = 2 * row * dSae;
    const second = first + dSae;
    const s1 = norms[4 * row] as number;
    const s2 = norms[4 * row + 1] as number;
    const l1 = norms[4 * row + 2] as number;
    const l2 = norms[4 * row + 3] as number;
    // Every term of the margin below, doubled for the float64 evaluation, per unit of s_j:
    // encode's rounding of max|w_j| ‖x'‖₁ = 127 s_j ‖x'‖₁; the row's second step s₂ (within
    // s₂ / 2 of x' in each dimension) times ‖q_j‖₁; the weights' quantisation, x'·e_j, at
    // most ‖x'‖₁ max|e_j| ≤ ‖x'‖₁ s_j / 2 and at most ‖x'‖₂ ‖e_j‖₂.
    const rounding = 2 * ROUNDING * 127 * l1;
    // The first test, the one most features fail: the loosest margin (‖q_j‖₁ ≤ the largest,
    // max|e_j| ≤ s_j / 2), so that it reads only s_j and b_j.
    const loose = rounding + s2 * massMax + l1;
    const byMax = 2 * l1;
    const byNorm = 2 * l2;
    let above = 0;
    let unsure = this.unsure;
    let count = 0;
    // Feature i itself lands among the unsure (its bound holds v) and never ranks above itself.
    for (let j = 0; j < dSae; j++) {
      const s = step[j] as number;
      const c = s1 * (a[first + j] as number) + s2 * (a[second + j] as number);
      if (s * (c + loose) + (high[j] as number) < v) continue;
      const quant = Math.min(byMax * (errMax[j] as number), byNorm * (errNorm[j] as number));
      const margin = quant + s * (rounding + s2 * (mass[j] as number));
      const est = s * c;
      if (est + margin + (high[j] as number) < v) continue;
      if (est - margin + (low[j] as number) > v) {
        if (++above >= k) return false;
      } else {
        if (count === unsure.length) {
          const more = new Int32Array(2 * count);
          more.set(unsure);
          this.unsure = unsure = more;
        }
        unsure[count++] = j;
      }
    }
    // Even if every unsure feature ranked above i, fewer than k would: no need to look closer.
    if (above + count < k) return true;
    const exact = this.exact;
    for (let from = 0; from < count; from += CHUNK) {
      const to = Math.min(count, from + CHUNK);
      sae.preActivations(xp, o, unsure, from, to, exact);
      for (let s = from; s < to; s++) {
        const w = exact[s - from] as number;
        if (w > v || (w === v && (unsure[s] as number) < i)) {
          if (++above >= k) return false;
        }
      }
      // Even if every feature still unsure ranked above i, fewer than k would.
      if (above + count - to < k) return true;
    }
    return true;
  }
}
