/**
 * Index benchmarks (DESIGN.md §6): build examples/s on the packs at hand, the map (k-NN +
 * UMAP) for 16k and 65k synthetic decoder matrices against umap-js on the same input, and
 * loading 100k positions as typed arrays. FTS over 1M labels is its own section (bench/fts.ts).
 * Figures are printed with wall and CPU seconds: the machine may be shared.
 *
 *   npx tsx bench/index.ts [--quick] [--umapjs 2048,16384] [--sizes 16384,65536]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UMAP } from 'umap-js';
import { buildIndex, loadPositions, openIndex } from '../main/index';
import { Gemm } from '../main/index/build/gemm';
import { knnCosine, normalizeRows } from '../main/index/build/knn';
import { mulberry32 } from '../main/index/build/rng';
import { fuzzyGraph, optimizeLayout, pcaInit } from '../main/index/build/umap';

export interface IndexBenchOptions {
  quick?: boolean;
  /** synthetic map sizes for our UMAP */
  sizes?: number[];
  /** sizes at which umap-js runs on the same input (slow: minutes past ~16k) */
  umapJsSizes?: number[];
  positions?: number;
  packs?: string[];
}

interface Timed<T> {
  value: T;
  wall: number;
  cpu: number;
}

async function timed<T>(f: () => Promise<T> | T): Promise<Timed<T>> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const cpu = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

const fmt = (t: { wall: number; cpu: number }): string =>
  `${t.wall.toFixed(2)} s wall, ${t.cpu.toFixed(2)} s cpu`;

/** n decoder directions in R^d: 64 themes + noise, so the map has structure to find. */
export function syntheticDecoder(n: number, d: number, seed = 1): Float32Array {
  const rand = mulberry32(seed);
  const gauss = (): number => {
    const u = Math.max(1e-12, rand());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const themes = 64;
  const centres = Float32Array.from({ length: themes * d }, gauss);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const t = i % themes;
    for (let c = 0; c < d; c++) x[i * d + c] = (centres[t * d + c] ?? 0) + 1.2 * gauss();
  }
  return x;
}

async function ourMap(gemm: Gemm, dec: Float32Array, n: number, d: number) {
  const unit = normalizeRows(dec, n, d);
  const knn = await timed(() => knnCosine(gemm, unit, n, d, 15, { seed: 1 }));
  const layout = await timed(async () =>
    optimizeLayout(fuzzyGraph(knn.value), await pcaInit(gemm, unit, n, d, 3, 1), n, { seed: 1 }),
  );
  return { knn, layout, xyz: layout.value };
}

function umapJs(dec: Float32Array, n: number, d: number): Float32Array {
  const data = Array.from({ length: n }, (_, i) => Array.from(dec.subarray(i * d, (i + 1) * d)));
  const u = new UMAP({
    nComponents: 3,
    nNeighbors: 15,
    random: mulberry32(2),
    distanceFn: (a, b) => {
      let s = 0;
      let na = 0;
      let nb = 0;
      for (let i = 0; i < a.length; i++) {
        const x = a[i] ?? 0;
        const y = b[i] ?? 0;
        s += x * y;
        na += x * x;
        nb += y * y;
      }
      return 1 - s / Math.sqrt(na * nb || 1);
    },
  });
  return Float32Array.from(u.fit(data).flat());
}

/** Share of points whose nearest map neighbour has the same synthetic theme (i mod 64). */
function themeAgreement(xyz: Float32Array, n: number, sample = 2000): number {
  const step = Math.max(1, Math.floor(n / sample));
  let hit = 0;
  let total = 0;
  for (let i = 0; i < n; i += step) {
    let best = -1;
    let bd = Infinity;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const dd =
        ((xyz[i * 3] ?? 0) - (xyz[j * 3] ?? 0)) ** 2 +
        ((xyz[i * 3 + 1] ?? 0) - (xyz[j * 3 + 1] ?? 0)) ** 2 +
        ((xyz[i * 3 + 2] ?? 0) - (xyz[j * 3 + 2] ?? 0)) ** 2;
      if (dd < bd) {
        bd = dd;
        best = j;
      }
    }
    if (best % 64 === i % 64) hit++;
    total++;
  }
  return hit / total;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
}

