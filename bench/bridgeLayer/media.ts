/**
 * The across-media figure (issue 18): the emoji pack's images read by its SAE against the emoji
 * names read by the text pack's model and SAE, one sample per emoji, from a bridge the CLI built
 * (`bridge build models/emoji#latent-512 models/text-fortunes`: side a the emoji SAE, side b the
 * text SAE).
 *   npx tsx bench/bridgeLayer/media.ts <emoji side> <text pack dir> <bridge file>
 * Prints:
 * - over the live emoji features whose best text match is strong (r ≥ the bridge's sharedAt):
 *   the share whose top-5 emoji (by image activation) and whose match's top-5 emoji (by name
 *   activation) have the same most frequent Unicode subgroup, against a shuffled baseline (the
 *   strong pairs' text features permuted among them, 200 permutations, mean and p95);
 * - 5 example links (seeded pick among strong pairs): both features' titles from the shipped
 *   indexes, r, and both sides' top emoji names; with `--png <file>`, the same links as
 *   thumbnails from the emoji pack's examples sheet: a row a link, the emoji feature's top 5 by
 *   image, a gap, its text match's top 5 by name.
 * The codes are read again here with the build's own readers and pooling (alignChunk).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { alignChunk } from '../../main/bridge/build';
import { bridgeState, openBridge } from '../../main/bridge/meta';
import { featureMatches } from '../../main/bridge/read';
import { concatCodes, type SampleCodes } from '../../main/bridge/scorers';
import { openSide, openSideReader, type Side } from '../../main/bridge/sides';
import { Gemm } from '../../main/index/build/gemm';
import { mulberry32 } from '../../main/index/build/rng';
import type { SparseCodes } from '../../main/index/build/saeCodes';
import { loadPackCorpus, sheetTile, type Sheet } from '../../main/index/corpus';
import { openIndex } from '../../main/index';
import { unpackIndex } from '../../main/index/packedIndex';
import { encodePng } from '../../main/runtime/image/pngEncode';

const TOP = 5;

/** Each feature's TOP strongest samples (descending). */
function topSamples(codes: SparseCodes, d: number): number[][] {
  const hits: { v: number; s: number }[][] = Array.from({ length: d }, () => []);
  for (let s = 0; s < codes.rows; s++)
    for (let e = codes.start[s] as number; e < (codes.start[s + 1] as number); e++)
      (hits[codes.feature[e] as number] as { v: number; s: number }[]).push({
        v: codes.value[e] as number,
        s,
      });
  return hits.map((h) =>
    h
      .sort((x, y) => y.v - x.v)
      .slice(0, TOP)
      .map((x) => x.s),
  );
}

/** The most frequent value (first seen wins a tie). */
function mode(xs: readonly string[]): string | null {
  const count = new Map<string, number>();
  for (const x of xs) count.set(x, (count.get(x) ?? 0) + 1);
  let best: string | null = null;
  let n = 0;
  for (const [x, c] of count)
    if (c > n) {
      best = x;
      n = c;
    }
  return best;
}

async function titles(side: Side, dir: string): Promise<(j: number) => string> {
  const m = side.pack.manifest;
  if (!side.pack.hasIndex || !m.index) return () => '—';
  const file = path.join(dir, `${m.id}.sqlite`);
  await unpackIndex(path.join(side.pack.dir, m.index), file);
  const db = openIndex(file, { readonly: true });
  const q = db.prepare('select label from features where sae_id = ? and idx = ?');
  return (j) => (q.get(side.saeId, j) as { label: string | null } | undefined)?.label ?? '—';
}

