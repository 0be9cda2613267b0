/**
 * k nearest features by cosine of their decoder directions: the "nearest features" of a
 * card and the graph UMAP lays out. Products run as Gemm blocks on onnxruntime.
 * - exact (n ≤ exactBelow): every row against every row, in blocks;
 * - IVF (larger n): spherical k-means into ~√n lists; each list searches the members of the
 *   `nprobe` lists whose centroids are nearest its own. The bench reports its recall.
 */
import { GEMM_OUT_FLOATS, type Gemm } from './gemm';
import { mulberry32 } from './rng';

export interface KnnGraph {
  n: number;
  k: number;
  /** [n, k] neighbour indices, nearest first (never the point itself; −1 if fewer exist) */
  indices: Int32Array;
  /** [n, k] cosine similarities */
  sims: Float32Array;
}

/** Rows scaled to unit length (a zero row stays zero). m [n, d] → [n, d] */
export function normalizeRows(m: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += (m[r * d + c] ?? 0) ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < d; c++) out[r * d + c] = (m[r * d + c] ?? 0) * inv;
  }
  return out;
}

/** Keeps the k largest (sim, index) offered for one row, best first. */
function offerRow(
  idx: Int32Array,
  sim: Float32Array,
  base: number,
  k: number,
  s: number,
  j: number,
): void {
  const last = base + k - 1;
  if (!(s > (sim[last] ?? -Infinity)) && (idx[last] ?? -1) >= 0) return;
  let p = last;
  while (p > base && ((sim[p - 1] ?? 0) < s || (idx[p - 1] ?? -1) < 0)) {
    sim[p] = sim[p - 1] ?? 0;
    idx[p] = idx[p - 1] ?? -1;
    p--;
  }
  sim[p] = s;
  idx[p] = j;
}

function gather(v: Float32Array, d: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] ?? 0;
    out.set(v.subarray(r * d, (r + 1) * d), i * d);
  }
  return out;
}

/** Searches `queries` against `cands` (global row ids) and merges into the graph. */
async function searchBlock(
  gemm: Gemm,
  v: Float32Array,
  d: number,
  queries: ArrayLike<number>,
  cands: ArrayLike<number>,
  g: KnnGraph,
): Promise<void> {
  const ca = gather(v, d, cands);
  const m = cands.length;
  // queries in chunks, so each product stays about GEMM_OUT_FLOATS
  const chunk = Math.max(16, Math.floor(GEMM_OUT_FLOATS / Math.max(1, m)));
  for (let q0 = 0; q0 < queries.length; q0 += chunk) {
    const q1 = Math.min(queries.length, q0 + chunk);
    const qs = Array.prototype.slice.call(queries, q0, q1) as number[];
    const sims = await gemm.abt(gather(v, d, qs), q1 - q0, ca, m, d);
    for (let qi = 0; qi < q1 - q0; qi++) {
      const q = qs[qi] ?? 0;
      const base = q * g.k;
      const row = qi * m;
      for (let ci = 0; ci < m; ci++) {
        const c = cands[ci] ?? 0;
        if (c === q) continue;
        offerRow(g.indices, g.sims, base, g.k, sims[row + ci] ?? 0, c);
      }
    }
  }
}

function emptyGraph(n: number, k: number): KnnGraph {
  return {
    n,
    k,
    indices: new Int32Array(n * k).fill(-1),
    sims: new Float32Array(n * k).fill(-Infinity),
  };
}

export interface KnnOptions {
  exactBelow?: number;
  nprobe?: number;
  seed?: number;
  signal?: AbortSignal;
}

