/**
 * Layout at scale (issue 19): the landmark layout of a synthetic clustered SAE against exact
 * UMAP on a 16k subsample of the same features, by recall@10 of decoder neighbours on the map,
 * with wall and CPU seconds and the load average.
 *
 *   npx tsx bench/scaleLayout.ts [--n 1048576] [--landmarks 50000] [--sub 16384] [--refine 45]
 *     [--refine-probe 2] [--refine-negatives 1] [--refine-neighbours 10] [--place 10] [--kernel]
 *     [--landmark-epochs 200] [--landmark-negatives 5]
 */
import { loadavg } from 'node:os';
import { Gemm } from '../main/index/build/gemm';
import { normalizeRows } from '../main/index/build/knn';
import { layoutMap } from '../main/index/build/landmarks';
import { mulberry32 } from '../main/index/build/rng';
import { clusteredDecoder } from '../tests/support/synthetic1m';

export interface ScaleLayoutOptions {
  n?: number;
  landmarks?: number;
  sub?: number;
  threads?: number;
  weights?: 'barycentric' | 'kernel';
  place?: number;
  refine?: number;
  refineProbe?: number;
  refineNegatives?: number;
  refineNeighbours?: number;
  landmarkEpochs?: number;
  landmarkNegatives?: number;
  log?: (s: string) => void;
}

const cpuOf = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1e6;

export async function benchScaleLayout(
  o: ScaleLayoutOptions = {},
): Promise<Record<string, number>> {
  const n = o.n ?? 1 << 20;
  const d = 256;
  const log = o.log ?? ((s: string) => console.log(`layout: ${s}`));
  const load0 = loadavg();
  const { dec } = clusteredDecoder(n, d, 512, 1);
  const unit = normalizeRows(dec, n, d);
  const gemm = await Gemm.create(o.threads ?? 1);
  try {
    // exact UMAP on a seeded subsample
    const subN = Math.min(n, o.sub ?? 16_384);
    const rand = mulberry32(77);
    const pick = new Set<number>();
    while (pick.size < subN) pick.add(Math.floor(rand() * n));
    const rows = [...pick].sort((a, b) => a - b);
    const sub = new Float32Array(subN * d);
    rows.forEach((r, i) => sub.set(unit.subarray(r * d, r * d + d), i * d));
    let c0 = process.cpuUsage();
    const exact = await layoutMap(gemm, sub, subN, d, { exactUpTo: Infinity, qualitySample: 1000 });
    const exactCpu = cpuOf(process.cpuUsage(c0));
    log(
      `exact UMAP on a ${subN} subsample: ${exact.seconds.toFixed(1)} s wall, ${exactCpu.toFixed(1)} s cpu, recall@10 ${exact.recall10.toFixed(3)}`,
    );
    c0 = process.cpuUsage();
    let last = '';
    const big = await layoutMap(gemm, unit, n, d, {
      landmarks: o.landmarks,
      weights: o.weights,
      place: o.place,
      refine: o.refine,
      refineProbe: o.refineProbe,
      refineNegatives: o.refineNegatives,
      refineNeighbours: o.refineNeighbours,
      landmarkEpochs: o.landmarkEpochs,
      landmarkNegatives: o.landmarkNegatives,
      qualitySample: 1000,
      onProgress: (stage, done, total) => {
        // each stage's start (and the refinement's SGD after its k-NN graph) with the CPU
        // seconds spent so far
        if (stage !== last || (stage === 'refine' && done === 1))
          log(`  ${stage} ${done}/${total} at ${cpuOf(process.cpuUsage(c0)).toFixed(1)} s cpu`);
        last = stage;
      },
    });
    const bigCpu = cpuOf(process.cpuUsage(c0));
    const load1 = loadavg();
    const ratio = big.recall10 / exact.recall10;
    log(
      `${big.method} layout of ${n}×${d} (${big.landmarks.length} landmarks): ${big.seconds.toFixed(1)} s wall, ` +
        `${bigCpu.toFixed(1)} s cpu (goal ≤ 300 s cpu), recall@10 ${big.recall10.toFixed(3)} = ` +
        `${ratio.toFixed(2)}× exact on the subsample (goal ≥ 0.8×); load ${(load0[0] ?? 0).toFixed(1)} → ${(load1[0] ?? 0).toFixed(1)}`,
    );
    return {
      n,
      landmarks: big.landmarks.length,
      wall: big.seconds,
      cpu: bigCpu,
      recall10: big.recall10,
      exactRecall10: exact.recall10,
      ratio,
      load: load1[0] ?? 0,
    };
  } finally {
    await gemm.dispose();
  }
}

function arg(flag: string): number | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (process.argv[1]?.replace(/\\/g, '/').endsWith('bench/scaleLayout.ts')) {
  benchScaleLayout({
    n: arg('--n'),
    landmarks: arg('--landmarks'),
    sub: arg('--sub'),
    place: arg('--place'),
    refine: arg('--refine'),
    refineProbe: arg('--refine-probe'),
    refineNegatives: arg('--refine-negatives'),
    refineNeighbours: arg('--refine-neighbours'),
    landmarkEpochs: arg('--landmark-epochs'),
    landmarkNegatives: arg('--landmark-negatives'),
    weights: process.argv.includes('--kernel') ? 'kernel' : undefined,
  }).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
