/**
 * Runtime figures (issues 5 and 14): text generation (KV cache, before+after batching, cost
 * per token by length), the image steer round trip against the bare decode, and peak memory. Uses the default packs when present, else the tiny fixture packs.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readPack } from '../main/packs/packReader';
import type { EngineContext, TextGenerateInput } from '../main/runtime/engine';
import { ImageEngine } from '../main/runtime/image/imageEngine';
import { TextEngine, type GenerateMode } from '../main/runtime/text/textEngine';
import { fmt, line, loadAverage, median, peakRssMb, percentile, timeIt } from './stats';

const root = path.resolve(__dirname, '..');

function pickPack(bundled: string, fixture: string): string {
  const b = path.join(root, 'models', bundled);
  return existsSync(path.join(b, 'manifest.json'))
    ? b
    : path.join(root, 'tests', 'fixtures', 'packs', fixture);
}

const ctx = (): EngineContext => ({ signal: new AbortController().signal });

/** Wall and CPU milliseconds (all of this process's threads, ORT's included) of one call. */
interface Cost {
  wall: number;
  cpu: number;
}

async function cost(fn: () => Promise<unknown>): Promise<Cost> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

/** Both functions run `repeats` times, alternately (a, b, a, b …) after one warm-up each. */
async function paired(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  repeats: number,
): Promise<{ a: Cost[]; b: Cost[] }> {
  await a();
  await b();
  const out = { a: [] as Cost[], b: [] as Cost[] };
  for (let i = 0; i < repeats; i++) {
    out.a.push(await cost(a));
    out.b.push(await cost(b));
  }
  return out;
}