export async function benchIndex(o: IndexBenchOptions = {}): Promise<Record<string, unknown>> {
  const figures: Record<string, unknown> = {};
  const tmp = mkdtempSync(join(tmpdir(), 'orrery-bench-index-'));
  const log = (s: string): void => console.log(`index: ${s}`);
  try {
    // 1. build throughput
    const packs =
      o.packs ??
      [
        'tests/fixtures/packs/text-tiny',
        'models/text-fortunes',
        'models/emoji',
        'models/glyphs',
      ].filter((p) => existsSync(join(p, 'manifest.json')));
    for (const p of packs) {
      const db = openIndex(join(tmp, `${p.replace(/\W/g, '_')}.sqlite`));
      try {
        const t = await timed(() => buildIndex(db, p));
        for (const s of t.value) {
          log(
            `build ${p} ${s.saeId}: ${s.examples} examples, ${s.positions} positions, d_sae ${s.features}: ` +
              `${s.examplesPerSecond.toFixed(1)} examples/s in the activation stage, ${s.seconds.toFixed(1)} s in all`,
          );
          figures[`build ${p} ${s.saeId}`] = {
            examplesPerSecond: s.examplesPerSecond,
            seconds: s.seconds,
            labels: s.labels,
          };
        }
      } catch (e) {
        log(`build ${p}: FAILED ${(e as Error).message}`);
      } finally {
        db.close();
      }
    }

    // 2. map
    const gemm = await Gemm.create();
    const d = 256;
    for (const n of o.sizes ?? (o.quick ? [4096] : [16384, 65536])) {
      const dec = syntheticDecoder(n, d);
      const ours = await ourMap(gemm, dec, n, d);
      const agree = themeAgreement(ours.xyz, n);
      log(
        `map ${n}×${d}: k-NN ${fmt(ours.knn)}; UMAP layout ${fmt(ours.layout)}; ` +
          `nearest-on-map same theme ${(agree * 100).toFixed(1)}% (chance 1.6%)`,
      );
      figures[`map ${n}`] = {
        knn: ours.knn.wall,
        layout: ours.layout.wall,
        cpu: ours.knn.cpu + ours.layout.cpu,
        agree,
      };
    }
    // umap-js at 65k would run for well over ten minutes here; --umapjs 65536 runs it.
    for (const n of o.umapJsSizes ?? (o.quick ? [] : [16384])) {
      const dec = syntheticDecoder(n, d);
      const ours = await ourMap(gemm, dec, n, d);
      const theirs = await timed(() => umapJs(dec, n, d));
      const oursCpu = ours.knn.cpu + ours.layout.cpu;
      log(
        `umap-js ${n}×${d}: ${fmt(theirs)} (theme agreement ${(themeAgreement(theirs.value, n) * 100).toFixed(1)}%); ` +
          `ours ${(ours.knn.wall + ours.layout.wall).toFixed(2)} s wall, ${oursCpu.toFixed(2)} s cpu ` +
          `(${(themeAgreement(ours.xyz, n) * 100).toFixed(1)}%): ratio ${(theirs.cpu / oursCpu).toFixed(1)}× in cpu time`,
      );
      figures[`umap-js ${n}`] = {
        theirs: theirs.wall,
        theirsCpu: theirs.cpu,
        oursCpu,
        ratio: theirs.cpu / oursCpu,
      };
    }
    await gemm.dispose();

    // 3. FTS over 1M labels: its own section, bench/fts.ts
    // 4. positions
    const db = openIndex(join(tmp, 'positions.sqlite'));
    try {
      const n = o.positions ?? 100_000;
      const rand2 = mulberry32(9);
      const blob = (a: ArrayBufferView): Buffer =>
        Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      db.prepare(
        "insert into saes(sae_id, hook, kind, d_sae, d_in, architecture) values ('p', 'h', 'text-lm', ?, 1, 'topk')",
      ).run(n);
      db.prepare(
        'insert into map_blobs(sae_id, count, idx, xyz, cluster, density) values (?, ?, ?, ?, ?, ?)',
      ).run(
        'p',
        n,
        blob(Uint32Array.from({ length: n }, (_, i) => i)),
        blob(Float32Array.from({ length: n * 3 }, () => rand2() * 20 - 10)),
        blob(Uint32Array.from({ length: n }, () => Math.floor(rand2() * 64))),
        blob(Float32Array.from({ length: n }, () => rand2() * 0.01)),
      );
      const loads: number[] = [];
      for (let r = 0; r < 20; r++) {
        const t0 = performance.now();
        const pos = loadPositions(db, 'p');
        loads.push(performance.now() - t0);
        if (pos?.count !== n) throw new Error('positions did not load');
      }
      log(
        `positions for ${n} features as typed arrays: p50 ${percentile(loads, 0.5).toFixed(2)} ms, max ${Math.max(...loads).toFixed(2)} ms`,
      );
      figures.positions = { n, p50: percentile(loads, 0.5) };
    } finally {
      db.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return figures;
}

function argList(flag: string): number[] | undefined {
  const i = process.argv.indexOf(flag);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v === undefined ? undefined : v.split(',').filter(Boolean).map(Number);
}

if (process.argv[1]?.replace(/\\/g, '/').endsWith('bench/index.ts')) {
  benchIndex({
    quick: process.argv.includes('--quick'),
    sizes: argList('--sizes'),
    umapJsSizes: argList('--umapjs'),
  }).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
