/**
 * SAE codes of many rows at once, sparse (CSR), for the index build. TopK SAEs run whole in
 * ORT (one graph built in code: Gemm with the bias, TopK, Relu), so only k values per row
 * ever reach JS; other architectures take the product from ORT and the activation from
 * Sae.activatePre, then keep the non-zeros. Both give exactly what Sae.encode gives, up to
 * the order of a row's entries and float rounding in the product.
 */
import { OnnxSession } from '../../runtime/onnx';
import { topkGraph, topkOf } from '../../runtime/saeTopk';
import type { Sae } from '../../sae';
import type { Gemm } from './gemm';

export interface SparseCodes {
  rows: number;
  /** [rows + 1]: row r's entries are start[r] … start[r + 1] - 1 */
  start: Int32Array;
  feature: Int32Array;
  value: Float32Array;
}

export interface SaeCoder {
  /** x' (prepared input, [n, d_in]) → sparse codes */
  codes(xp: Float32Array, n: number): Promise<SparseCodes>;
  dispose(): Promise<void>;
}

/** Keeps the positive entries of [n, width] values (with their feature ids) as CSR. */
export function toSparse(
  values: Float32Array,
  n: number,
  width: number,
  featureOf: (row: number, slot: number) => number,
): SparseCodes {
  const start = new Int32Array(n + 1);
  let count = 0;
  for (let i = 0; i < n * width; i++) if ((values[i] ?? 0) > 0) count++;
  const feature = new Int32Array(count);
  const value = new Float32Array(count);
  let e = 0;
  for (let r = 0; r < n; r++) {
    start[r] = e;
    const o = r * width;
    for (let s = 0; s < width; s++) {
      const v = values[o + s] ?? 0;
      if (!(v > 0)) continue;
      feature[e] = featureOf(r, s);
      value[e] = v;
      e++;
    }
  }
  start[n] = e;
  return { rows: n, start, feature, value };
}

class TopkCoder implements SaeCoder {
  constructor(
    private readonly onnx: OnnxSession,
    private readonly k: number,
  ) {}

  async codes(xp: Float32Array, n: number): Promise<SparseCodes> {
    if (n === 0) return toSparse(new Float32Array(0), 0, this.k, () => 0);
    const out = await this.onnx.run({ x: { dims: [n, xp.length / n], data: xp } });
    const values = out.values?.data;
    const indices = out.indices?.data;
    if (!(values instanceof Float32Array) || !(indices instanceof Int32Array)) {
      throw new Error('the TopK encoder gave no values or indices');
    }
    const k = this.k;
    return toSparse(values, n, k, (r, s) => indices[r * k + s] ?? 0);
  }

  async dispose(): Promise<void> {
    await this.onnx.release();
  }
}

class DenseCoder implements SaeCoder {
  constructor(
    private readonly sae: Sae,
    private readonly gemm: Gemm,
  ) {}

  async codes(xp: Float32Array, n: number): Promise<SparseCodes> {
    const d = this.sae.dSae;
    const pre = await this.gemm.abt(xp, n, this.sae.encoderTransposed, d, this.sae.dIn);
    return toSparse(this.sae.activatePre(pre, n), n, d, (_, s) => s);
  }

  async dispose(): Promise<void> {
    // the Gemm belongs to the caller
  }
}

export async function createSaeCoder(sae: Sae, gemm: Gemm, threads = 1): Promise<SaeCoder> {
  const k = topkOf(sae);
  if (k !== null) {
    const onnx = await OnnxSession.create(topkGraph(sae, k), { intraOpThreads: threads });
    return new TopkCoder(onnx, k);
  }
  return new DenseCoder(sae, gemm);
}
