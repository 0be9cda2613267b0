/**
 * The galaxy's layout at any width. Up to `exactUpTo` features: the exact path (k-NN graph of
 * all decoder directions, UMAP of it). Above: landmarks —
 *   1. working vectors: the unit decoder rows, or (d_in > projectAbove) a seeded Gaussian random
 *      projection of them to projectTo dims, renormalised (cosines are kept up to a small
 *      distortion, Johnson–Lindenstrauss);
 *   2. coarse lists: spherical k-means (on a sample) into `lists` centroids; every feature is
 *      assigned to its nearest centroid;
 *   3. landmarks chosen to cover the space: from every list a share proportional to its size,
 *      at least min(size, minPerList), so a small, isolated family of features still has its
 *      landmarks;
 *   4. the exact path (k-NN + UMAP) on the landmarks alone;
 *   5. every other feature placed at the weighted mean of its `place` nearest landmarks (found
 *      among the landmarks of the `nprobe` lists nearest its own list), weighted as UMAP weighs
 *      a point's k-NN edges (exp(−(dist − ρ)/σ), σ so the weights sum to log2 k);
 *   6. local refinement: the k-NN graph of every feature among the members of the `refineProbe`
 *      lists nearest its own, and `refine` epochs of UMAP's SGD on its fuzzy graph starting from
 *      the placed positions (the landmarks give the large scale; the placement alone cannot
 *      order features closer together than the landmarks are, which is what recall@10 measures).
 * Either way the layout carries a quality figure: recall@10 — for a seeded sample of features,
 * the share of their 10 nearest features by decoder cosine (exact, over all features) that are
 * also among their 10 nearest on the 3D map.
 */
import { GEMM_OUT_FLOATS, type Gemm } from './gemm';
import { knnCosine, knnInLists, normalizeRows, sphericalKmeans, type KnnGraph } from './knn';
import { mulberry32 } from './rng';
import { fuzzyGraph, optimizeLayout, pcaInit, smoothSigma } from './umap';

export interface MapLayoutOptions {
  /** Exact UMAP up to this many features (default 65 536). */
  exactUpTo?: number;
  /** Landmarks above it (default 50 000). */
  landmarks?: number;
  /** k of the k-NN graph UMAP lays out (default 15). */
  neighbours?: number;
  /** Landmarks a placed feature is averaged over (default 10). */
  place?: number;
  /** Coarse lists (default √n, at most 2048). */
  lists?: number;
  /** Lists searched for a feature's nearest landmarks (default 8). */
  nprobe?: number;
  minPerList?: number;
  /** How a placed feature's landmarks are weighted: kernel (UMAP's membership strengths,
   * default) or barycentric (LLE reconstruction weights; measured worse on the synthetic
   * 200k set: recall@10 0.200 against 0.242). */
  weights?: 'barycentric' | 'kernel';
  /** Epochs of UMAP on every feature's k-NN graph after placement (default 70; 0 = none).
   * Refinement defaults measured on the synthetic 262,144 × 256 set (13,220 landmarks, the
   * refinement alone, load 17-24): k 15, 2 negatives, 30 epochs: recall@10 0.416, 31 s CPU of
   * SGD; k 10, 2 negatives, 30 epochs: 0.429, 30 s; k 10, 1 negative, 45 epochs: 0.449 (0.80×
   * exact UMAP on a 16k subsample), 27 s, and its k-NN graph 7 s instead of 10. Then (same
   * saved placement, load 14-19): 45 epochs 0.450; 60 epochs 0.473 (0.84×); 60 epochs at half
   * a negative 0.457; min_dist 0.001 0.414, min_dist 0.2 (b ≈ 1) 0.440 — epochs are what
   * buys recall, so the Gemm and landmark savings went into them. 1M × 256 (bench 'layout at
   * scale', 50,058 landmarks, nice 15, load 14.7 → 11.5, peak ~22): recall@10 0.451 = 0.81×
   * exact UMAP on its 16k subsample (0.555), 282.6 s CPU — lists 19.8, landmarks' k-NN 6.1,
   * their UMAP 23.9, placement 16.4, refine k-NN 51.4, fuzzy graph + 70 epochs 154.4,
   * recall@10 10.6 (was 0.74× in 309 s with 45 epochs, 200 landmark epochs, 64 MB blocks). */
  refine?: number;
  /** Lists searched for that k-NN graph (default 2). */
  refineProbe?: number;
  /** k of that graph (default 10; the card's nearest features show 10). */
  refineNeighbours?: number;
  /** Negative samples per positive one in the refinement (default 1; the landmarks' UMAP
   * already spread the map, so fewer than UMAP's 5 are needed). */
  refineNegatives?: number;
  /** Epochs of the landmarks' own UMAP (default 100: it sets the large scale only; the
   * refinement's epochs decide recall@10) … */
  landmarkEpochs?: number;
  /** … and its negative samples per positive one (default UMAP's 5). */
  landmarkNegatives?: number;
  /** Project the decoder rows first when d_in is above this (default 512) … */
  projectAbove?: number;
  /** … to this many dimensions (default 256). */
  projectTo?: number;
  /** Features sampled for recall@10 (default 1000; 0 = skip). */
  qualitySample?: number;
  epochs?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (stage: LayoutStage, done: number, total: number) => void;
}