async function main(): Promise<void> {
  const [emojiSpec, textDir, bridgeFile] = process.argv.slice(2);
  if (!emojiSpec || !textDir || !bridgeFile)
    throw new Error('usage: media.ts <emoji side> <text pack dir> <bridge file> [--png file]');
  const pngAt = process.argv.indexOf('--png');
  const pngFile = pngAt > 0 ? process.argv[pngAt + 1] : undefined;
  const t0 = performance.now();
  const a = await openSide(emojiSpec);
  const b = await openSide(textDir);
  const bridge = openBridge(bridgeFile, { readonly: true });
  const state = bridgeState(bridge);
  if (state?.stage !== 'done') throw new Error(`${bridgeFile} is not a built bridge`);
  if (state.a.sae !== a.saeId || state.b.sae !== b.saeId)
    throw new Error(`${bridgeFile} is ${state.a.sae} ↔ ${state.b.sae}`);

  const corpus = await loadPackCorpus(a.pack, 'auto');
  const gemm = await Gemm.create(1);
  const readA = await openSideReader(a, corpus, gemm);
  const readB = await openSideReader(b, corpus, gemm);
  const parts: SampleCodes[] = [];
  for (let c = 0; c < corpus.examples.length; c += 64) {
    const ex = corpus.examples.slice(c, c + 64);
    parts.push(
      alignChunk(
        ex.map((e) => e.id),
        await readA.read(ex),
        await readB.read(ex),
      ),
    );
  }
  await readA.dispose();
  await readB.dispose();
  await gemm.dispose();
  const codes = concatCodes(parts);
  const topA = topSamples(codes.a, a.sae.dSae);
  const topB = topSamples(codes.b, b.sae.dSae);
  const ex = corpus.examples;
  const subgroup = (s: number): string => String(ex[s]?.meta.subgroup ?? '?');
  const modeA = topA.map((t) => mode(t.map(subgroup)));
  const modeB = topB.map((t) => mode(t.map(subgroup)));

  const strong: { i: number; j: number; r: number }[] = [];
  let live = 0;
  for (let i = 0; i < a.sae.dSae; i++) {
    const m = featureMatches(bridge, 'a', i);
    if (m.status === 'silent') continue;
    live++;
    const best = m.matches[0];
    if (m.status === 'shared' && best) strong.push({ i, j: best.feature, r: best.score });
  }
  const agree = (pairs: { i: number; j: number }[]): number =>
    pairs.filter((p) => modeA[p.i] !== null && modeA[p.i] === modeB[p.j]).length /
    Math.max(1, pairs.length);
  const observed = agree(strong);
  const rand = mulberry32(2026);
  const nulls: number[] = [];
  for (let k = 0; k < 200; k++) {
    const js = strong.map((p) => p.j);
    for (let x = js.length - 1; x > 0; x--) {
      const y = Math.floor(rand() * (x + 1));
      [js[x], js[y]] = [js[y] as number, js[x] as number];
    }
    nulls.push(agree(strong.map((p, x) => ({ i: p.i, j: js[x] as number }))));
  }
  nulls.sort((x, y) => x - y);
  const mean = nulls.reduce((s, v) => s + v, 0) / nulls.length;

  const dir = mkdtempSync(path.join(tmpdir(), 'orrery-media-'));
  const [titleA, titleB] = [await titles(a, dir), await titles(b, dir)];
  console.log(
    JSON.stringify(
      {
        a: `${a.pack.manifest.id}/${a.saeId} (${a.hook}), images`,
        b: `${b.pack.manifest.id}/${b.saeId} (${b.hook}), emoji names`,
        samples: codes.samples,
        sharedAt: state.sharedAt,
        liveEmojiFeatures: live,
        strong: strong.length,
        sameSubgroupShare: observed,
        shuffled: { mean, p95: nulls[Math.floor(0.95 * (nulls.length - 1))] },
        seconds: (performance.now() - t0) / 1000,
        loadAverage: loadavg().map((v) => Number(v.toFixed(2))),
      },
      null,
      1,
    ),
  );
  const pick = mulberry32(1913);
  const picks: typeof strong = [];
  while (picks.length < Math.min(5, strong.length)) {
    const p = strong[Math.floor(pick() * strong.length)] as (typeof strong)[number];
    if (!picks.includes(p)) picks.push(p);
  }
  const names = (t: number[]): string => t.map((s) => ex[s]?.name ?? '?').join('; ');
  console.log(
    '\n| emoji feature | title | top emoji (image) | text feature | title | r | top emoji (name) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const p of picks)
    console.log(
      `| ${p.i} | ${titleA(p.i)} | ${names(topA[p.i] ?? [])} | ${p.j} | ${titleB(p.j)} | ${p.r.toFixed(3)} | ${names(topB[p.j] ?? [])} |`,
    );
  if (pngFile) {
    if (!corpus.sheet) throw new Error(`${a.pack.dir} has no examples sheet for thumbnails`);
    const rows = picks.map((p) => [...(topA[p.i] ?? []), -1, ...(topB[p.j] ?? [])]);
    writeFileSync(pngFile, linkSheet(corpus.sheet, rows, ex));
    console.log(`\n${pngFile}: the links above as thumbnails (image top ${TOP} | name top ${TOP})`);
  }
  bridge.close();
  rmSync(dir, { recursive: true, force: true });
}

/** Rows of thumbnails (sample indices; -1 a gap) cut from the sheet, on the pack's grey. */
function linkSheet(sheet: Sheet, rows: number[][], ex: readonly { id: number }[]): Uint8Array {
  const t = sheet.tile;
  const pad = 4;
  const cols = Math.max(...rows.map((r) => r.length));
  const [w, h] = [cols * (t + pad) + pad, rows.length * (t + pad) + pad];
  const rgb = new Uint8Array(w * h * 3).fill(236);
  const tile = new Float32Array(3 * t * t);
  rows.forEach((row, y) =>
    row.forEach((s, x) => {
      const id = s < 0 ? -1 : (ex[s]?.id ?? -1);
      if (id < 0) return;
      // the tile as the index reads it: [3, t, t] in [0, 255], composited on grey
      sheetTile(sheet, id, 3, [0, 255], [128 / 255, 128 / 255, 128 / 255], tile);
      const [ox, oy] = [pad + x * (t + pad), pad + y * (t + pad)];
      for (let c = 0; c < 3; c++)
        for (let v = 0; v < t; v++)
          for (let u = 0; u < t; u++)
            rgb[((oy + v) * w + ox + u) * 3 + c] = Math.round(tile[(c * t + v) * t + u] ?? 0);
    }),
  );
  return encodePng(rgb, w, h, 3);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
