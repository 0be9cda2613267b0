/**
 * Per-feature statistics streamed over the corpus, one chunk at a time: how many positions
 * a feature is active on, the sum and max of its activations, a log-binned histogram, the
 * per-example maximum (for metadata associations) and the top examples (a bounded list).
 * Nothing holds every activation; the state after each chunk is what the build commits.
 */
import { HISTOGRAM_BINS, HISTOGRAM_LOW } from '../migrations';
import type { SparseCodes } from './saeCodes';

/** Where a top example's feature peaked, and the window shown on the card. */
export interface TopEntry {
  activation: number;
  example: number;
  position: number;
  /** JSON: text {tokens, acts, start, focus}; spatial {grid, acts}; else {} */
  window: string;
}

/** a ranks above b: larger activation, then lower example id (a total order). */
export function ranksAbove(a: TopEntry, b: TopEntry): boolean {
  return a.activation > b.activation || (a.activation === b.activation && a.example < b.example);
}

/** Histogram bin of a positive activation: quarter-octaves from 2^(HISTOGRAM_LOW / 4). */
export function histogramBin(v: number): number {
  const b = Math.floor(Math.log2(v) * 4) - HISTOGRAM_LOW;
  return b < 0 ? 0 : b >= HISTOGRAM_BINS ? HISTOGRAM_BINS - 1 : b;
}

export class FeatureAccumulators {
  readonly nActive: Float64Array;
  readonly sum: Float64Array;
  readonly max: Float64Array;
  /** [d_sae, HISTOGRAM_BINS] */
  readonly histogram: Uint32Array;
  /** Top examples per feature, best first. */
  readonly top: TopEntry[][];
  /** Features whose stats or top list changed since the last commit. */
  readonly dirtyStats = new Set<number>();
  readonly dirtyTop = new Set<number>();

  constructor(
    readonly dSae: number,
    readonly topK: number,
  ) {
    this.nActive = new Float64Array(dSae);
    this.sum = new Float64Array(dSae);
    this.max = new Float64Array(dSae);
    this.histogram = new Uint32Array(dSae * HISTOGRAM_BINS);
    this.top = Array.from({ length: dSae }, () => []);
  }

  /** One active position. */
  addActivation(j: number, v: number): void {
    this.nActive[j] = (this.nActive[j] ?? 0) + 1;
    this.sum[j] = (this.sum[j] ?? 0) + v;
    if (v > (this.max[j] ?? 0)) this.max[j] = v;
    const h = j * HISTOGRAM_BINS + histogramBin(v);
    this.histogram[h] = (this.histogram[h] ?? 0) + 1;
    this.dirtyStats.add(j);
  }

  /** Would an example with this peak enter feature j's top list? */
  wouldEnter(j: number, activation: number, example: number): boolean {
    const list = this.top[j] as TopEntry[];
    if (list.length < this.topK) return true;
    const last = list[list.length - 1] as TopEntry;
    return ranksAbove({ activation, example, position: 0, window: '' }, last);
  }

  offerTop(j: number, entry: TopEntry): void {
    const list = this.top[j] as TopEntry[];
    let i = list.length;
    while (i > 0 && ranksAbove(entry, list[i - 1] as TopEntry)) i--;
    if (i >= this.topK) return;
    list.splice(i, 0, entry);
    if (list.length > this.topK) list.pop();
    this.dirtyTop.add(j);
  }

  clearDirty(): void {
    this.dirtyStats.clear();
    this.dirtyTop.clear();
  }
}

/**
 * Feeds one chunk's SAE codes into the accumulators. Rows of one example are contiguous.
 * `codes` sparse, one row per position; `example`/`position` [rows]. Calls `exampleMax` once per
 * (example, active feature) with the example's peak, and `window` to build the display
 * window of an example that enters a top list.
 */
export class ChunkFolder {
  private readonly peak: Float32Array;
  private readonly peakPos: Int32Array;
  private readonly touched: number[] = [];
  /** Sparse codes of the current example: position, feature, value. */
  private readonly sparsePos: number[] = [];
  private readonly sparseFeat: number[] = [];
  private readonly sparseVal: number[] = [];
  private current = -1;

  constructor(
    private readonly acc: FeatureAccumulators,
    private readonly exampleMax: (example: number, feature: number, activation: number) => void,
    private readonly window: (
      example: number,
      feature: number,
      focus: number,
      acts: ReadonlyMap<number, number>,
    ) => string,
  ) {
    this.peak = new Float32Array(acc.dSae);
    this.peakPos = new Int32Array(acc.dSae);
  }

  fold(codes: SparseCodes, example: Int32Array, position: Int32Array): void {
    const { start, feature, value } = codes;
    for (let r = 0; r < codes.rows; r++) {
      const ex = example[r] ?? 0;
      if (ex !== this.current) {
        this.flush();
        this.current = ex;
      }
      const pos = position[r] ?? 0;
      const end = start[r + 1] ?? 0;
      for (let e = start[r] ?? 0; e < end; e++) {
        const j = feature[e] ?? 0;
        const v = value[e] ?? 0;
        if (!(v > 0)) continue;
        this.acc.addActivation(j, v);
        const p = this.peak[j] ?? 0;
        if (p === 0) this.touched.push(j);
        if (v > p) {
          this.peak[j] = v;
          this.peakPos[j] = pos;
        }
        this.sparsePos.push(pos);
        this.sparseFeat.push(j);
        this.sparseVal.push(v);
      }
    }
  }

  /** Ends the current example (call after the last chunk row too). */
  flush(): void {
    const ex = this.current;
    if (ex < 0) return;
    this.touched.sort((a, b) => a - b);
    let byFeature: Map<number, Map<number, number>> | null = null;
    for (const j of this.touched) {
      const v = this.peak[j] ?? 0;
      this.exampleMax(ex, j, v);
      if (this.acc.wouldEnter(j, v, ex)) {
        if (!byFeature) {
          byFeature = new Map();
          for (let s = 0; s < this.sparseFeat.length; s++) {
            const f = this.sparseFeat[s] ?? 0;
            let m = byFeature.get(f);
            if (!m) byFeature.set(f, (m = new Map()));
            m.set(this.sparsePos[s] ?? 0, this.sparseVal[s] ?? 0);
          }
        }
        const focus = this.peakPos[j] ?? 0;
        this.acc.offerTop(j, {
          activation: v,
          example: ex,
          position: focus,
          window: this.window(ex, j, focus, byFeature.get(j) ?? new Map()),
        });
      }
      this.peak[j] = 0;
    }
    this.touched.length = 0;
    this.sparsePos.length = 0;
    this.sparseFeat.length = 0;
    this.sparseVal.length = 0;
    this.current = -1;
  }
}