export type LayoutStage = 'lists' | 'knn' | 'umap' | 'place' | 'refine' | 'quality';

export interface MapLayout {
  method: 'exact' | 'landmarks';
  n: number;
  /** [n, 3] */
  xyz: Float32Array;
  /** Each feature's nearest features, nearest first (exact path and refined landmark path: the
   * k-NN graph; landmark path without refinement: its nearest landmarks, a landmark's own k-NN
   * among landmarks). */
  neighbours: KnnGraph;
  /** landmark path: the landmarks' feature indices, ascending; exact path: empty */
  landmarks: Int32Array;
  /** recall@10 of decoder neighbours on the map; NaN when not measured */
  recall10: number;
  qualitySample: number;
  /** dimensions the neighbours were searched in (d_in, or projectTo) */
  workDims: number;
  seconds: number;
}

/** Seeded Gaussian random projection of unit rows [n, d] to p dims, renormalised. */
export async function randomProjection(
  gemm: Gemm,
  unit: Float32Array,
  n: number,
  d: number,
  p: number,
  seed: number,
): Promise<Float32Array> {
  const rand = mulberry32(seed ^ 0x9e3779b9);
  const gauss = (): number =>
    Math.sqrt(-2 * Math.log(Math.max(1e-12, rand()))) * Math.cos(2 * Math.PI * rand());
  // rT [p, d] so that unit · rTᵀ = [n, p]
  const rT = Float32Array.from({ length: p * d }, gauss);
  const out = new Float32Array(n * p);
  const block = Math.max(64, Math.floor(GEMM_OUT_FLOATS / p));
  for (let s = 0; s < n; s += block) {
    const e = Math.min(n, s + block);
    out.set(await gemm.abt(unit.subarray(s * d, e * d), e - s, rT, p, d), s * p);
  }
  return normalizeRows(out, n, p);
}

function gather(v: Float32Array, d: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as number;
    out.set(v.subarray(r * d, (r + 1) * d), i * d);
  }
  return out;
}

/** The nearest of `centroids` [c, d] for every row of unit [n, d]. */
async function assignLists(
  gemm: Gemm,
  unit: Float32Array,
  n: number,
  d: number,
  centroids: Float32Array,
  c: number,
  signal?: AbortSignal,
): Promise<Int32Array> {
  const assign = new Int32Array(n);
  const block = Math.max(64, Math.floor(GEMM_OUT_FLOATS / c));
  for (let s = 0; s < n; s += block) {
    signal?.throwIfAborted();
    const e = Math.min(n, s + block);
    const sims = await gemm.abt(unit.subarray(s * d, e * d), e - s, centroids, c, d);
    for (let r = 0; r < e - s; r++) {
      let best = 0;
      let bv = -Infinity;
      const o = r * c;
      for (let j = 0; j < c; j++) {
        const v = sims[o + j] as number;
        if (v > bv) {
          bv = v;
          best = j;
        }
      }
      assign[s + r] = best;
    }
  }
  return assign;
}

