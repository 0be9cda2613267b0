/**
 * Graph surgery figures (issue 16). (1) Surgery time and peak memory on a synthetic
 * 124M-parameter GPT-2-shaped graph with random weights (12 layers, d 768, vocab 50257,
 * context 1024, plus the untied copy of the head that optimum's export stores: ~650 MB),
 * generated here into a temp folder and removed after, weights inline and as external data:
 * each run of rewiredModelFile (every hook exposed and steered) in a fresh child process,
 * which reports its time and its peak RSS (VmHWM) over its RSS
 * before, then the cache hit's time. (2) ORT tokens/s of the gpt2-tiny fixture through the
 * rewired graph (one hook exposed and one steered, as a dial on an SAE; and all nine of both)
 * vs the original: 128 tokens greedily with the KV cache from the BOS token, every output
 * fetched, one thread, runs interleaved, median and spread of 21 (wall tokens/s; CPU time,
 * which a loaded machine disturbs least, as paired ratios). Prints the load average.
 * `npx tsx bench/surgery.ts` runs it alone; `npx tsx bench/run.ts surgery` within the bench.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decoderFeeds, nextPast, type PastCache } from '../main/onnx/decoderFeeds';
import { rewiredModelFile } from '../main/onnx/graphCache';
import { rewireChunks } from '../main/onnx/rewire';
import { allHooks } from '../main/onnx/hookNames';
import { OnnxSession } from '../main/runtime/onnx';
import type { Chunks } from '../main/runtime/protobuf';
import { decoderChunks } from '../tests/support/decoderGraph';
import { hfFixture } from '../tests/support/hfReference';
import { fmt, line, median } from './stats';

const GPT2_SMALL = { style: 'gpt2', layers: 12, dModel: 768, vocab: 50257, context: 1024 } as const;
const RUNS = 21;
const TOKENS = 128;
const BIG_TOKENS = 32;
const BIG_RUNS = 6;

interface ChildFigures {
  coldMs: number;
  hitMs: number;
  /** rewireChunks alone, on bytes in memory (no read, hash or write). */
  rewireMs: number;
  rssBeforeMb: number;
  peakMb: number;
}

/**
 * This process's peak RSS in MiB: VmHWM (Linux), which starts afresh at exec, unlike
 * resourceUsage().maxRSS, which a child inherits from the (large) parent it was forked from.
 */
function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** In the child: one cold surgery and one cache hit, with memory. */
async function child(file: string, cacheDir: string): Promise<void> {
  const rssBefore = process.memoryUsage().rss / 2 ** 20;
  const hooks = allHooks(GPT2_SMALL.layers);
  const t0 = performance.now();
  await rewiredModelFile(file, { expose: hooks, steer: hooks }, cacheDir);
  const coldMs = performance.now() - t0;
  const peakMb = peakRssMb();
  const t1 = performance.now();
  const hit = await rewiredModelFile(file, { expose: hooks, steer: hooks }, cacheDir);
  const hitMs = performance.now() - t1;
  if (!hit.cached) throw new Error('the second call was not a cache hit');
  const bytes = readFileSync(file);
  const t2 = performance.now();
  rewireChunks(bytes, { expose: hooks, steer: hooks });
  const rewireMs = performance.now() - t2;
  const out: ChildFigures = { coldMs, hitMs, rewireMs, rssBeforeMb: rssBefore, peakMb };
  console.log(JSON.stringify(out));
}

async function writeChunks(file: string, chunks: Chunks): Promise<void> {
  const fh = await open(file, 'w');
  try {
    for (let i = 0; i < chunks.length; i += 256) await fh.writev(chunks.slice(i, i + 256));
  } finally {
    await fh.close();
  }
}

