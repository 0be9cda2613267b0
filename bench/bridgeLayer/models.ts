/**
 * The across-models bridge figures (issue 18): two text models trained on the same corpus, one
 * SAE each, bridged by correlation over a shared corpus (the CLI's `bridge build <A> <B>`).
 *   npx tsx bench/bridgeLayer/models.ts <side A> <side B> <bridge file> [--svg out.svg]
 *        [--examples n]
 * Prints, as JSON and text:
 * - the shared/specific split as a crosscoder-style histogram: each live feature of A placed at
 *   r/2 and each live feature of B at 1 − r/2, r its best match's correlation on the other side
 *   (0 = specific to A, 0.5 = shared at r = 1, 1 = specific to B), and per side the histogram of
 *   r itself; written as an SVG with --svg;
 * - for A's features whose best match has r ≥ 0.7, the Jaccard of the two features' top tokens
 *   (the distinct tokens of each one's 20 strongest activations over the corpus, topTokens.ts)
 *   against random pairs (each matched A feature with 20 random live B features, seeded).
 * The corpus is side A's pack examples (the bridge build's default) or the first n of them.
 */
import { promises as fs } from 'node:fs';
import { loadavg } from 'node:os';
import { bridgeState, openBridge } from '../../main/bridge/meta';
import { sideBest } from '../../main/bridge/read';
import { openSide } from '../../main/bridge/sides';
import { Gemm } from '../../main/index/build/gemm';
import { mulberry32 } from '../../main/index/build/rng';
import { loadPackCorpus } from '../../main/index/corpus';
import { binCounts, histogramSvg, histogramText, type HistogramFigure } from './histogramSvg';
import { jaccard, sideTopTokens } from './topTokens';