const spread = (xs: number[], digits: number): string =>
  `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;

/**
 * The pairwise ratios num[i] / den[i], wall clock and CPU time: median (min–max). CPU time is
 * the steadier figure on a shared machine.
 */
function ratioLine(name: string, num: Cost[], den: Cost[], note: string): void {
  const r = (k: keyof Cost): number[] => num.map((x, i) => x[k] / (den[i]?.[k] ?? Number.NaN));
  line(name, `${spread(r('wall'), 2)}×`, `cpu ${spread(r('cpu'), 2)}×  ${note}`);
}

const fmtMs = (c: Cost[]): string => fmt(median(c.map((x) => x.wall)));

/**
 * Text generation (issue 14), greedy, EOS ignored so that every run generates the whole
 * budget: KV cache against none at 128 tokens; before+after as one batch against two separate
 * runs at 128 tokens for an add, a pin and a scale dial (no before row kept from an earlier
 * run); a dial tick as the app runs it, its before row kept from the tick before, against the
 * same two runs; the cost of one token at 32, 128 and 255 tokens from BOS alone (255: the
 * context of 256 less BOS). Ratios are taken pair by
 * pair (the two runs of a pair back to back), median and spread over REPEATS pairs.
 */
async function benchText(): Promise<void> {
  const REPEATS = 15;
  const TOKENS = 128;
  const dir = pickPack('text-fortunes', 'text-tiny');
  const r = await readPack(dir);
  if (!r.ok) throw new Error(`${dir}: ${r.problem.message}`);
  const manifest = r.pack.manifest;
  if (manifest.kind !== 'text-lm') throw new Error(`${dir} is not a text pack`);
  // Every figure but the last runs each generation whole: no before row kept from an earlier one.
  const engine = await TextEngine.load(r.pack, { keepBefore: false });
  const sae = manifest.saes[0];
  if (!sae) throw new Error('the text pack has no SAE');
  const prompt = 'The Lord is my shepherd; I shall';
  const input = (
    dials: TextGenerateInput['dials'],
    maxTokens = TOKENS,
    text = prompt,
  ): TextGenerateInput => ({
    packId: manifest.id,
    prompt: text,
    dials,
    sampling: { maxTokens, temperature: 0, topK: 0, topP: 1, seed: 1 },
  });
  const run = (inp: TextGenerateInput, mode: GenerateMode) => async () => {
    const out = await engine.generateWith(inp, ctx(), { ...mode, ignoreEos: true });
    const want = Math.min(
      inp.sampling.maxTokens,
      manifest.model.context - engine.promptIds(inp.prompt).length,
    );
    for (const row of [out.before, out.after]) {
      if (row.tokenIds.length !== want) {
        throw new Error(`generated ${row.tokenIds.length} tokens, not ${want}`);
      }
    }
    return out;
  };
  console.log(
    `\ntext: ${manifest.name} (${path.relative(root, dir)}), greedy, EOS ignored, ` +
      `${REPEATS} pairs per ratio; load average ${loadAverage()}`,
  );

  const none = input([]);
  const [uncached, cached] = [await run(none, { cache: false })(), await run(none, {})()];
  if (uncached.after.tokenIds.join() !== cached.after.tokenIds.join()) {
    throw new Error('KV cache: the cached run generated other tokens than the uncached one');
  }
  const kv = await paired(run(none, { cache: false }), run(none, {}), REPEATS);
  ratioLine(
    `KV cache vs none, ${TOKENS} tokens`,
    kv.a,
    kv.b,
    `${fmtMs(kv.b)} vs ${fmtMs(kv.a)} ms wall, same tokens (goal ≥ 6×)`,
  );

  // A feature the prompt fires, so that pin and scale change something.
  const active = await engine.active(
    { packId: manifest.id, saeId: sae.id, prompt, topK: 1 },
    ctx(),
  );
  const feature = active.strongest[0]?.feature ?? 0;
  const strongest = active.strongest[0]?.value ?? 1;
  const dials: [string, TextGenerateInput['dials']][] = [
    ['add', [{ saeId: sae.id, feature, method: 'add', value: 4 }]],
    ['pin', [{ saeId: sae.id, feature, method: 'pin', value: 2 * strongest }]],
    ['scale', [{ saeId: sae.id, feature, method: 'scale', value: 3 }]],
  ];
  for (const [method, d] of dials) {
    const inp = input(d);
    const batched = await run(inp, { batched: true })();
    const separate = await run(inp, { batched: false })();
    const same =
      batched.before.tokenIds.join() === separate.before.tokenIds.join() &&
      batched.after.tokenIds.join() === separate.after.tokenIds.join();
    if (!batched.batched || !same) throw new Error(`${method}: batched ≠ separate`);
    const t = await paired(run(inp, { batched: false }), run(inp, { batched: true }), REPEATS);
    ratioLine(
      `before+after batched vs 2 runs, ${method}, ${TOKENS} tok`,
      t.a,
      t.b,
      `${fmtMs(t.b)} vs ${fmtMs(t.a)} ms wall, same tokens (goal ≥ 1.6×)`,
    );
  }

  // What a dial's tick costs in the app: the before row kept from the tick before (generation.ts
  // KeptBefore), so only the after row runs; against the same two runs.
  const app = await TextEngine.load(r.pack);
  for (const [method, d] of dials) {
    const inp = input(d);
    const tick = async (): Promise<unknown> => {
      const out = await app.generateWith(inp, ctx(), { ignoreEos: true });
      if (out.batched) throw new Error('the before row was not kept');
      return out;
    };
    await app.generateWith(inp, ctx(), { ignoreEos: true }); // keeps the before row
    const t = await paired(run(inp, { batched: false }), tick, REPEATS);
    ratioLine(
      `dial tick, before kept, vs 2 runs, ${method}`,
      t.a,
      t.b,
      `${fmtMs(t.b)} vs ${fmtMs(t.a)} ms wall, ${TOKENS} tok (the app's tick)`,
    );
  }
  await app.dispose();

  const perToken = async (n: number): Promise<Cost> => {
    const t = await cost(run(input([], n, ''), {}));
    return { wall: t.wall / n, cpu: t.cpu / n };
  };
  const lengths = [32, 128, Math.min(256, manifest.model.context - 1)];
  for (const n of lengths) await perToken(n); // warm-up
  const costs = lengths.map(() => [] as Cost[]);
  for (let i = 0; i < REPEATS; i++) {
    for (const [k, n] of lengths.entries()) costs[k]?.push(await perToken(n));
  }
  for (const [k, n] of lengths.entries()) {
    const c = costs[k] ?? [];
    line(
      `ms per token at ${n} tokens (from BOS), wall`,
      spread(
        c.map((x) => x.wall),
        3,
      ),
      `cpu ${spread(
        c.map((x) => x.cpu),
        3,
      )}`,
    );
  }
  for (const k of [1, 2]) {
    ratioLine(
      `per-token cost, ${lengths[k]} vs ${lengths[0]} tokens`,
      costs[k] ?? [],
      costs[0] ?? [],
      k === 2 ? 'goal ≤ 1.3×' : '',
    );
  }
  console.log(`load average after text: ${loadAverage()}`);
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
  console.log('== runtime (issues 5 and 14)');
  await benchText();
  await benchImage();
  line('\npeak memory (RSS, MB)', fmt(peakRssMb(), 0));
}