/** UMAP-style weights of one point's k nearest (sims, best first) into `w`. */
function smoothWeights(sims: Float32Array, o: number, k: number, w: Float64Array): void {
  const target = Math.log2(Math.max(2, k));
  let rho = Infinity;
  let mean = 0;
  for (let t = 0; t < k; t++) {
    const dist = Math.max(0, 1 - (sims[o + t] as number));
    if (dist < rho) rho = dist;
    mean += dist;
  }
  mean /= k;
  const found = smoothSigma(
    (t) => Math.max(0, 1 - (sims[o + t] as number)),
    k,
    rho,
    target,
    32,
    1e-3,
  );
  const sigma = Math.max(found, 1e-3 * Math.max(mean, 1e-6));
  for (let t = 0; t < k; t++) {
    const dd = Math.max(0, 1 - (sims[o + t] as number)) - rho;
    w[t] = dd > 0 ? Math.exp(-dd / sigma) : 1;
  }
}

/**
 * Barycentric (LLE) weights of a point x over its k nearest landmarks l_j (unit vectors):
 * min |x − Σ w_j l_j|² with Σ w_j = 1, regularised. G_jl = (x − l_j)·(x − l_l)
 * = 1 − s_j − s_l + c_jl with s the point's cosines to them and c theirs to each other.
 */
function barycentric(
  sims: Float32Array,
  o: number,
  k: number,
  lc: Float32Array,
  m: number,
  at: Int32Array,
  w: Float64Array,
  g: Float64Array,
): void {
  // g: k × (k + 1) augmented system G w = 1
  let trace = 0;
  for (let a = 0; a < k; a++) {
    const sa = sims[o + a] as number;
    const ra = (at[a] as number) * m;
    for (let b = 0; b < k; b++) {
      const v = 1 - sa - (sims[o + b] as number) + (lc[ra + (at[b] as number)] as number);
      g[a * (k + 1) + b] = v;
    }
    trace += g[a * (k + 1) + a] as number;
    g[a * (k + 1) + k] = 1;
  }
  const reg = Math.max(1e-9, (1e-2 * trace) / k);
  for (let a = 0; a < k; a++) g[a * (k + 1) + a] = (g[a * (k + 1) + a] as number) + reg;
  // Gaussian elimination (G is symmetric positive definite after regularising)
  const c = k + 1;
  for (let col = 0; col < k; col++) {
    const piv = g[col * c + col] as number;
    for (let r = col + 1; r < k; r++) {
      const f = (g[r * c + col] as number) / piv;
      if (f === 0) continue;
      for (let t = col; t < c; t++)
        g[r * c + t] = (g[r * c + t] as number) - f * (g[col * c + t] as number);
    }
  }
  for (let r = k - 1; r >= 0; r--) {
    let v = g[r * c + k] as number;
    for (let t = r + 1; t < k; t++) v -= (g[r * c + t] as number) * (w[t] as number);
    w[r] = v / (g[r * c + r] as number);
  }
  let sum = 0;
  for (let a = 0; a < k; a++) sum += w[a] as number;
  if (!(Math.abs(sum) > 1e-12)) {
    for (let a = 0; a < k; a++) w[a] = 1 / k;
    return;
  }
  for (let a = 0; a < k; a++) w[a] = (w[a] as number) / sum;
}

/** Keeps the k largest (sim, index) offered for one row, best first. */
function offer(idx: Int32Array, sim: Float32Array, base: number, k: number, s: number, j: number) {
  const last = base + k - 1;
  if (!(s > (sim[last] as number))) return;
  let p = last;
  while (p > base && (sim[p - 1] as number) < s) {
    sim[p] = sim[p - 1] as number;
    idx[p] = idx[p - 1] as number;
    p--;
  }
  sim[p] = s;
  idx[p] = j;
}

/**
 * recall@10: for `sample` seeded features, the share of their 10 nearest by cosine of `unit`
 * rows (exact, over all n) found among their 10 nearest in `xyz`.
 */
