/**
 * HF engine figures (issue 16). (1) Whether onnxruntime computes only what the fetched outputs
 * need: a synthetic GPT-2-shaped graph (12 layers, d 256, vocab 8192; random weights, written
 * to a temp folder and removed after), every hook exposed, a 64-token prompt, one thread;
 * fetching only blocks.0.hook_resid_pre, only blocks.5.hook_resid_post, or the logits, runs
 * interleaved, median of 15 each: a hook-only run costing a fraction of the full one means
 * ORT prunes the nodes the fetch does not need; and the same through a session on the graph
 * cut after the hook (runtime/hf/prefixGraph), which the pin/scale pre-run uses.
 * (2) The HF engine on the gpt2-tiny fixture with its SAE: 64 tokens (EOS ignored, KV cache,
 * before and after batched) with no dial, an add dial and a pin dial; ms per generated token,
 * median of 7, and the ratio to no dial. Prints the load average.
 * `npx tsx bench/run.ts "hf engine"` runs it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runtimeInputs } from '../preload/contract';
import { decoderFeeds } from '../main/onnx/decoderFeeds';
import { rewiredModelFile } from '../main/onnx/graphCache';
import { allHooks } from '../main/onnx/hookNames';
import { readPack } from '../main/packs/packReader';
import { readHfConfig } from '../main/runtime/hf/config';
import { HfTextEngine } from '../main/runtime/hf/hfTextEngine';
import { prefixModelFile } from '../main/runtime/hf/prefixGraph';
import { OnnxSession } from '../main/runtime/onnx';
import { decoderModel } from '../tests/support/decoderGraph';
import { hfFixture } from '../tests/support/hfReference';
import { fmt, line, loadAverage, median } from './stats';

const RUNS = 15;
const GEN_RUNS = 7;
const TOKENS = 64;

async function pruning(tmp: string): Promise<void> {
  const spec = { style: 'gpt2', layers: 12, dModel: 256, vocab: 8192, context: 256 } as const;
  const file = path.join(tmp, 'synthetic.onnx');
  writeFileSync(file, decoderModel(spec));
  const hooks = allHooks(spec.layers);
  const rewired = await rewiredModelFile(file, { expose: hooks, steer: [] }, tmp);
  const session = await OnnxSession.create(rewired.file);
  const ids = Array.from({ length: 64 }, (_, i) => (i * 37) % spec.vocab);
  const feeds = decoderFeeds(session.inputs, ids, null);
  const fetches: [string, string[]][] = [
    ['blocks.0.hook_resid_pre', ['blocks.0.hook_resid_pre']],
    ['blocks.5.hook_resid_post', ['blocks.5.hook_resid_post']],
    ['logits', ['logits']],
  ];
  const ms = new Map<string, number[]>(fetches.map(([n]) => [n, []]));
  for (let r = 0; r < RUNS + 2; r++) {
    for (const [name, fetch] of fetches) {
      const t0 = performance.now();
      await session.run(feeds, fetch);
      if (r >= 2) ms.get(name)?.push(performance.now() - t0);
    }
  }
  // The graph cut after a hook (what the engine's pin/scale pre-run uses).
  const cut = new Map<string, OnnxSession>();
  for (const [name] of fetches.slice(0, 2)) {
    cut.set(name, await OnnxSession.create(await prefixModelFile(rewired.file, name)));
    ms.set(`upto ${name}`, []);
  }
  for (let r = 0; r < RUNS + 2; r++) {
    for (const [name, s] of cut) {
      const own: typeof feeds = {};
      for (const i of s.inputs) {
        const t = feeds[i.name];
        if (t) own[i.name] = t;
      }
      const t0 = performance.now();
      await s.run(own, [name]);
      if (r >= 2) ms.get(`upto ${name}`)?.push(performance.now() - t0);
    }
  }
  await session.release();
  for (const s of cut.values()) await s.release();
  const full = median(ms.get('logits') ?? []);
  for (const [name, runs] of ms) {
    const m = median(runs);
    const what = name.startsWith('upto ')
      ? `graph cut after ${name.slice(5)}`
      : `fetch ${name} only`;
    line(`  ${what} (64 tokens)`, `${fmt(m, 2)} ms`, `${fmt(m / full, 2)}x the logits run`);
  }
}

async function engine(tmp: string): Promise<void> {
  const modelDir = hfFixture('gpt2-tiny');
  const saeDir = path.join(hfFixture('gpt2-tiny-sae'), 'blocks.1.hook_resid_pre');
  const cfg = await readHfConfig(modelDir);
  const manifest = {
    format: 1,
    id: 'gpt2-tiny',
    name: 'gpt2-tiny',
    license: 'bench',
    source: 'bench',
    kind: 'text-lm',
    model: {
      format: 'hf',
      dir: modelDir,
      graph: 'onnx/decoder_model.onnx',
      tokenizer: 'tokenizer.json',
      config: 'config.json',
      ...cfg,
    },
    saes: [{ id: 'sae', hook: 'blocks.1.hook_resid_pre', dir: saeDir }],
  };
  writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest));
  const r = await readPack(tmp);
  if (!r.ok) throw new Error(r.problem.message);
  const e = await HfTextEngine.load(r.pack, { cacheDir: path.join(tmp, 'cache') });
  const ctx = { signal: new AbortController().signal };
  const runs: [string, Record<string, unknown>[]][] = [
    ['no dial', []],
    ['add dial', [{ saeId: 'sae', feature: 3, method: 'add', value: 4 }]],
    ['pin dial', [{ saeId: 'sae', feature: 3, method: 'pin', value: 4 }]],
  ];
  const ms = new Map<string, number[]>(runs.map(([n]) => [n, []]));
  for (let k = 0; k < GEN_RUNS + 1; k++) {
    for (const [name, dials] of runs) {
      const input = runtimeInputs.textGenerate.parse({
        packId: 'gpt2-tiny',
        prompt: 'In the beginning',
        dials,
        sampling: { maxTokens: TOKENS, temperature: 0, topK: 0, topP: 1, seed: 0 },
      });
      const t0 = performance.now();
      const out = await e.generateWith(input, ctx, { ignoreEos: true });
      if (k > 0) ms.get(name)?.push((performance.now() - t0) / out.after.tokenIds.length);
    }
  }
  await e.dispose();
  const none = median(ms.get('no dial') ?? []);
  for (const [name] of runs) {
    const m = median(ms.get(name) ?? []);
    line(
      `  gpt2-tiny ${TOKENS} tokens, ${name}`,
      `${fmt(m, 3)} ms/token`,
      `${fmt(m / none, 2)}x no dial`,
    );
  }
}

export async function benchHfEngine(): Promise<void> {
  console.log(`\n== HF engine (load average ${loadAverage()})`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'orrery-bench-hf-'));
  try {
    await pruning(tmp);
    await engine(tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
