/**
 * The cross-layer bridge figure: the text pack's shipped SAE (blocks.2) against an SAE trained
 * at another layer (train_sae.py), by correlation over every token of the pack's examples.
 *   npx tsx bench/bridgeLayer/figures.ts <pack dir> <SAE folder> [--examples n]
 * or any two sides of one pack (main/bridge/sides.ts), e.g. the emoji pack's latent SAE against
 * its spatial SAE by example (top examples' names instead of top tokens):
 *   npx tsx bench/bridgeLayer/figures.ts models/emoji#latent-512 models/emoji#spatial-2048
 * Prints, as JSON and markdown:
 * - the share of live layer-2 features whose best match on the other layer has r ≥ 0.5 (and
 *   ≥ 0.3, 0.7), and the same share against a null: B's samples shifted by half the corpus,
 *   so no token is paired with its own (what a "shared" threshold must stay above);
 * - 5 followed features (seeded pick among layer-2 features with a match at r ≥ 0.5): their
 *   title in the shipped index, top tokens at layer 2, the matched feature's at the other
 *   layer, and r.
 * The codes are computed once here (the build's own readers and alignment); the real bridge
 * is matched into a bridge file by runMatch like a build does.
 */
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { alignEnds, tokenEnds } from '../../main/bridge/align';
import { alignChunk } from '../../main/bridge/build';
import { runMatch } from '../../main/bridge/match';
import { beginBridge, openBridge } from '../../main/bridge/meta';
import { featureMatches } from '../../main/bridge/read';
import { concatCodes, CorrelationScorer, type SampleCodes } from '../../main/bridge/scorers';
import { openSide, openSideReader } from '../../main/bridge/sides';
import { Gemm } from '../../main/index/build/gemm';
import { mulberry32 } from '../../main/index/build/rng';
import type { SparseCodes } from '../../main/index/build/saeCodes';
import { loadPackCorpus } from '../../main/index/corpus';
import { openIndex } from '../../main/index';
import { unpackIndex } from '../../main/index/packedIndex';
import { isHfModel } from '../../main/packs/manifest';

function shift(c: SparseCodes, by: number): SparseCodes {
  const order = Int32Array.from({ length: c.rows }, (_, r) => (r + by) % c.rows);
  const start = new Int32Array(c.rows + 1);
  const feature = new Int32Array(c.feature.length);
  const value = new Float32Array(c.value.length);
  let e = 0;
  order.forEach((s, r) => {
    const from = c.start[s] as number;
    const to = c.start[s + 1] as number;
    feature.set(c.feature.subarray(from, to), e);
    value.set(c.value.subarray(from, to), e);
    e += to - from;
    start[r + 1] = e;
  });
  return { rows: c.rows, start, feature, value };
}

/** Each A feature's best score against B (NaN rows skipped). */
async function bestScores(scorer: CorrelationScorer): Promise<Float32Array> {
  const best = new Float32Array(scorer.dA).fill(NaN);
  const step = 256;
  for (let a0 = 0; a0 < scorer.dA; a0 += step) {
    const a1 = Math.min(scorer.dA, a0 + step);
    const s = await scorer.block(a0, a1);
    for (let r = 0; r < a1 - a0; r++) {
      let m = -Infinity;
      for (let j = 0; j < scorer.dB; j++) {
        const v = s[r * scorer.dB + j] as number;
        if (v > m) m = v;
      }
      if (m > -Infinity) best[a0 + r] = m;
    }
  }
  return best;
}

