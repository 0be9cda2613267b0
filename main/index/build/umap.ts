/**
 * UMAP (McInnes et al. 2018) of a k-NN graph into 3D, on typed arrays and a seeded PRNG:
 * fuzzy simplicial set from the k-NN distances (1 − cosine), fuzzy union, then SGD with
 * negative sampling as in umap-learn's optimize_layout_euclidean. Initialised from the
 * data's first three principal components (umap-learn's init="pca"), so the layout keeps
 * the large-scale structure and is the same for the same seed.
 */
import type { Gemm } from './gemm';
import type { KnnGraph } from './knn';
import { mulberry32 } from './rng';

export interface UmapOptions {
  dims?: number;
  /** default 200 (umap-learn uses 500 below 10k points; 200 keeps small maps as clean, measured in the bench) */
  epochs?: number;
  seed?: number;
  /** curve parameters for min_dist 0.1, spread 1 */
  a?: number;
  b?: number;
  negativeSampleRate?: number;
  learningRate?: number;
  signal?: AbortSignal;
  onEpoch?: (epoch: number, total: number) => void;
}

export interface FuzzyGraph {
  head: Int32Array;
  tail: Int32Array;
  weight: Float32Array;
}

/**
 * UMAP's smooth-kNN bandwidth of one point: the sigma at which Σ exp(−(d_t − rho) / sigma) over
 * its neighbours' distances reaches `target`, by bisection. `dist(t)` is null for an empty slot.
 */
export function smoothSigma(
  dist: (t: number) => number | null,
  k: number,
  rho: number,
  target: number,
  iterations: number,
  tolerance: number,
): number {
  let lo = 0;
  let hi = Infinity;
  let sigma = 1;
  for (let it = 0; it < iterations; it++) {
    let psum = 0;
    for (let t = 0; t < k; t++) {
      const d = dist(t);
      if (d === null) continue;
      const dd = d - rho;
      psum += dd > 0 ? Math.exp(-dd / sigma) : 1;
    }
    if (Math.abs(psum - target) < tolerance) break;
    if (psum > target) {
      hi = sigma;
      sigma = (lo + hi) / 2;
    } else {
      lo = sigma;
      sigma = hi === Infinity ? sigma * 2 : (lo + hi) / 2;
    }
  }
  return sigma;
}

/** The symmetric fuzzy graph (both directions of each edge) from a k-NN graph. */
export function fuzzyGraph(g: KnnGraph): FuzzyGraph {
  const { n, k } = g;
  const target = Math.log2(k);
  const w = new Float32Array(n * k);
  let meanAll = 0;
  let cnt = 0;
  for (let i = 0; i < n * k; i++) {
    if ((g.indices[i] ?? -1) >= 0) {
      meanAll += 1 - (g.sims[i] ?? 0);
      cnt++;
    }
  }
  meanAll = cnt ? meanAll / cnt : 1;
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let rho = Infinity;
    let mean = 0;
    let m = 0;
    for (let t = 0; t < k; t++) {
      if ((g.indices[o + t] ?? -1) < 0) continue;
      const dist = Math.max(0, 1 - (g.sims[o + t] ?? 0));
      if (dist > 0 && dist < rho) rho = dist;
      mean += dist;
      m++;
    }
    if (m === 0) continue;
    mean /= m;
    if (!Number.isFinite(rho)) rho = 0;
    let sigma = smoothSigma(
      (t) => ((g.indices[o + t] ?? -1) < 0 ? null : Math.max(0, 1 - (g.sims[o + t] ?? 0))),
      k,
      rho,
      target,
      64,
      1e-5,
    );
    const floor = 1e-3 * (rho > 0 ? mean : meanAll);
    if (sigma < floor) sigma = floor;
    for (let t = 0; t < k; t++) {
      if ((g.indices[o + t] ?? -1) < 0) continue;
      const dd = Math.max(0, 1 - (g.sims[o + t] ?? 0)) - rho;
      w[o + t] = dd > 0 ? Math.exp(-dd / sigma) : 1;
    }
  }
  // Fuzzy union: w_ij + w_ji − w_ij·w_ji, over the edges of both directions. Each edge goes to
  // the bucket of its smaller end (counting sort), each bucket is sorted by the other end, and
  // a pair seen from both sides is folded: the edges come out ordered by (min, max) end. A pair
  // seen once had w_ji = 0 in the other direction: the union is just w_ij.
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = g.indices[i * k + t] ?? -1;
      if (j >= 0) start[Math.min(i, j) + 1] = (start[Math.min(i, j) + 1] ?? 0) + 1;
    }
  }
  for (let i = 0; i < n; i++) start[i + 1] = (start[i + 1] ?? 0) + (start[i] ?? 0);
  const fill = start.slice(0, n);
  const other = new Int32Array(start[n] ?? 0);
  const val = new Float32Array(start[n] ?? 0);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = g.indices[i * k + t] ?? -1;
      if (j < 0) continue;
      const a = Math.min(i, j);
      const at = fill[a] ?? 0;
      fill[a] = at + 1;
      other[at] = Math.max(i, j);
      val[at] = w[i * k + t] ?? 0;
    }
  }
  let m = 0;
  for (let a = 0; a < n; a++) {
    const s = start[a] ?? 0;
    const e = start[a + 1] ?? 0;
    // insertion sort by the other end (stable: a pair's first direction is folded first)
    for (let x = s + 1; x < e; x++) {
      const b = other[x] ?? 0;
      const v = val[x] ?? 0;
      let y = x - 1;
      while (y >= s && (other[y] ?? 0) > b) {
        other[y + 1] = other[y] ?? 0;
        val[y + 1] = val[y] ?? 0;
        y--;
      }
      other[y + 1] = b;
      val[y + 1] = v;
    }
    for (let x = s; x < e; x++) if (x === s || other[x] !== other[x - 1]) m++;
  }
  const head = new Int32Array(2 * m);
  const tail = new Int32Array(2 * m);
  const weight = new Float32Array(2 * m);
  let e = 0;
  for (let a = 0; a < n; a++) {
    const s = start[a] ?? 0;
    const end = start[a + 1] ?? 0;
    for (let x = s; x < end;) {
      const b = other[x] ?? 0;
      let v = val[x] ?? 0;
      for (x++; x < end && other[x] === b; x++) {
        const u = val[x] ?? 0;
        v = v + u - v * u;
      }
      head[e] = a;
      tail[e] = b;
      weight[e++] = v;
      head[e] = b;
      tail[e] = a;
      weight[e++] = v;
    }
  }
  return { head, tail, weight };
}

