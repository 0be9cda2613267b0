/**
 * The map's input beyond decoder cosine: co-activation over the corpus. Features that fire on
 * the same examples (texts, images, faces) should sit together on the galaxy even when their
 * decoder directions are not alike. The index stores each feature's top examples
 * (top_examples: example and activation), so a feature's co-activation vector is its
 * activations over the examples it peaks on (summed over positions, L2-normalised), and the
 * co-activation of two features is the cosine of those sparse vectors.
 *
 * The map's similarity is then (1 − w) · decoder cosine + w · co-activation cosine, and the
 * k-NN graph UMAP lays out holds each feature's k most similar by it (exact, in blocks: the
 * decoder products on Gemm, the sparse products through an example → features list). A
 * feature with no top examples (dead, or a dashboard import) keeps decoder cosine alone.
 */
import type { Db } from '../../db/connection';
import type { Gemm } from './gemm';
import type { KnnGraph } from './knn';
import type { MapLayout } from './landmarks';
import { fuzzyGraph, optimizeLayout, pcaInit } from './umap';

/** Each feature's top-example vector, sparse (CSR), rows of unit length or empty. */
export interface CoactRows {
  n: number;
  /** [n + 1] row starts into col/val */
  start: Int32Array;
  /** example ids */
  col: Int32Array;
  val: Float32Array;
}

/** The co-activation vectors of an SAE's features [0, n) from its stored top examples. */
export function topExampleRows(db: Db, saeId: string, n: number): CoactRows {
  const rows = db
    .prepare(
      `select idx, example_id as e, sum(activation) as a from top_examples
       where sae_id = ? and activation > 0 group by idx, example_id order by idx, example_id`,
    )
    .all(saeId) as { idx: number; e: number; a: number }[];
  const inRange = rows.filter((r) => r.idx >= 0 && r.idx < n);
  const start = new Int32Array(n + 1);
  for (const r of inRange) start[r.idx + 1] = (start[r.idx + 1] ?? 0) + 1;
  for (let i = 0; i < n; i++) start[i + 1] = (start[i + 1] ?? 0) + (start[i] ?? 0);
  const col = new Int32Array(inRange.length);
  const val = new Float32Array(inRange.length);
  inRange.forEach((r, t) => {
    col[t] = r.e;
    val[t] = r.a;
  });
  for (let i = 0; i < n; i++) {
    const a = start[i] ?? 0;
    const b = start[i + 1] ?? 0;
    let s = 0;
    for (let t = a; t < b; t++) s += (val[t] ?? 0) ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let t = a; t < b; t++) val[t] = (val[t] ?? 0) * inv;
  }
  return { n, start, col, val };
}

/** Co-activation cosine of features i and j (both rows sorted by example id). */
export function coactCosine(r: CoactRows, i: number, j: number): number {
  let a = r.start[i] ?? 0;
  const ae = r.start[i + 1] ?? 0;
  let b = r.start[j] ?? 0;
  const be = r.start[j + 1] ?? 0;
  let s = 0;
  while (a < ae && b < be) {
    const ca = r.col[a] ?? 0;
    const cb = r.col[b] ?? 0;
    if (ca === cb) s += (r.val[a++] ?? 0) * (r.val[b++] ?? 0);
    else if (ca < cb) a++;
    else b++;
  }
  return s;
}

/** The example → (feature, value) lists of the same matrix. */
function byExample(r: CoactRows): Map<number, { f: number[]; v: number[] }> {
  const out = new Map<number, { f: number[]; v: number[] }>();
  for (let i = 0; i < r.n; i++) {
    for (let t = r.start[i] ?? 0; t < (r.start[i + 1] ?? 0); t++) {
      const e = r.col[t] ?? 0;
      let l = out.get(e);
      if (!l) out.set(e, (l = { f: [], v: [] }));
      l.f.push(i);
      l.v.push(r.val[t] ?? 0);
    }
  }
  return out;
}

/**
 * unit [n, d] decoder rows of unit length, co-activation rows, weight w in [0, 1] → each
 * feature's k most similar by (1 − w) · decoder cosine + w · co-activation cosine, most
 * similar first (sims hold that mixed similarity).
 */
export async function mixedKnn(
  gemm: Gemm,
  unit: Float32Array,
  n: number,
  d: number,
  coact: CoactRows,
  w: number,
  k: number,
  signal?: AbortSignal,
): Promise<KnnGraph> {
  const kk = Math.max(1, Math.min(k, n - 1));
  const g: KnnGraph = {
    n,
    k: kk,
    indices: new Int32Array(n * kk).fill(-1),
    sims: new Float32Array(n * kk).fill(-Infinity),
  };
  if (n < 2) return g;
  const lists = byExample(coact);
  const acc = new Float32Array(n);
  const block = Math.max(16, Math.floor(8_000_000 / n));
  for (let s = 0; s < n; s += block) {
    signal?.throwIfAborted();
    const rows = Math.min(block, n - s);
    const dec = await gemm.abt(unit.subarray(s * d, (s + rows) * d), rows, unit, n, d);
    for (let qi = 0; qi < rows; qi++) {
      const q = s + qi;
      const from = coact.start[q] ?? 0;
      const to = coact.start[q + 1] ?? 0;
      const wq = to > from ? w : 0;
      acc.fill(0);
      for (let t = from; t < to; t++) {
        const l = lists.get(coact.col[t] ?? 0);
        if (!l) continue;
        const v = coact.val[t] ?? 0;
        for (let u = 0; u < l.f.length; u++)
          acc[l.f[u] ?? 0] = (acc[l.f[u] ?? 0] ?? 0) + v * (l.v[u] ?? 0);
      }
      const base = q * kk;
      const last = base + kk - 1;
      for (let j = 0; j < n; j++) {
        if (j === q) continue;
        const sim = (1 - wq) * (dec[qi * n + j] ?? 0) + wq * (acc[j] ?? 0);
        if (!(sim > (g.sims[last] ?? -Infinity)) && (g.indices[last] ?? -1) >= 0) continue;
        let p = last;
        while (p > base && ((g.sims[p - 1] ?? 0) < sim || (g.indices[p - 1] ?? -1) < 0)) {
          g.sims[p] = g.sims[p - 1] ?? 0;
          g.indices[p] = g.indices[p - 1] ?? -1;
          p--;
        }
        g.sims[p] = sim;
        g.indices[p] = j;
      }
    }
  }
  return g;
}

/**
 * The exact map (as landmarks.ts lays out up to its exactUpTo) over the mixed k-NN graph: UMAP
 * of that graph from the decoder rows' PCA. `neighbours` holds the mixed graph.
 */
export async function mixedLayout(
  gemm: Gemm,
  unit: Float32Array,
  n: number,
  d: number,
  graph: KnnGraph,
  o: { seed: number; epochs?: number; signal?: AbortSignal },
): Promise<MapLayout> {
  const t0 = performance.now();
  const init = await pcaInit(gemm, unit, n, d, 3, o.seed);
  const xyz = optimizeLayout(fuzzyGraph(graph), init, n, {
    seed: o.seed,
    epochs: o.epochs,
    signal: o.signal,
  });
  return {
    method: 'exact',
    n,
    xyz,
    neighbours: graph,
    landmarks: new Int32Array(0),
    recall10: NaN,
    qualitySample: 0,
    workDims: d,
    seconds: (performance.now() - t0) / 1000,
  };
}