export async function recallAt10(
  gemm: Gemm,
  unit: Float32Array,
  n: number,
  d: number,
  xyz: Float32Array,
  sample: number,
  seed = 3,
): Promise<number> {
  const k = 10;
  if (n <= k) return 1;
  const rand = mulberry32(seed);
  const pick = new Set<number>();
  const s = Math.min(sample, n);
  while (pick.size < s) pick.add(Math.floor(rand() * n));
  const q = Int32Array.from([...pick].sort((a, b) => a - b));
  const qa = gather(unit, d, q);
  const hiIdx = new Int32Array(s * k).fill(-1);
  const hiSim = new Float32Array(s * k).fill(-Infinity);
  const block = Math.max(64, Math.floor(GEMM_OUT_FLOATS / s));
  for (let b0 = 0; b0 < n; b0 += block) {
    const b1 = Math.min(n, b0 + block);
    const sims = await gemm.abt(qa, s, unit.subarray(b0 * d, b1 * d), b1 - b0, d);
    const m = b1 - b0;
    for (let i = 0; i < s; i++) {
      const self = q[i] as number;
      const o = i * m;
      const base = i * k;
      for (let j = 0; j < m; j++) {
        if (b0 + j === self) continue;
        offer(hiIdx, hiSim, base, k, sims[o + j] as number, b0 + j);
      }
    }
  }
  // The map side exactly too, without scanning every point per sample: points sorted by x,
  // each sample's scan walks outward from its own place and stops once the x gap alone is
  // farther than its 10th nearest so far (a 1M-point map: a few thousand points a sample).
  const order = Int32Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (xyz[a * 3] as number) - (xyz[b * 3] as number),
  );
  const rank = new Int32Array(n);
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  const zs = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const j = order[r] as number;
    rank[j] = r;
    xs[r] = xyz[j * 3] as number;
    ys[r] = xyz[j * 3 + 1] as number;
    zs[r] = xyz[j * 3 + 2] as number;
  }
  let hits = 0;
  const loIdx = new Int32Array(k);
  const loNeg = new Float32Array(k);
  for (let i = 0; i < s; i++) {
    const self = q[i] as number;
    const at = rank[self] as number;
    const x = xs[at] as number;
    const y = ys[at] as number;
    const z = zs[at] as number;
    loIdx.fill(-1);
    loNeg.fill(-Infinity);
    const visit = (r: number): boolean => {
      const dx = x - (xs[r] as number);
      const far = -(dx * dx);
      if (!(far > (loNeg[k - 1] as number))) return false;
      const dy = y - (ys[r] as number);
      const dz = z - (zs[r] as number);
      const neg = far - (dy * dy + dz * dz);
      if (neg > (loNeg[k - 1] as number)) offer(loIdx, loNeg, 0, k, neg, order[r] as number);
      return true;
    };
    for (let r = at + 1; r < n && visit(r); r++);
    for (let r = at - 1; r >= 0 && visit(r); r--);
    const near = new Set(loIdx);
    for (let t = 0; t < k; t++) if (near.has(hiIdx[i * k + t] as number)) hits++;
  }
  return hits / (s * k);
}

async function exactLayout(
  gemm: Gemm,
  unit: Float32Array,
  n: number,
  d: number,
  o: MapLayoutOptions,
  seed: number,
  sgd: { epochs?: number; negatives?: number } = { epochs: o.epochs },
): Promise<{ xyz: Float32Array; graph: KnnGraph }> {
  o.onProgress?.('knn', 0, 1);
  const graph = await knnCosine(gemm, unit, n, d, o.neighbours ?? 15, { seed, signal: o.signal });
  o.onProgress?.('knn', 1, 1);
  const init = await pcaInit(gemm, unit, n, d, 3, seed);
  const xyz = optimizeLayout(fuzzyGraph(graph), init, n, {
    seed,
    epochs: sgd.epochs,
    negativeSampleRate: sgd.negatives,
    signal: o.signal,
    onEpoch: (e, t) => o.onProgress?.('umap', e, t),
  });
  return { xyz, graph };
}

