/**
 * Samples two readers of the same inputs can be compared on:
 * - text: character spans. Each token covers [end of the previous, its own end) of the text
 *   its tokenizer decodes; the atoms are the pieces between every boundary of either
 *   tokenization, and an atom's activation on each side is that of the token covering it.
 *   Two tokenizers that cut the text alike give one atom per token; a byte-level token that
 *   holds part of a character covers nothing (its group's last token covers the character).
 * - examples (images, faces, or a text side against a per-example side): each example's
 *   rows pooled by their maximum per feature.
 */
import type { SparseCodes } from '../index/build/saeCodes';

/**
 * The character end of each token of `ids` in the decoded text: tokens are decoded in the
 * smallest groups that make whole characters (a group whose text ends in U+FFFD waits for the
 * next token), and a group's characters are counted at its last token.
 */
export function tokenEnds(ids: readonly number[], decode: (ids: number[]) => string): Int32Array {
  const ends = new Int32Array(ids.length);
  let pos = 0;
  let group: number[] = [];
  ids.forEach((id, i) => {
    group.push(id);
    const text = decode(group);
    const partial = text.endsWith('\uFFFD') && i < ids.length - 1 && group.length < 4;
    if (!partial) {
      pos += text.length;
      group = [];
    }
    ends[i] = pos;
  });
  return ends;
}

/** Atoms of two tokenizations: for each, the token of A and of B that covers it. */
export function alignEnds(
  aEnds: ArrayLike<number>,
  bEnds: ArrayLike<number>,
): { a: Int32Array; b: Int32Array } {
  const a: number[] = [];
  const b: number[] = [];
  let pos = 0;
  let i = 0;
  let j = 0;
  while (i < aEnds.length && j < bEnds.length) {
    const ea = aEnds[i] as number;
    const eb = bEnds[j] as number;
    const next = Math.min(ea, eb);
    if (next > pos) {
      a.push(i);
      b.push(j);
      pos = next;
    }
    if (ea <= pos) i++;
    if (eb <= pos) j++;
  }
  return { a: Int32Array.from(a), b: Int32Array.from(b) };
}

/** Rows `pick` of `codes`, in that order (a row may be picked more than once). */
export function pickRows(codes: SparseCodes, pick: ArrayLike<number>): SparseCodes {
  const start = new Int32Array(pick.length + 1);
  let nnz = 0;
  for (let r = 0; r < pick.length; r++) {
    const s = pick[r] as number;
    nnz += (codes.start[s + 1] as number) - (codes.start[s] as number);
    start[r + 1] = nnz;
  }
  const feature = new Int32Array(nnz);
  const value = new Float32Array(nnz);
  for (let r = 0; r < pick.length; r++) {
    const s = pick[r] as number;
    const from = codes.start[s] as number;
    const to = codes.start[s + 1] as number;
    feature.set(codes.feature.subarray(from, to), start[r] as number);
    value.set(codes.value.subarray(from, to), start[r] as number);
  }
  return { rows: pick.length, start, feature, value };
}

/**
 * One row per example of `examples` (in that order, an example without rows gives an empty
 * row): every feature's maximum over the rows whose example (`rowExample`) it is.
 */
export function maxPool(
  codes: SparseCodes,
  rowExample: ArrayLike<number>,
  examples: readonly number[],
): SparseCodes {
  const best = new Map<number, Map<number, number>>(examples.map((e) => [e, new Map()]));
  for (let r = 0; r < codes.rows; r++) {
    const m = best.get(rowExample[r] as number);
    if (!m) continue;
    for (let e = codes.start[r] as number; e < (codes.start[r + 1] as number); e++) {
      const j = codes.feature[e] as number;
      const v = codes.value[e] as number;
      if (v > (m.get(j) ?? 0)) m.set(j, v);
    }
  }
  const starts: number[] = [0];
  const feature: number[] = [];
  const value: number[] = [];
  for (const ex of examples) {
    for (const [j, v] of [...(best.get(ex) as Map<number, number>)].sort((x, y) => x[0] - y[0])) {
      feature.push(j);
      value.push(v);
    }
    starts.push(feature.length);
  }
  return {
    rows: examples.length,
    start: Int32Array.from(starts),
    feature: Int32Array.from(feature),
    value: Float32Array.from(value),
  };
}
