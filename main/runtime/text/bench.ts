/**
 * Text generation figures (DESIGN.md §6): tokens per second with and without the KV cache,
 * and before + after as one batch of 2 against two separate runs. A benchmark, not a test:
 * `npx tsx main/runtime/text/bench.ts [packDir …]` prints a table and the JSON, and
 * benchText() is what a bench runner calls.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runtimeInputs } from '../../../preload/contract';
import { readPack } from '../../packs/packReader';
import type { TextGenerateInput } from '../engine';
import { TextEngine, type GenerateMode } from './textEngine';

export interface TextBenchCase {
  name: string;
  /** Tokens generated over both rows (one row when there is no active dial). */
  tokens: number;
  /** Median wall time of one generate call, ms. */
  ms: number;
  tokensPerSecond: number;
}

export interface TextBenchResult {
  packId: string;
  promptTokens: number;
  maxTokens: number;
  repeats: number;
  cases: TextBenchCase[];
}

const PROMPT = 'In the beginning God created';

export async function benchText(
  packDir: string,
  options: { maxTokens?: number; repeats?: number; intraOpThreads?: number } = {},
): Promise<TextBenchResult> {
  const read = await readPack(packDir);
  if (!read.ok) throw new Error(`${read.problem.file}: ${read.problem.message}`);
  const engine = await TextEngine.load(read.pack, { intraOpThreads: options.intraOpThreads ?? 1 });
  try {
    const manifest = read.pack.manifest;
    if (manifest.kind !== 'text-lm') throw new Error('not a text pack');
    const promptTokens = engine.promptIds(PROMPT).length;
    const maxTokens = Math.min(
      options.maxTokens ?? 128,
      manifest.model.context - promptTokens,
      512,
    );
    const repeats = options.repeats ?? 5;
    const saeId = manifest.saes.find((s) => s.hook === manifest.model.hook)?.id;
    const input = (dials: TextGenerateInput['dials']): TextGenerateInput =>
      runtimeInputs.textGenerate.parse({
        packId: manifest.id,
        prompt: PROMPT,
        dials,
        // Sampled (the costlier path), seeded so every repeat generates the same tokens;
        // EOS is ignored so that every run generates the whole budget.
        sampling: { maxTokens, temperature: 0.8, topK: 0, topP: 0.95, seed: 1 },
      });
    const add = saeId ? [{ saeId, feature: 0, method: 'add' as const, value: 4 }] : [];
    const pin = saeId ? [{ saeId, feature: 0, method: 'pin' as const, value: 4 }] : [];
    const plan: [string, TextGenerateInput, GenerateMode][] = [
      ['no dials, KV cache', input([]), {}],
      ['no dials, no cache', input([]), { cache: false }],
    ];
    if (saeId) {
      plan.push(
        ['add dial, batch of 2, KV cache', input(add), {}],
        ['add dial, 2 separate runs, KV cache', input(add), { batched: false }],
        ['add dial, batch of 2, no cache', input(add), { cache: false }],
        ['pin dial, batch of 2, KV cache', input(pin), {}],
        ['pin dial, 2 separate runs, KV cache', input(pin), { batched: false }],
      );
    }
    const signal = new AbortController().signal;
    const cases: TextBenchCase[] = [];
    for (const [name, inp, mode] of plan) {
      const run = { ...mode, ignoreEos: true };
      await engine.generateWith(inp, { signal }, run); // warm-up
      const times: number[] = [];
      let tokens = 0;
      for (let r = 0; r < repeats; r++) {
        const t0 = performance.now();
        const out = await engine.generateWith(inp, { signal }, run);
        times.push(performance.now() - t0);
        tokens =
          out.before.tokenIds.length + (inp.dials.length > 0 ? out.after.tokenIds.length : 0);
      }
      times.sort((a, b) => a - b);
      const ms = times[Math.floor(times.length / 2)] ?? 0;
      cases.push({ name, tokens, ms, tokensPerSecond: ms > 0 ? (tokens * 1000) / ms : 0 });
    }
    return { packId: manifest.id, promptTokens, maxTokens, repeats, cases };
  } finally {
    await engine.dispose();
  }
}

function table(r: TextBenchResult): string {
  const lines = [
    `${r.packId}: prompt ${r.promptTokens} tokens, up to ${r.maxTokens} new, median of ${r.repeats}`,
  ];
  for (const c of r.cases) {
    lines.push(
      `  ${c.name.padEnd(38)} ${String(c.tokens).padStart(4)} tok ${c.ms.toFixed(1).padStart(9)} ms ` +
        `${c.tokensPerSecond.toFixed(1).padStart(9)} tok/s`,
    );
  }
  return lines.join('\n');
}

/** CLI: bench each pack folder named (default: the text fixture); prints tables, then JSON. */
export async function main(dirs: string[]): Promise<void> {
  const results: TextBenchResult[] = [];
  for (const dir of dirs.length > 0 ? dirs : ['tests/fixtures/packs/text-tiny']) {
    const r = await benchText(dir);
    console.log(table(r));
    results.push(r);
  }
  console.log(JSON.stringify(results, null, 1));
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(path.resolve(entry)).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
