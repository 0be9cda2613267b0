/**
 * How a block of A's features is scored against every feature of B:
 * - decoder: cosine of decoder directions (same stream width), one ORT Gemm per block
 *   (main/index/build/gemm.ts) over rows scaled to unit length;
 * - correlation: Pearson correlation of the two SAEs' activations over the same samples
 *   (zeros included), from sparse codes: A's codes by feature (CSC), B's by sample (CSR), so a
 *   block costs only the pairs of features that fire on the same sample.
 * A feature with no variance (never fired, or fired on every sample at one value) scores NaN.
 */
import { normalizeRows } from '../index/build/knn';
import type { Gemm } from '../index/build/gemm';
import type { SparseCodes } from '../index/build/saeCodes';

export interface BlockScorer {
  readonly dA: number;
  readonly dB: number;
  /** Scores of A's features a0 … a1 − 1 against every feature of B: [a1 − a0, dB]. */
  block(a0: number, a1: number): Promise<Float32Array>;
}

/** Rows of A's features per block, so a block's scores stay near 8M values. */
export function blockRows(dB: number): number {
  return Math.max(16, Math.floor(8_000_000 / Math.max(1, dB)));
}

export class DecoderScorer implements BlockScorer {
  private readonly unitA: Float32Array;
  private readonly unitB: Float32Array;

  /** decA [dA, d], decB [dB, d]: decoder rows (any length; scaled here). */
  constructor(
    private readonly gemm: Gemm,
    decA: Float32Array,
    readonly dA: number,
    decB: Float32Array,
    readonly dB: number,
    private readonly d: number,
  ) {
    this.unitA = normalizeRows(decA, dA, d);
    this.unitB = normalizeRows(decB, dB, d);
    const dead = (u: Float32Array, n: number): number[] => {
      const out: number[] = [];
      for (let r = 0; r < n; r++) if (u[r * d] === 0 && rowIsZero(u, r, d)) out.push(r);
      return out;
    };
    this.deadA = dead(this.unitA, dA);
    this.deadB = dead(this.unitB, dB);
  }

  private readonly deadA: number[];
  private readonly deadB: number[];

  async block(a0: number, a1: number): Promise<Float32Array> {
    const d = this.d;
    const rows = a1 - a0;
    const s = await this.gemm.abt(
      this.unitA.subarray(a0 * d, a1 * d),
      rows,
      this.unitB,
      this.dB,
      d,
    );
    // a zero decoder row has no direction: no match either way
    for (const a of this.deadA)
      if (a >= a0 && a < a1) s.fill(NaN, (a - a0) * this.dB, (a - a0 + 1) * this.dB);
    for (const b of this.deadB) for (let r = 0; r < rows; r++) s[r * this.dB + b] = NaN;
    return s;
  }
}

function rowIsZero(u: Float32Array, r: number, d: number): boolean {
  for (let c = 0; c < d; c++) if (u[r * d + c] !== 0) return false;
  return true;
}

/** Samples' codes on both sides, concatenated over chunks. */
export interface SampleCodes {
  samples: number;
  a: SparseCodes;
  b: SparseCodes;
}

/** Concatenates chunks of aligned sparse codes into one CSR per side. */
export function concatCodes(chunks: readonly SampleCodes[]): SampleCodes {
  const cat = (parts: SparseCodes[]): SparseCodes => {
    const rows = parts.reduce((s, p) => s + p.rows, 0);
    const nnz = parts.reduce((s, p) => s + (p.start[p.rows] ?? 0), 0);
    const start = new Int32Array(rows + 1);
    const feature = new Int32Array(nnz);
    const value = new Float32Array(nnz);
    let r0 = 0;
    let e0 = 0;
    for (const p of parts) {
      const n = p.start[p.rows] ?? 0;
      for (let r = 0; r < p.rows; r++) start[r0 + r] = e0 + (p.start[r] ?? 0);
      feature.set(p.feature.subarray(0, n), e0);
      value.set(p.value.subarray(0, n), e0);
      r0 += p.rows;
      e0 += n;
    }
    start[rows] = e0;
    return { rows, start, feature, value };
  };
  return {
    samples: chunks.reduce((s, c) => s + c.samples, 0),
    a: cat(chunks.map((c) => c.a)),
    b: cat(chunks.map((c) => c.b)),
  };
}