async function surgeryFigures(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orrery-bench-surgery-'));
  try {
    for (const external of [false, true]) {
      const label = external ? 'external data' : 'inline weights';
      const folder = path.join(dir, label.replace(' ', '-'));
      mkdirSync(folder);
      const model = path.join(folder, 'decoder_model.onnx');
      const t0 = performance.now();
      {
        const spec = { ...GPT2_SMALL, external: external ? 'decoder_model.onnx_data' : undefined };
        const { model: chunks, data } = decoderChunks(spec);
        await writeChunks(model, chunks);
        if (data) await writeChunks(path.join(folder, 'decoder_model.onnx_data'), data);
      }
      const size =
        statSync(model).size +
        (external ? statSync(path.join(folder, 'decoder_model.onnx_data')).size : 0);
      line(
        `generated (${label})`,
        `${fmt(size / 1e6, 0)} MB`,
        `${fmt((performance.now() - t0) / 1000)} s`,
      );
      const runs: ChildFigures[] = [];
      for (let i = 0; i < 3; i++) {
        const cache = path.join(dir, `cache-${label.replace(' ', '-')}-${i}`);
        const stdout = execFileSync(
          process.execPath,
          [...process.execArgv, __filename, 'child', model, cache],
          {
            encoding: 'utf8',
            maxBuffer: 1 << 20,
          },
        );
        runs.push(JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as ChildFigures);
        rmSync(cache, { recursive: true, force: true });
      }
      const cold = runs.map((r) => r.coldMs);
      const delta = runs.map((r) => r.peakMb - r.rssBeforeMb);
      line(
        `surgery, all 36 hooks exposed + steered (${label})`,
        `${fmt(median(cold), 0)} ms`,
        `spread ${fmt(Math.min(...cold), 0)}–${fmt(Math.max(...cold), 0)} ms over ${runs.length} cold runs (read, hash, rewire, write)`,
      );
      line(
        `  peak RSS over the child's start (${label})`,
        `+${fmt(median(delta), 0)} MB`,
        `spread ${fmt(Math.min(...delta), 0)}–${fmt(Math.max(...delta), 0)}; model ${fmt(size / 2 ** 20, 0)} MiB`,
      );
      const rewire = runs.map((r) => r.rewireMs);
      line(
        `  of which the rewiring itself, in memory (${label})`,
        `${fmt(median(rewire), 0)} ms`,
        `spread ${fmt(Math.min(...rewire), 0)}–${fmt(Math.max(...rewire), 0)}`,
      );
      line(
        `  cache hit (${label})`,
        `${fmt(median(runs.map((r) => r.hitMs)), 0)} ms`,
        '(stat note: nothing read)',
      );
      if (external) await bigModelSpeed(model, path.join(dir, 'cache-speed'));
      rmSync(folder, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Decoding speed on the 124M-parameter graph: original vs every hook exposed and steered,
 * BIG_TOKENS tokens from token 0, BIG_RUNS interleaved runs after a warm-up.
 */
async function bigModelSpeed(model: string, cache: string): Promise<void> {
  const hooks = allHooks(GPT2_SMALL.layers);
  const rewired = await rewiredModelFile(model, { expose: hooks, steer: hooks }, cache);
  const sessions = [await OnnxSession.create(model), await OnnxSession.create(rewired.file)];
  const wall: number[][] = [[], []];
  const cpu: number[][] = [[], []];
  for (let i = 0; i < BIG_RUNS + 1; i++) {
    // Alternate which graph runs first, so neither always finds the caches the other left.
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      const session = sessions[k] as OnnxSession;
      const r = await generate(session, 0, BIG_TOKENS);
      if (i > 0) wall[k]?.push(r.ms);
      if (i > 0) cpu[k]?.push(r.cpuMs);
    }
  }
  for (const s of sessions) await s.release();
  ['original', 'rewired, all 36 exposed + steered'].forEach((name, k) => {
    const tps = (wall[k] ?? []).map((m) => (BIG_TOKENS * 1000) / m);
    line(
      `124M graph, ${BIG_TOKENS} tokens greedy with KV cache: ${name}`,
      `${fmt(median(tps), 1)} tok/s`,
      `spread ${fmt(Math.min(...tps), 1)}–${fmt(Math.max(...tps), 1)} over ${BIG_RUNS} (wall)`,
    );
  });
  const ratios = (cpu[1] ?? []).map((m, i) => m / (cpu[0]?.[i] ?? Number.NaN));
  line(
    '  CPU time vs original, paired runs (goal ≤ 1.1×)',
    `${fmt(median(ratios), 3)}×`,
    `spread ${fmt(Math.min(...ratios), 3)}–${fmt(Math.max(...ratios), 3)}`,
  );
}

/**
 * Greedy decoding of `count` tokens from BOS with the cache: wall ms, this process's CPU ms
 * (every thread, ORT's included: the figure a loaded machine disturbs least) and the tokens.
 */
async function generate(
  session: OnnxSession,
  bos: number,
  count = TOKENS,
): Promise<{ ms: number; cpuMs: number; tokens: number[] }> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const tokens: number[] = [];
  let past: PastCache | null = null;
  let next = bos;
  for (let i = 0; i < count; i++) {
    const out = await session.run(decoderFeeds(session.inputs, [next], past));
    const logits = out.logits?.data as Float32Array;
    let best = 0;
    for (let v = 1; v < logits.length; v++) if ((logits[v] ?? 0) > (logits[best] ?? 0)) best = v;
    past = nextPast(out, past, 1);
    next = best;
    tokens.push(best);
  }
  const cpu = process.cpuUsage(cpu0);
  return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, tokens };
}

async function tokensPerSecond(): Promise<void> {
  const dir = hfFixture('gpt2-tiny');
  const file = path.join(dir, 'onnx', 'decoder_model.onnx');
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as {
    bos_token_id: number;
  };
  const cache = mkdtempSync(path.join(os.tmpdir(), 'orrery-bench-rewired-'));
  try {
    const hooks = allHooks(3);
    const variants = {
      original: null,
      'rewired, 1 hook exposed + 1 steered': {
        expose: ['blocks.1.hook_resid_pre'],
        steer: ['blocks.1.hook_resid_mid'],
      },
      'rewired, all 9 exposed + steered': { expose: hooks, steer: hooks },
    };
    const sessions = new Map<string, OnnxSession>();
    for (const [name, options] of Object.entries(variants)) {
      const model = options ? (await rewiredModelFile(file, options, cache)).file : file;
      sessions.set(name, await OnnxSession.create(model));
    }
    const wall = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    const seen = new Set<string>();
    for (let i = 0; i < RUNS + 1; i++) {
      // Rotate which graph runs first, so none always follows the same one.
      const order = [...sessions];
      for (const [name, session] of [
        ...order.slice(i % order.length),
        ...order.slice(0, i % order.length),
      ]) {
        const r = await generate(session, config.bos_token_id);
        seen.add(r.tokens.join(','));
        if (i === 0) continue; // warm-up
        wall.set(name, [...(wall.get(name) ?? []), r.ms]);
        cpu.set(name, [...(cpu.get(name) ?? []), r.cpuMs]);
      }
    }
    for (const session of sessions.values()) await session.release();
    const base = cpu.get('original') ?? [];
    for (const [name, ms] of wall) {
      const tps = ms.map((m) => (TOKENS * 1000) / m);
      line(
        `gpt2-tiny, ${TOKENS} tokens greedy with KV cache: ${name}`,
        `${fmt(median(tps), 0)} tok/s`,
        `spread ${fmt(Math.min(...tps), 0)}–${fmt(Math.max(...tps), 0)} over ${RUNS} (wall)`,
      );
      if (name === 'original') continue;
      const ratios = (cpu.get(name) ?? []).map((m, i) => m / (base[i] ?? Number.NaN));
      line(
        '  CPU time vs original, paired runs (goal ≤ 1.1×)',
        `${fmt(median(ratios), 3)}×`,
        `spread ${fmt(Math.min(...ratios), 3)}–${fmt(Math.max(...ratios), 3)}`,
      );
    }
    line('  the same tokens from every graph', String(seen.size === 1));
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

export async function benchSurgery(): Promise<void> {
  console.log('\n== graph surgery (HF decoder exports)');
  line(
    'load average (1, 5, 15 min)',
    os
      .loadavg()
      .map((l) => fmt(l, 2))
      .join(' '),
    `${os.cpus().length} cores`,
  );
  await tokensPerSecond();
  await surgeryFigures();
  line(
    'load average after',
    os
      .loadavg()
      .map((l) => fmt(l, 2))
      .join(' '),
  );
}

if (require.main === module) {
  const [mode, file, cacheDir] = process.argv.slice(2);
  const run = mode === 'child' && file && cacheDir ? child(file, cacheDir) : benchSurgery();
  run.catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
