/**
 * Runtime figures (issue 5): text tokens/s with and without the KV cache, before+after in
 * one batch against two separate runs, the image steer round trip against the bare decode,
 * and peak memory. Uses the default packs when present, else the tiny fixture packs.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readPack } from '../main/packs/packReader';
import type { EngineContext } from '../main/runtime/engine';
import { ImageEngine } from '../main/runtime/image/imageEngine';
import { TextEngine } from '../main/runtime/text/textEngine';
import { fmt, line, median, peakRssMb, percentile, timeIt } from './stats';

const root = path.resolve(__dirname, '..');

function pickPack(bundled: string, fixture: string): string {
  const b = path.join(root, 'models', bundled);
  return existsSync(path.join(b, 'manifest.json'))
    ? b
    : path.join(root, 'tests', 'fixtures', 'packs', fixture);
}

const ctx = (): EngineContext => ({ signal: new AbortController().signal });

async function benchText(): Promise<void> {
  const dir = pickPack('text-fortunes', 'text-tiny');
  const r = await readPack(dir);
  if (!r.ok) throw new Error(`${dir}: ${r.problem.message}`);
  const engine = await TextEngine.load(r.pack);
  const sae = r.pack.manifest.saes[0];
  if (!sae) throw new Error('the text pack has no SAE');
  const maxTokens = 48;
  const base = {
    packId: r.pack.manifest.id,
    prompt: 'The Lord is my shepherd; I shall',
    dials: [],
    sampling: { maxTokens, temperature: 0, topK: 0, topP: 1, seed: 1 },
  };
  console.log(
    `\ntext: ${r.pack.manifest.name} (${path.relative(root, dir)}), ${maxTokens} new tokens, greedy`,
  );
  await engine.generate(base, ctx()); // warm up
  const tps = async (cache: boolean): Promise<number> => {
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = await timeIt(() => engine.generateWith(base, ctx(), { cache }));
      runs.push(t.value.after.tokenIds.length / (t.ms / 1000));
    }
    return median(runs);
  };
  const withCache = await tps(true);
  const without = await tps(false);
  line('tokens/s with KV cache', fmt(withCache));
  line('tokens/s without KV cache', fmt(without));
  line('KV cache speed-up (ratio)', fmt(withCache / without, 2) + '×');

  const steered = {
    ...base,
    dials: [{ saeId: sae.id, feature: 1, method: 'add' as const, value: 4 }],
  };
  const batchedMs: number[] = [];
  const separateMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    batchedMs.push((await timeIt(() => engine.generateWith(steered, ctx(), { batched: true }))).ms);
    separateMs.push(
      (await timeIt(() => engine.generateWith(steered, ctx(), { batched: false }))).ms,
    );
  }
  line('before+after in one batch (ms, median)', fmt(median(batchedMs)));
  line('before and after as two runs (ms, median)', fmt(median(separateMs)));
  line(
    'batched vs separate (ratio, < 1 is faster)',
    fmt(median(batchedMs) / median(separateMs), 2),
  );
  await engine.dispose();
}

async function benchImage(): Promise<void> {
  const dir = pickPack('emoji', 'emoji-tiny');
  const r = await readPack(dir);
  if (!r.ok) throw new Error(`${dir}: ${r.problem.message}`);
  const engine = await ImageEngine.load(r.pack);
  const latentSae =
    r.pack.manifest.saes.find((s) => s.hook === 'latent') ?? r.pack.manifest.saes[0];
  if (!latentSae) throw new Error('the image pack has no SAE');
  console.log(`\nimage: ${r.pack.manifest.name} (${path.relative(root, dir)})`);
  const image = await engine.sourceImage({ example: 0 });
  const z = await engine.encode(image, 1);
  const decodeMs: number[] = [];
  const steerMs: number[] = [];
  for (let i = 0; i < 5; i++) await engine.decode(z, 1);
  for (let i = 0; i < 30; i++) decodeMs.push((await timeIt(() => engine.decode(z, 1))).ms);
  for (let i = 0; i < 30; i++) {
    const input = {
      packId: r.pack.manifest.id,
      source: { example: 0 },
      dials: [{ saeId: latentSae.id, feature: i % 8, method: 'add' as const, value: 1 + i / 10 }],
    };
    steerMs.push((await timeIt(() => engine.steer(input, ctx()))).ms);
  }
  line(
    'bare decode (ms, median / p95)',
    `${fmt(median(decodeMs), 2)} / ${fmt(percentile(decodeMs, 95), 2)}`,
  );
  line(
    'steer round trip: encode, steer, decode ×2, PNG ×2',
    `${fmt(median(steerMs), 2)} / ${fmt(percentile(steerMs, 95), 2)}`,
  );
  line('steer round trip vs bare decode (ratio)', fmt(median(steerMs) / median(decodeMs), 2) + '×');
  await engine.dispose();
}

export async function benchRuntime(): Promise<void> {
  console.log('== runtime (issue 5)');
  await benchText();
  await benchImage();
  line('\npeak memory (RSS, MB)', fmt(peakRssMb(), 0));
}