/** First `dims` principal components of rows [n, d], as [n, dims], scaled to ±10. */
export async function pcaInit(
  gemm: Gemm,
  x: Float32Array,
  n: number,
  d: number,
  dims: number,
  seed: number,
): Promise<Float32Array> {
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < d; c++) mean[c] = (mean[c] ?? 0) + (x[r * d + c] ?? 0);
  for (let c = 0; c < d; c++) mean[c] = (mean[c] ?? 0) / Math.max(1, n);
  const xt = new Float32Array(d * n);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < d; c++) xt[c * n + r] = (x[r * d + c] ?? 0) - (mean[c] ?? 0);
  const cov = await gemm.abt(xt, d, xt, d, n);
  const rand = mulberry32(seed ^ 0x5eed);
  const comps: Float64Array[] = [];
  for (let p = 0; p < dims; p++) {
    let v: Float64Array = Float64Array.from({ length: d }, () => rand() - 0.5);
    for (let it = 0; it < 100; it++) {
      for (const u of comps) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += (v[c] ?? 0) * (u[c] ?? 0);
        for (let c = 0; c < d; c++) v[c] = (v[c] ?? 0) - dot * (u[c] ?? 0);
      }
      const nv = new Float64Array(d);
      for (let r = 0; r < d; r++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += (cov[r * d + c] ?? 0) * (v[c] ?? 0);
        nv[r] = s;
      }
      let norm = 0;
      for (let c = 0; c < d; c++) norm += (nv[c] ?? 0) ** 2;
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      for (let c = 0; c < d; c++) nv[c] = (nv[c] ?? 0) / norm;
      v = nv;
    }
    comps.push(v);
  }
  const out = new Float32Array(n * dims);
  let maxAbs = 0;
  for (let r = 0; r < n; r++) {
    for (let p = 0; p < dims; p++) {
      const u = comps[p] as Float64Array;
      let s = 0;
      for (let c = 0; c < d; c++) s += ((x[r * d + c] ?? 0) - (mean[c] ?? 0)) * (u[c] ?? 0);
      out[r * dims + p] = s;
      maxAbs = Math.max(maxAbs, Math.abs(s));
    }
  }
  const scale = maxAbs > 0 ? 10 / maxAbs : 1;
  for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) * scale + (rand() - 0.5) * 1e-4 * 20;
  return out;
}

