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
 * Quantisation: W_enc column j as s_j · q_j with s_j = max|w_j| / 127 (q_j int8); a row x' as
 * s₁ u₁ + s₂ u₂ (int8 rows with a zero point, s₁ = max|x'| / 127, s₂ the same for what s₁ u₁
 * leaves), within s₂ / 2 in every dimension. With the exact integers A_j = q_j · u of each
 * row, |x'·w_j − s_j (s₁ A₁_j + s₂ A₂_j)| ≤ s_j ‖x'‖₁ / 2 + s_j s₂ ‖q_j‖₁ / 2, and encode's
 * float rounding adds at most 2⁻²² (max|w_j| ‖x'‖₁ + |b_j|); the margin doubles that.
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
/** Numbers per feature in TopkRanker's terms. */
const TERMS = 4;

export class TopkRanker {
  /** The features inTopK cannot place from their bounds alone (reused from call to call). */
  private readonly unsure: number[] = [];

  private constructor(
    private readonly sae: Sae,
    private readonly k: number,
    private readonly session: OnnxSession,
    /**
     * Per feature j, side by side (one stream for the loop that reads them all each row): s_j
     * (W_enc column j is s_j · q_j), s_j ‖q_j‖₁ (a row's step times half of it bounds its
     * quantisation's share), and b_j less and plus twice its rounding share.
     */
    private readonly terms: Float64Array,
  ) {}

  /** The ranker of a TopK SAE with k codes a row (0 < k < d_sae). */
  static async create(sae: Sae, k: number, threads: number): Promise<TopkRanker> {
    const { dIn, dSae } = sae;
    const wT = sae.encoderTransposed;
    const bias = sae.encoderBias;
    const q = new Int8Array(dIn * dSae);
    const terms = new Float64Array(TERMS * dSae);
    for (let j = 0; j < dSae; j++) {
      let max = 0;
      for (let c = 0; c < dIn; c++) max = Math.max(max, Math.abs(wT[j * dIn + c] ?? 0));
      const s = max / 127;
      let mass = 0;
      for (let c = 0; c < dIn; c++) {
        const v = s > 0 ? Math.round((wT[j * dIn + c] ?? 0) / s) : 0;
        q[c * dSae + j] = v;
        mass += Math.abs(v);
      }
      const b = bias[j] ?? 0;
      const slack = 2 * (ROUNDING * Math.abs(b) + Number.MIN_VALUE);
      terms.set([s, s * mass, b - slack, b + slack], TERMS * j);
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
    const rank: number[] = [];
    for (let r = 0; r < n; r++) {
      let positive = false;
      features.forEach((j, s) => {
        const v = sae.preActivation(xp, r * dIn, j);
        pre[r * m + s] = v;
        positive ||= v > 0;
      });
      if (positive) rank.push(r);
    }
    if (rank.length === 0) return out;
    // Each row goes as two int8 rows, x' ≈ s₁ u₁ + s₂ u₂, the second quantising what the first
    // left: residual streams have a few large dimensions, and one step set by them would blur
    // every other dimension (the bound would take in hundreds of features). Both rows share
    // one product, whose cost is in streaming the weights.
    const u = new Uint8Array(2 * rank.length * dIn);
    const steps = new Float64Array(2 * rank.length);
    const rowL1 = new Float64Array(rank.length);
    const rest = new Float64Array(dIn);
    rank.forEach((r, i) => {
      let max = 0;
      let l1 = 0;
      for (let c = 0; c < dIn; c++) {
        const a = Math.abs(xp[r * dIn + c] ?? 0);
        l1 += a;
        if (a > max) max = a;
      }
      const s1 = max / 127;
      let restMax = 0;
      for (let c = 0; c < dIn; c++) {
        const x = xp[r * dIn + c] ?? 0;
        const q = s1 > 0 ? Math.round(x / s1) : 0;
        u[2 * i * dIn + c] = 128 + q;
        rest[c] = x - s1 * q;
        restMax = Math.max(restMax, Math.abs(rest[c] ?? 0));
      }
      const s2 = restMax / 127;
      for (let c = 0; c < dIn; c++) {
        u[(2 * i + 1) * dIn + c] = 128 + (s2 > 0 ? Math.round((rest[c] ?? 0) / s2) : 0);
      }
      steps[2 * i] = s1;
      steps[2 * i + 1] = s2;
      rowL1[i] = l1;
    });
    const res = await this.session.run({ u: { dims: [2 * rank.length, dIn], data: u } });
    const a = res.a?.data;
    if (!(a instanceof Int32Array)) throw new Error('the SAE ranking graph gave no int32 product');
    rank.forEach((r, i) => {
      const s1 = steps[2 * i] ?? 0;
      const s2 = steps[2 * i + 1] ?? 0;
      for (let s = 0; s < m; s++) {
        const v = pre[r * m + s] ?? 0;
        const j = features[s] ?? 0;
        if (v > 0 && this.inTopK(xp, r * dIn, j, v, a, i, s1, s2, rowL1[i] ?? 0)) {
          out[r * m + s] = v;
        }
      }
    });
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  /**
   * Whether fewer than k features rank above feature i (pre-activation v) in the prepared row
   * at xp[o …], whose int8 products are rows 2·row and 2·row + 1 of `a` with steps s1 and s2
   * (x' ≈ s1 u₁ + s2 u₂, the second within s2 / 2 of x' in each dimension) and ‖x'‖₁ l1.
   */
  private inTopK(
    xp: Float32Array,
    o: number,
    i: number,
    v: number,
    a: Int32Array,
    row: number,
    s1: number,
    s2: number,
    l1: number,
  ): boolean {
    const { sae, k, terms } = this;
    const dSae = sae.dSae;
    const first = 2 * row * dSae;
    const second = first + dSae;
    // Per unit of s_j: the weight quantisation's share (‖x'‖₁ / 2) and encode's rounding of
    // max|w_j| ‖x'‖₁ = 127 s_j ‖x'‖₁; the whole margin is doubled for the float64 evaluation.
    const perStep = 2 * (l1 / 2 + ROUNDING * 127 * l1);
    // s₂ / 2 of each dimension, times s_j ‖q_j‖₁, doubled.
    const rowStep = s2;
    let above = 0;
    // one list for every call (inTopK runs start to end with no await in between)
    const unsure = this.unsure;
    unsure.length = 0;
    // Most features are certainly below v: their upper bound is tested first, alone. Feature i
    // itself lands among the unsure (its bound holds v) and never ranks above itself.
    for (let j = 0, t = 0; j < dSae; j++, t += TERMS) {
      const s = terms[t] as number;
      const c = s1 * (a[first + j] as number) + s2 * (a[second + j] as number);
      const spread = rowStep * (terms[t + 1] as number);
      if (s * (c + perStep) + spread + (terms[t + 3] as number) < v) continue;
      if (s * (c - perStep) - spread + (terms[t + 2] as number) > v) {
        if (++above >= k) return false;
      } else {
        unsure.push(j);
      }
    }
    // Even if every unsure feature ranked above i, fewer than k would: no need to look closer.
    if (above + unsure.length < k) return true;
    for (const j of unsure) {
      const w = sae.preActivation(xp, o, j);
      if (w > v || (w === v && j < i)) {
        if (++above >= k) return false;
      }
    }
    return true;
  }
}