/** Per feature: how many samples it fired on, Σv and Σv². */
export interface FeatureMoments {
  nActive: Int32Array;
  sum: Float64Array;
  sumSq: Float64Array;
}

export function moments(codes: SparseCodes, d: number): FeatureMoments {
  const nActive = new Int32Array(d);
  const sum = new Float64Array(d);
  const sumSq = new Float64Array(d);
  const nnz = codes.start[codes.rows] ?? 0;
  for (let e = 0; e < nnz; e++) {
    const j = codes.feature[e] as number;
    const v = codes.value[e] as number;
    nActive[j] = (nActive[j] as number) + 1;
    sum[j] = (sum[j] as number) + v;
    sumSq[j] = (sumSq[j] as number) + v * v;
  }
  return { nActive, sum, sumSq };
}

export class CorrelationScorer implements BlockScorer {
  /** A's codes by feature: colStart [dA + 1], colSample, colValue */
  private readonly colStart: Int32Array;
  private readonly colSample: Int32Array;
  private readonly colValue: Float32Array;
  readonly momentsA: FeatureMoments;
  readonly momentsB: FeatureMoments;
  /** n Σv² − (Σv)² per feature, or 0 (no variance) */
  private readonly varA: Float64Array;
  private readonly varB: Float64Array;

  constructor(
    private readonly codes: SampleCodes,
    readonly dA: number,
    readonly dB: number,
  ) {
    const a = codes.a;
    if (a.rows !== codes.samples || codes.b.rows !== codes.samples)
      throw new RangeError('both sides need one row of codes per sample');
    this.momentsA = moments(a, dA);
    this.momentsB = moments(codes.b, dB);
    const n = codes.samples;
    const variance = (m: FeatureMoments, d: number): Float64Array => {
      const out = new Float64Array(d);
      for (let j = 0; j < d; j++) {
        const v = n * (m.sumSq[j] as number) - (m.sum[j] as number) ** 2;
        // relative to the scale, a rounding residue is no variance
        out[j] = v > 1e-9 * n * (m.sumSq[j] as number) ? v : 0;
      }
      return out;
    };
    this.varA = variance(this.momentsA, dA);
    this.varB = variance(this.momentsB, dB);
    this.colStart = new Int32Array(dA + 1);
    for (let j = 0; j < dA; j++)
      this.colStart[j + 1] = (this.colStart[j] as number) + (this.momentsA.nActive[j] as number);
    const nnz = this.colStart[dA] as number;
    this.colSample = new Int32Array(nnz);
    this.colValue = new Float32Array(nnz);
    const fill = this.colStart.slice(0, dA);
    for (let s = 0; s < a.rows; s++) {
      for (let e = a.start[s] as number; e < (a.start[s + 1] as number); e++) {
        const j = a.feature[e] as number;
        const at = fill[j] as number;
        this.colSample[at] = s;
        this.colValue[at] = a.value[e] as number;
        fill[j] = at + 1;
      }
    }
  }

  async block(a0: number, a1: number): Promise<Float32Array> {
    const dB = this.dB;
    const rows = a1 - a0;
    const b = this.codes.b;
    const n = this.codes.samples;
    const cross = new Float64Array(dB);
    const out = new Float32Array(rows * dB);
    for (let r = 0; r < rows; r++) {
      const ja = a0 + r;
      const va = this.varA[ja] as number;
      if (va === 0) {
        out.fill(NaN, r * dB, (r + 1) * dB);
        continue;
      }
      cross.fill(0);
      for (let e = this.colStart[ja] as number; e < (this.colStart[ja + 1] as number); e++) {
        const s = this.colSample[e] as number;
        const x = this.colValue[e] as number;
        for (let f = b.start[s] as number; f < (b.start[s + 1] as number); f++) {
          const jb = b.feature[f] as number;
          cross[jb] = (cross[jb] as number) + x * (b.value[f] as number);
        }
      }
      const sa = this.momentsA.sum[ja] as number;
      const o = r * dB;
      for (let jb = 0; jb < dB; jb++) {
        const vb = this.varB[jb] as number;
        out[o + jb] =
          vb === 0
            ? NaN
            : (n * (cross[jb] as number) - sa * (this.momentsB.sum[jb] as number)) /
              Math.sqrt(va * vb);
      }
    }
    // synchronous work, but a scorer's block is awaited like the Gemm's, so a build can be
    // cancelled between blocks
    await Promise.resolve();
    return out;
  }
}