/** Lays out unit decoder rows [n, d] (rows of unit length) in 3D. */
export async function layoutMap(
  gemm: Gemm,
  unit: Float32Array,
  n: number,
  d: number,
  o: MapLayoutOptions = {},
): Promise<MapLayout> {
  const t0 = performance.now();
  const seed = o.seed ?? 1;
  const sample = o.qualitySample ?? 1000;
  const exactUpTo = o.exactUpTo ?? 65_536;
  const nL = Math.min(n, o.landmarks ?? 50_000);
  if (n <= exactUpTo || nL >= n) {
    const { xyz, graph } = await exactLayout(gemm, unit, n, d, o, seed);
    o.onProgress?.('quality', 0, 1);
    const recall10 = sample > 0 ? await recallAt10(gemm, unit, n, d, xyz, sample, seed) : NaN;
    return {
      method: 'exact',
      n,
      xyz,
      neighbours: graph,
      landmarks: new Int32Array(0),
      recall10,
      qualitySample: sample > 0 ? Math.min(sample, n) : 0,
      workDims: d,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  // 1. working vectors
  const project = d > (o.projectAbove ?? 512);
  const p = project ? Math.min(d, o.projectTo ?? 256) : d;
  const work = project ? await randomProjection(gemm, unit, n, d, p, seed) : unit;

  // 2. coarse lists, trained on a sample, then every row assigned
  const nl = Math.max(16, Math.min(o.lists ?? Math.round(Math.sqrt(n)), 2048));
  o.onProgress?.('lists', 0, 2);
  const rand = mulberry32(seed ^ 0x1a2b3c);
  const trainN = Math.min(n, nl * 64);
  const trainIdx = new Set<number>();
  while (trainIdx.size < trainN) trainIdx.add(Math.floor(rand() * n));
  const train = gather(work, p, [...trainIdx]);
  const { centroids } = await sphericalKmeans(gemm, train, trainN, p, nl, seed, 6);
  o.onProgress?.('lists', 1, 2);
  const list = await assignLists(gemm, work, n, p, centroids, nl, o.signal);
  o.onProgress?.('lists', 2, 2);
  const members: number[][] = Array.from({ length: nl }, () => []);
  for (let i = 0; i < n; i++) (members[list[i] as number] as number[]).push(i);

  // 3. landmarks covering every list
  const minPer = o.minPerList ?? 4;
  const isLandmark = new Uint8Array(n);
  const share = nL / n;
  for (const m of members) {
    const want = Math.min(m.length, Math.max(minPer, Math.round(m.length * share)));
    // partial Fisher–Yates: `want` distinct members
    for (let t = 0; t < want; t++) {
      const j = t + Math.floor(rand() * (m.length - t));
      const tmp = m[t] as number;
      m[t] = m[j] as number;
      m[j] = tmp;
      isLandmark[m[t] as number] = 1;
    }
  }
  let count = 0;
  for (let i = 0; i < n; i++) count += isLandmark[i] as number;
  const landmarks = new Int32Array(count);
  const slot = new Int32Array(n).fill(-1);
  for (let i = 0, c = 0; i < n; i++) {
    if (isLandmark[i]) {
      slot[i] = c;
      landmarks[c++] = i;
    }
  }

  // 4. exact path on the landmarks
  const lUnit = gather(work, p, landmarks);
  const { xyz: lXyz, graph: lGraph } = await exactLayout(gemm, lUnit, count, p, o, seed, {
    epochs: o.landmarkEpochs ?? 100,
    negatives: o.landmarkNegatives,
  });

  // 5. place the rest from their nearest landmarks
  const k = Math.max(1, Math.min(o.place ?? 10, count));
  const kg = lGraph.k;
  const kn = Math.max(k, Math.min(kg, 10));
  const neighbours: KnnGraph = {
    n,
    k: kn,
    indices: new Int32Array(n * kn).fill(-1),
    sims: new Float32Array(n * kn).fill(-Infinity),
  };
  const xyz = new Float32Array(n * 3);
  for (let c = 0; c < count; c++) {
    const i = landmarks[c] as number;
    xyz.set(lXyz.subarray(c * 3, c * 3 + 3), i * 3);
    for (let t = 0; t < Math.min(kg, kn); t++) {
      const j = lGraph.indices[c * kg + t] as number;
      neighbours.indices[i * kn + t] = j < 0 ? -1 : (landmarks[j] as number);
      neighbours.sims[i * kn + t] = lGraph.sims[c * kg + t] as number;
    }
  }
  const lmByList: number[][] = members.map((m) => m.filter((i) => isLandmark[i]));
  const cc = await gemm.abt(centroids, nl, centroids, nl, p);
  const nprobe = Math.min(nl, o.nprobe ?? 8);
  const w = new Float64Array(kn);
  const lle = o.weights === 'barycentric';
  const at = new Int32Array(kn);
  const gram = new Float64Array(kn * (kn + 1));
  const order = Int32Array.from({ length: nl }, (_, i) => i);
  let placed = 0;
  const toPlace = n - count;
  for (let c = 0; c < nl; c++) {
    o.signal?.throwIfAborted();
    const queries = (members[c] as number[]).filter((i) => !isLandmark[i]);
    if (queries.length === 0) continue;
    const near = Array.from(order)
      .sort((a, b) => (cc[c * nl + b] as number) - (cc[c * nl + a] as number))
      .slice(0, nprobe);
    const cands: number[] = [];
    for (const l of near) for (const m of lmByList[l] as number[]) cands.push(m);
    const candRows = gather(work, p, cands);
    const sims = await gemm.abt(
      gather(work, p, queries),
      queries.length,
      candRows,
      cands.length,
      p,
    );
    const m = cands.length;
    // landmark–landmark cosines of this block's candidates, for the barycentric weights
    const lc = lle ? await gemm.abt(candRows, m, candRows, m, p) : null;
    const slotInBlock = new Map<number, number>();
    if (lc) cands.forEach((j, t) => slotInBlock.set(j, t));
    for (let qi = 0; qi < queries.length; qi++) {
      const i = queries[qi] as number;
      const base = i * kn;
      const row = qi * m;
      for (let j = 0; j < m; j++) {
        offer(
          neighbours.indices,
          neighbours.sims,
          base,
          kn,
          sims[row + j] as number,
          cands[j] as number,
        );
      }
      let used = 0;
      while (used < k && (neighbours.indices[base + used] as number) >= 0) used++;
      if (used === 0) continue;
      if (lc) {
        for (let t = 0; t < used; t++)
          at[t] = slotInBlock.get(neighbours.indices[base + t] as number) as number;
        barycentric(neighbours.sims, base, used, lc, m, at, w, gram);
      } else smoothWeights(neighbours.sims, base, used, w);
      let sw = 0;
      let x = 0;
      let y = 0;
      let z = 0;
      for (let t = 0; t < used; t++) {
        const lo = (slot[neighbours.indices[base + t] as number] as number) * 3;
        const wt = w[t] as number;
        sw += wt;
        x += wt * (lXyz[lo] as number);
        y += wt * (lXyz[lo + 1] as number);
        z += wt * (lXyz[lo + 2] as number);
      }
      xyz[i * 3] = x / sw;
      xyz[i * 3 + 1] = y / sw;
      xyz[i * 3 + 2] = z / sw;
    }
    placed += queries.length;
    o.onProgress?.('place', placed, toPlace);
  }

  // 6. local refinement on every feature's k-NN graph
  const refine = o.refine ?? 70;
  let graph = neighbours;
  if (refine > 0) {
    o.onProgress?.('refine', 0, refine + 1);
    graph = await knnInLists(
      gemm,
      work,
      p,
      centroids,
      members,
      o.refineNeighbours ?? 10,
      o.refineProbe ?? 2,
      { signal: o.signal },
    );
    o.onProgress?.('refine', 1, refine + 1);
    optimizeLayout(fuzzyGraph(graph), xyz, n, {
      seed,
      epochs: refine,
      negativeSampleRate: o.refineNegatives ?? 1,
      signal: o.signal,
      onEpoch: (e, t) => o.onProgress?.('refine', e + 1, t + 1),
    });
  }

  o.onProgress?.('quality', 0, 1);
  const recall10 = sample > 0 ? await recallAt10(gemm, unit, n, d, xyz, sample, seed) : NaN;
  return {
    method: 'landmarks',
    n,
    xyz,
    neighbours: graph,
    landmarks,
    recall10,
    qualitySample: sample > 0 ? Math.min(sample, n) : 0,
    workDims: p,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Each point's nearest of `centroids` [k, 3] (for clusters fitted on a sample). */
export function nearestCentroid(
  xyz: Float32Array,
  n: number,
  centroids: Float32Array,
): Uint32Array {
  const k = centroids.length / 3;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const x = xyz[i * 3] as number;
    const y = xyz[i * 3 + 1] as number;
    const z = xyz[i * 3 + 2] as number;
    let best = 0;
    let bv = Infinity;
    for (let j = 0; j < k; j++) {
      const dx = x - (centroids[j * 3] as number);
      const dy = y - (centroids[j * 3 + 1] as number);
      const dz = z - (centroids[j * 3 + 2] as number);
      const v = dx * dx + dy * dy + dz * dz;
      if (v < bv) {
        bv = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}