const clip = (v: number): number => (v > 4 ? 4 : v < -4 ? -4 : v);

/** SGD layout of the fuzzy graph, from `init` [n, dims] (modified in place and returned). */
export function optimizeLayout(
  graph: FuzzyGraph,
  init: Float32Array,
  n: number,
  options: UmapOptions = {},
): Float32Array {
  const dims = options.dims ?? 3;
  const epochs = options.epochs ?? 200;
  const a = options.a ?? 1.576943460405378;
  const b = options.b ?? 0.8950608781227859;
  const nsr = options.negativeSampleRate ?? 5;
  const lr = options.learningRate ?? 1;
  const rand = mulberry32(options.seed ?? 42);
  const emb = init;
  let maxW = 0;
  for (let e = 0; e < graph.weight.length; e++) maxW = Math.max(maxW, graph.weight[e] ?? 0);
  // Keep edges that get sampled at least once over all epochs.
  const keep: number[] = [];
  for (let e = 0; e < graph.weight.length; e++) {
    if ((graph.weight[e] ?? 0) >= maxW / epochs) keep.push(e);
  }
  const m = keep.length;
  const head = new Int32Array(m);
  const tail = new Int32Array(m);
  const eps = new Float64Array(m);
  keep.forEach((e, i) => {
    head[i] = graph.head[e] ?? 0;
    tail[i] = graph.tail[e] ?? 0;
    eps[i] = maxW / (graph.weight[e] ?? 1);
  });
  const nextSample = Float64Array.from(eps);
  const epsNeg = Float64Array.from(eps, (v) => v / nsr);
  const nextNeg = Float64Array.from(epsNeg);
  if (dims !== 3) throw new RangeError(`optimizeLayout lays out 3D maps, not ${dims}D`);
  // The hot loop: 3D unrolled, typed-array reads cast rather than defaulted (indices are
  // in range by construction), one x^b (as exp(b·ln x), faster than Math.pow in V8) per update.
  const twoAB = 2 * a * b;
  const twoB = 2 * b;
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (options.signal?.aborted) options.signal.throwIfAborted();
    const alpha = lr * (1 - epoch / epochs);
    for (let i = 0; i < m; i++) {
      if ((nextSample[i] as number) > epoch) continue;
      const jo = (head[i] as number) * 3;
      const ko = (tail[i] as number) * 3;
      let jx = emb[jo] as number;
      let jy = emb[jo + 1] as number;
      let jz = emb[jo + 2] as number;
      const dx = jx - (emb[ko] as number);
      const dy = jy - (emb[ko + 1] as number);
      const dz = jz - (emb[ko + 2] as number);
      const d2 = dx * dx + dy * dy + dz * dz;
      if (d2 > 0) {
        const pb = Math.exp(b * Math.log(d2));
        const coeff = (-twoAB * (pb / d2)) / (a * pb + 1);
        const gx = clip(coeff * dx) * alpha;
        const gy = clip(coeff * dy) * alpha;
        const gz = clip(coeff * dz) * alpha;
        jx += gx;
        jy += gy;
        jz += gz;
        emb[ko] = (emb[ko] as number) - gx;
        emb[ko + 1] = (emb[ko + 1] as number) - gy;
        emb[ko + 2] = (emb[ko + 2] as number) - gz;
      }
      nextSample[i] = (nextSample[i] as number) + (eps[i] as number);
      const en = epsNeg[i] as number;
      const nNeg = Math.floor((epoch - (nextNeg[i] as number)) / en);
      const j = head[i] as number;
      for (let p = 0; p < nNeg; p++) {
        const q = Math.floor(rand() * n);
        if (q === j) continue;
        const qo = q * 3;
        const ex = jx - (emb[qo] as number);
        const ey = jy - (emb[qo + 1] as number);
        const ez = jz - (emb[qo + 2] as number);
        const e2 = ex * ex + ey * ey + ez * ez;
        if (!(e2 > 0)) continue;
        const coeff = twoB / ((0.001 + e2) * (a * Math.exp(b * Math.log(e2)) + 1));
        jx += clip(coeff * ex) * alpha;
        jy += clip(coeff * ey) * alpha;
        jz += clip(coeff * ez) * alpha;
      }
      emb[jo] = jx;
      emb[jo + 1] = jy;
      emb[jo + 2] = jz;
      if (nNeg > 0) nextNeg[i] = (nextNeg[i] as number) + nNeg * en;
    }
    options.onEpoch?.(epoch + 1, epochs);
  }
  return emb;
}
