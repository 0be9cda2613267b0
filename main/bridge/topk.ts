/**
 * The k best (score, index) pairs for each of n rows, best first, with a fast reject against
 * each row's k-th score; and the fold of one dense block of scores into both sides' tables
 * (A's rows from the block's rows, B's from its columns), so a bridge needs one pass over
 * A × B whatever its size.
 */

export class TopTable {
  /** [n, k] indices on the other side, best first; −1 where fewer were offered */
  readonly idx: Int32Array;
  /** [n, k] scores, best first; −Infinity where fewer were offered */
  readonly score: Float32Array;
  /** [n] the k-th best score so far (what a new offer must beat) */
  private readonly floor: Float32Array;

  constructor(
    readonly n: number,
    readonly k: number,
    idx?: Int32Array,
    score?: Float32Array,
  ) {
    this.idx = idx ?? new Int32Array(n * k).fill(-1);
    this.score = score ?? new Float32Array(n * k).fill(-Infinity);
    if (this.idx.length !== n * k || this.score.length !== n * k)
      throw new RangeError(`a top table of ${n} × ${k} needs ${n * k} entries`);
    this.floor = new Float32Array(n);
    for (let r = 0; r < n; r++) this.floor[r] = this.score[r * k + k - 1] ?? -Infinity;
  }

  /** Offers `s` for (row, j); kept if it beats the row's k-th best. */
  offer(row: number, s: number, j: number): void {
    if (!(s > (this.floor[row] as number))) return;
    const k = this.k;
    const base = row * k;
    let p = base + k - 1;
    while (p > base && (this.score[p - 1] as number) < s) {
      this.score[p] = this.score[p - 1] as number;
      this.idx[p] = this.idx[p - 1] as number;
      p--;
    }
    this.score[p] = s;
    this.idx[p] = j;
    this.floor[row] = this.score[base + k - 1] as number;
  }

  /** Row r's kept pairs, best first. */
  row(r: number): { other: number; score: number }[] {
    const out: { other: number; score: number }[] = [];
    for (let t = 0; t < this.k; t++) {
      const j = this.idx[r * this.k + t] as number;
      if (j < 0) break;
      out.push({ other: j, score: this.score[r * this.k + t] as number });
    }
    return out;
  }
}

/**
 * Folds scores [rows, m] of A's features a0 … a0 + rows − 1 against all m of B's into A's
 * table (rows of `aTop`, from 0 for a0) and B's table. NaN scores (a feature that never
 * fired) are offered nowhere.
 */
export function foldBlock(
  scores: Float32Array,
  rows: number,
  m: number,
  aTop: TopTable,
  aRow0: number,
  bTop: TopTable,
  a0: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * m;
    for (let j = 0; j < m; j++) {
      const s = scores[o + j] as number;
      aTop.offer(aRow0 + r, s, j);
      bTop.offer(j, s, a0 + r);
    }
  }
}