/** The most frequent tokens among a feature's 20 strongest activations. */
function topTokens(codes: SparseCodes, tokens: string[], j: number): string[] {
  const hits: { v: number; s: number }[] = [];
  for (let s = 0; s < codes.rows; s++)
    for (let e = codes.start[s] as number; e < (codes.start[s + 1] as number); e++)
      if (codes.feature[e] === j) hits.push({ v: codes.value[e] as number, s });
  hits.sort((x, y) => y.v - x.v);
  const count = new Map<string, number>();
  for (const h of hits.slice(0, 20)) {
    const t = JSON.stringify(tokens[h.s] ?? '?');
    count.set(t, (count.get(t) ?? 0) + 1);
  }
  return [...count]
    .sort((x, y) => y[1] - x[1])
    .slice(0, 6)
    .map(([t, n]) => (n > 1 ? `${t}×${n}` : t));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [packDir, saeFolder] = args;
  if (!packDir || !saeFolder) throw new Error('usage: figures.ts <pack dir> <SAE folder>');
  const limit = args.includes('--examples') ? Number(args[args.indexOf('--examples') + 1]) : 0;
  const t0 = performance.now();
  const a = await openSide(packDir);
  const b = await openSide(saeFolder.includes('#') ? saeFolder : `${packDir}#${saeFolder}`);
  const m = a.pack.manifest;
  const isText = m.kind === 'text-lm';
  if (isText && isHfModel(m.model)) throw new Error('a split text pack is needed');
  const full = await loadPackCorpus(a.pack, 'auto');
  const corpus = limit > 0 ? { ...full, examples: full.examples.slice(0, limit) } : full;
  const gemm = await Gemm.create(1);
  const readA = await openSideReader(a, corpus, gemm);
  const readB = await openSideReader(b, corpus, gemm);
  const tokenizer =
    m.kind === 'text-lm' && !isHfModel(m.model)
      ? new Tokenizer(
          JSON.parse(await fs.readFile(path.join(a.pack.dir, m.model.tokenizer), 'utf8')) as object,
          { clean_up_tokenization_spaces: false },
        )
      : null;
  const context = m.kind === 'text-lm' ? m.model.context : 0;
  const parts: SampleCodes[] = [];
  const tokens: string[] = [];
  const chunk = 32;
  for (let c = 0; c < corpus.examples.length; c += chunk) {
    const ex = corpus.examples.slice(c, c + chunk);
    const s = alignChunk(
      ex.map((e) => e.id),
      await readA.read(ex),
      await readB.read(ex),
    );
    parts.push(s);
    for (const e of ex) {
      if (!tokenizer) {
        tokens.push(e.name); // one sample per example
        continue;
      }
      // the atoms alignChunk made (one tokenizer: its non-empty token spans), as text
      const ids = tokenizer
        .encode(e.body ?? '', { add_special_tokens: false })
        .ids.slice(0, context - 1);
      const decode = (t: number[]): string => tokenizer.decode(t, { skip_special_tokens: false });
      const text = decode(ids);
      const ends = tokenEnds(ids, decode);
      let from = 0;
      for (const i of alignEnds(ends, ends).a) {
        tokens.push(text.slice(from, ends[i]));
        from = ends[i] as number;
      }
    }
  }
  await readA.dispose();
  await readB.dispose();
  const codes = concatCodes(parts);
  if (codes.samples !== tokens.length)
    throw new Error(`${codes.samples} samples for ${tokens.length} tokens: the atoms differ`);
  const codesSeconds = (performance.now() - t0) / 1000;

  const dir = mkdtempSync(path.join(tmpdir(), 'orrery-bridge-layer-'));
  const db = openBridge(path.join(dir, 'bridge.sqlite'));
  beginBridge(
    db,
    {
      method: 'correlation',
      a: { pack: m.id, sae: a.saeId, hook: a.hook, dSae: a.sae.dSae },
      b: { pack: m.id, sae: b.saeId, hook: b.hook, dSae: b.sae.dSae },
      topK: 10,
      sharedAt: 0.5,
      unit: isText ? 'token span' : 'example',
      fingerprint: 'figures',
    },
    'match',
  );
  const scorer = new CorrelationScorer(codes, a.sae.dSae, b.sae.dSae);
  const ins = db.prepare('insert into bridge_features(side, idx, n_active) values (?, ?, ?)');
  scorer.momentsA.nActive.forEach((n, j) => ins.run('a', j, n));
  scorer.momentsB.nActive.forEach((n, j) => ins.run('b', j, n));
  const tM = performance.now();
  await runMatch(db, scorer);
  const matchSeconds = (performance.now() - tM) / 1000;
  const nullBest = await bestScores(
    new CorrelationScorer(
      { ...codes, b: shift(codes.b, Math.floor(codes.samples / 2)) },
      a.sae.dSae,
      b.sae.dSae,
    ),
  );

  const live: number[] = [];
  for (let j = 0; j < a.sae.dSae; j++) if ((scorer.momentsA.nActive[j] as number) > 0) live.push(j);
  const best = live.map((j) => featureMatches(db, 'a', j).matches[0]?.score ?? -1);
  const nullLive = live.map((j) => nullBest[j] as number).filter((v) => Number.isFinite(v));
  const share = (xs: number[], t: number): number => xs.filter((v) => v >= t).length / xs.length;
  const sorted = [...nullLive].sort((x, y) => x - y);
  const q = (p: number): number => sorted[Math.floor(p * (sorted.length - 1))] ?? NaN;
  const figures = {
    pack: m.id,
    a: `${a.saeId} (${a.hook})`,
    b: `${b.saeId} (${b.hook})`,
    examples: corpus.examples.length,
    tokens: codes.samples,
    liveA: live.length,
    shareAtLeast: { '0.3': share(best, 0.3), '0.5': share(best, 0.5), '0.7': share(best, 0.7) },
    nullShareAtLeast: { '0.3': share(nullLive, 0.3), '0.5': share(nullLive, 0.5) },
    nullBest: { median: q(0.5), p99: q(0.99), max: q(1) },
    seconds: { codes: codesSeconds, match: matchSeconds },
    loadAverage: loadavg().map((v) => Number(v.toFixed(2))),
  };
  console.log(JSON.stringify(figures, null, 1));

  // titles of A's features from the shipped index
  const idxFile = path.join(dir, 'index.sqlite');
  const shipped = a.pack.hasIndex && m.index ? m.index : null;
  if (shipped) await unpackIndex(path.join(a.pack.dir, shipped), idxFile);
  const index = shipped ? openIndex(idxFile, { readonly: true }) : null;
  const title = (j: number): string =>
    (
      index?.prepare('select label from features where sae_id = ? and idx = ?').get(a.saeId, j) as
        { label: string | null } | undefined
    )?.label ?? '—';
  const rand = mulberry32(2026);
  const candidates = live.filter((_, i) => (best[i] as number) >= 0.5);
  const picks: number[] = [];
  while (picks.length < Math.min(5, candidates.length)) {
    const j = candidates[Math.floor(rand() * candidates.length)] as number;
    if (!picks.includes(j)) picks.push(j);
  }
  console.log(
    `\n| ${a.hook} feature | title (shipped index) | top ${isText ? 'tokens' : 'examples'} | best match at ${b.hook} | r | its top ${isText ? 'tokens' : 'examples'} |`,
  );
  console.log('|---|---|---|---|---|---|');
  for (const j of picks) {
    const mm = featureMatches(db, 'a', j).matches[0];
    if (!mm) continue;
    console.log(
      `| ${j} | ${title(j)} | ${topTokens(codes.a, tokens, j).join(' ')} | ${mm.feature} | ${mm.score.toFixed(3)} | ${topTokens(codes.b, tokens, mm.feature).join(' ')} |`,
    );
  }
  index?.close();
  db.close();
  await gemm.dispose();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