/** unit [n, d] (rows of unit length) → the k nearest by cosine. */
export async function knnCosine(
  gemm: Gemm,
  unit: Float32Array,
  n: number,
  d: number,
  k: number,
  options: KnnOptions = {},
): Promise<KnnGraph> {
  const kk = Math.max(1, Math.min(k, n - 1));
  const g = emptyGraph(n, kk);
  if (n < 2) return g;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  if (n <= (options.exactBelow ?? 12_000)) {
    const block = Math.max(64, Math.floor(GEMM_OUT_FLOATS / n));
    for (let s = 0; s < n; s += block) {
      options.signal?.throwIfAborted();
      await searchBlock(gemm, unit, d, all.subarray(s, Math.min(n, s + block)), all, g);
    }
    return g;
  }
  const lists = await sphericalKmeans(
    gemm,
    unit,
    n,
    d,
    Math.round(Math.sqrt(n)),
    options.seed ?? 1,
  );
  return knnInLists(gemm, unit, d, lists.centroids, lists.members, kk, options.nprobe ?? 12, {
    signal: options.signal,
  });
}

/**
 * The k nearest of every row among the members of the `nprobe` lists whose centroids are
 * nearest its own list's (IVF over lists made elsewhere). members[c]: the rows of list c; every
 * row is in exactly one list.
 */
export async function knnInLists(
  gemm: Gemm,
  unit: Float32Array,
  d: number,
  centroids: Float32Array,
  members: readonly (readonly number[])[],
  k: number,
  nprobe: number,
  options: { signal?: AbortSignal; onList?: (done: number, total: number) => void } = {},
): Promise<KnnGraph> {
  const n = unit.length / d;
  const g = emptyGraph(n, Math.max(1, Math.min(k, n - 1)));
  const nl = centroids.length / d;
  const cc = await gemm.abt(centroids, nl, centroids, nl, d);
  const probe = Math.min(nl, nprobe);
  for (let c = 0; c < nl; c++) {
    options.signal?.throwIfAborted();
    const own = members[c] as readonly number[];
    if (own.length === 0) continue;
    const near = Array.from({ length: nl }, (_, i) => i)
      .sort((a, b) => (cc[c * nl + b] ?? 0) - (cc[c * nl + a] ?? 0))
      .slice(0, probe);
    const cands: number[] = [];
    for (const l of near) for (const m of members[l] as readonly number[]) cands.push(m);
    await searchBlock(gemm, unit, d, own, cands, g);
    options.onList?.(c + 1, nl);
  }
  return g;
}

/** Spherical k-means (cosine), seeded; assignments by Gemm. */
export async function sphericalKmeans(
  gemm: Gemm,
  unit: Float32Array,
  n: number,
  d: number,
  nl: number,
  seed: number,
  iterations = 8,
): Promise<{ centroids: Float32Array; members: number[][] }> {
  const rand = mulberry32(seed);
  const pick = new Set<number>();
  while (pick.size < Math.min(nl, n)) pick.add(Math.floor(rand() * n));
  let centroids = gather(unit, d, [...pick]);
  const k = pick.size;
  let members: number[][] = [];
  const block = Math.max(64, Math.floor(GEMM_OUT_FLOATS / k));
  for (let it = 0; it < iterations; it++) {
    members = Array.from({ length: k }, () => []);
    const sums = new Float64Array(k * d);
    for (let s = 0; s < n; s += block) {
      const e = Math.min(n, s + block);
      const sims = await gemm.abt(unit.subarray(s * d, e * d), e - s, centroids, k, d);
      for (let r = s; r < e; r++) {
        let best = 0;
        let bv = -Infinity;
        const o = (r - s) * k;
        for (let c = 0; c < k; c++) {
          const v = sims[o + c] ?? 0;
          if (v > bv) {
            bv = v;
            best = c;
          }
        }
        (members[best] as number[]).push(r);
        for (let t = 0; t < d; t++)
          sums[best * d + t] = (sums[best * d + t] ?? 0) + (unit[r * d + t] ?? 0);
      }
    }
    const next = new Float32Array(k * d);
    for (let c = 0; c < k; c++) {
      if ((members[c] as number[]).length === 0) {
        const r0 = Math.floor(rand() * n);
        next.set(unit.subarray(r0 * d, r0 * d + d), c * d);
        continue;
      }
      for (let t = 0; t < d; t++) next[c * d + t] = sums[c * d + t] ?? 0;
    }
    centroids = normalizeRows(next, k, d);
  }
  return { centroids, members };
}