const MATCHED_AT = 0.7;
const RANDOM_PER_MATCH = 20;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const quantile = (xs: number[], p: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(p * (s.length - 1))] ?? NaN;
};
const mean = (xs: number[]): number => xs.reduce((t, x) => t + x, 0) / Math.max(1, xs.length);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [specA, specB, bridgeFile] = args;
  if (!specA || !specB || !bridgeFile)
    throw new Error('usage: models.ts <side A> <side B> <bridge file> [--svg out.svg]');
  const t0 = performance.now();
  const a = await openSide(specA);
  const b = await openSide(specB);
  const db = openBridge(bridgeFile, { readonly: true });
  const state = bridgeState(db);
  if (state?.stage !== 'done') throw new Error(`${bridgeFile} is not a built bridge`);
  const same = (s: typeof state.a, side: typeof a): boolean =>
    s.pack === side.pack.manifest.id && s.sae === side.saeId;
  if (!same(state.a, a) || !same(state.b, b))
    throw new Error(
      `${bridgeFile} is ${state.a.sae} ↔ ${state.b.sae}, not ${a.saeId} ↔ ${b.saeId}`,
    );

  // the split: best match per live feature, both sides
  const bestA = sideBest(db, 'a');
  const bestB = sideBest(db, 'b');
  const live = (s: ReturnType<typeof sideBest>): number[] =>
    [...s.score.keys()].filter((j) => Number.isFinite(s.score[j] as number));
  const liveA = live(bestA);
  const liveB = live(bestB);
  const rA = liveA.map((j) => Math.max(0, bestA.score[j] as number));
  const rB = liveB.map((j) => Math.max(0, bestB.score[j] as number));
  const nameA = `${a.pack.manifest.id} ${a.saeId}`;
  const nameB = `${b.pack.manifest.id} ${b.saeId}`;
  const relative: HistogramFigure = {
    title: `Shared and specific features: ${nameA} ↔ ${nameB}`,
    xLabel: 'A features at r/2, B features at 1 − r/2 (r: best-match correlation)',
    xTicks: ['specific to A', 'shared (r = 1)', 'specific to B'],
    series: [
      {
        name: nameA,
        colour: '#d9822b',
        counts: binCounts(
          rA.map((r) => r / 2),
          40,
        ),
      },
      {
        name: nameB,
        colour: '#2b6cd9',
        counts: binCounts(
          rB.map((r) => 1 - r / 2),
          40,
        ),
      },
    ],
  };
  const perSide = (name: string, rs: number[]): HistogramFigure => ({
    title: `${name}: best-match r of its live features`,
    xLabel: 'best-match r',
    xTicks: ['0', '0.5', '1'],
    series: [{ name, colour: '#555', counts: binCounts(rs, 10) }],
  });
  const svg = flag(args, 'svg');
  if (svg) await fs.writeFile(svg, histogramSvg(relative));

  // top-token agreement of matched pairs against random pairs
  const full = await loadPackCorpus(a.pack, 'auto');
  const n = Number(flag(args, 'examples') ?? 0);
  const corpus = n > 0 ? { ...full, examples: full.examples.slice(0, n) } : full;
  const gemm = await Gemm.create(1);
  const tokA = await sideTopTokens(a, corpus, gemm);
  const tokB = await sideTopTokens(b, corpus, gemm);
  await gemm.dispose();
  const liveTokB = liveB.filter((j) => (tokB.top[j]?.length ?? 0) > 0);
  const matched = liveA.filter(
    (j) => (bestA.score[j] as number) >= MATCHED_AT && (tokA.top[j]?.length ?? 0) > 0,
  );
  const rand = mulberry32(1913);
  const jMatched: number[] = [];
  const jRandom: number[] = [];
  const examples: { a: number; b: number; r: number; j: number; topA: string[]; topB: string[] }[] =
    [];
  for (const j of matched) {
    const k = bestA.best[j] as number;
    const topA = tokA.top[j] as string[];
    const topB = tokB.top[k] ?? [];
    const jj = jaccard(topA, topB);
    jMatched.push(jj);
    examples.push({ a: j, b: k, r: bestA.score[j] as number, j: jj, topA, topB });
    for (let i = 0; i < RANDOM_PER_MATCH; i++) {
      const o = liveTokB[Math.floor(rand() * liveTokB.length)] as number;
      jRandom.push(jaccard(topA, tokB.top[o] as string[]));
    }
  }
  const p95 = quantile(jRandom, 0.95);
  const share = (xs: number[], t: number): number => xs.filter((v) => v >= t).length / xs.length;
  const figures = {
    a: `${nameA} (${a.hook}, ${a.sae.dSae} features)`,
    b: `${nameB} (${b.hook}, ${b.sae.dSae} features)`,
    bridge: { unit: state.unit, samples: state.samples, sharedAt: state.sharedAt },
    liveA: liveA.length,
    liveB: liveB.length,
    sharedA: share(rA, state.sharedAt),
    sharedB: share(rB, state.sharedAt),
    shareAtLeast: {
      a: { '0.3': share(rA, 0.3), '0.5': share(rA, 0.5), '0.7': share(rA, 0.7) },
      b: { '0.3': share(rB, 0.3), '0.5': share(rB, 0.5), '0.7': share(rB, 0.7) },
    },
    topTokens: {
      examples: corpus.examples.length,
      rows: tokA.rows,
      matchedAt: MATCHED_AT,
      matchedPairs: matched.length,
      jaccardMatched: { mean: mean(jMatched), median: quantile(jMatched, 0.5) },
      jaccardRandom: {
        mean: mean(jRandom),
        median: quantile(jRandom, 0.5),
        p95,
        pairs: jRandom.length,
      },
      matchedAboveRandomP95: share(jMatched, p95 + 1e-9),
    },
    seconds: (performance.now() - t0) / 1000,
    loadAverage: loadavg().map((v) => Number(v.toFixed(2))),
  };
  console.log(JSON.stringify(figures, null, 1));
  console.log(`\n${histogramText(relative, 40)}\n`);
  console.log(`${histogramText(perSide(nameA, rA), 40)}\n`);
  console.log(`${histogramText(perSide(nameB, rB), 40)}\n`);
  const show = (t: string[]): string =>
    t
      .slice(0, 6)
      .map((x) => JSON.stringify(x))
      .join(' ');
  console.log('| A feature | its top tokens | B match | r | its top tokens | Jaccard |');
  console.log('|---|---|---|---|---|---|');
  const pick = mulberry32(2026);
  const shown = [...examples];
  for (let i = shown.length - 1; i > 0; i--) {
    const k = Math.floor(pick() * (i + 1));
    [shown[i], shown[k]] = [shown[k] as (typeof shown)[number], shown[i] as (typeof shown)[number]];
  }
  shown.length = Math.min(shown.length, 8);
  for (const e of shown)
    console.log(
      `| ${e.a} | ${show(e.topA)} | ${e.b} | ${e.r.toFixed(3)} | ${show(e.topB)} | ${e.j.toFixed(2)} |`,
    );
  db.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
