/**
 * The HF text engine on the fixtures: "before" is a plain run of the original graph, an add
 * dial of an SAE at blocks.1.hook_resid_mid steers as torch's reference says, pin goes through
 * the hook's own value, the KV cache gives what no cache gives, SAEs that do not fit are
 * refused with named errors, and center_writing_weights changes what the SAE reads.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrreryError, runtimeInputs } from '../../../../preload/contract';
import type { EngineContext, TextGenerateInput } from '../../../../main/runtime/engine';
import { decoderFeeds } from '../../../../main/onnx/decoderFeeds';
import { f32 } from '../../../../main/runtime/hf/hfDecoder';
import { HfTextEngine, type HfRow } from '../../../../main/runtime/hf/hfTextEngine';
import { OnnxSession } from '../../../../main/runtime/onnx';
import { Prng } from '../../../../main/runtime/text/sampling';
import { loadSae, steer } from '../../../../main/sae';
import {
  directionSae,
  fixtureSae,
  hfEntry,
  hfFixtures,
  maxDiff,
  readReference,
  type HfFixture,
} from './helpers';

const STEER = 'blocks.1.hook_resid_mid';
const ctx = (): EngineContext => ({ signal: new AbortController().signal });

function input(prompt: string, dials: Record<string, unknown>[] = [], maxTokens = 12) {
  return runtimeInputs.textGenerate.parse({
    packId: 'x',
    prompt,
    dials,
    sampling: { maxTokens, temperature: 0, topK: 0, topP: 1, seed: 0 },
  }) as TextGenerateInput;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OrreryError);
    return `${(e as OrreryError).code}: ${(e as Error).message}`;
  }
  throw new Error('expected an error');
}

describe.each<HfFixture>(['gpt2-tiny', 'llama-tiny'])('HfTextEngine on %s', (name) => {
  const ref = readReference(name);
  const cacheDir = mkdtempSync(join(tmpdir(), 'orrery-hf-cache-'));
  const n = ref.input_ids.length;
  let engine: HfTextEngine;
  let original: OnnxSession;
  let V: number;

  beforeAll(async () => {
    const steerSae = directionSae(STEER, Float32Array.from(ref.steering.vector));
    const pack = await hfEntry(name, [fixtureSae(name), { id: 'mid', hook: STEER, dir: steerSae }]);
    engine = await HfTextEngine.load(pack, { cacheDir, keepBefore: false });
    original = await OnnxSession.create(join(hfFixtures, name, 'onnx/decoder_model.onnx'));
    V = engine.vocab;
  });
  afterAll(async () => {
    await engine.dispose();
    await original.release();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const row = (steering: HfRow['steering']): HfRow => ({
    row: 'after',
    steering,
    rng: new Prng(0),
    ids: [],
    pieces: [],
    stream: engine.tokenizer.stream(),
  });

  /** Logits of the last position of the reference prompt through the engine's step. */
  async function lastLogits(steering: HfRow['steering'], cached: boolean): Promise<Float32Array> {
    const c = engine.openCache(1, cached, n);
    try {
      const ids = BigInt64Array.from(ref.input_ids.map(BigInt));
      if (!cached) {
        const l = await engine.step([row(steering)], ids, n, null, c.buffers);
        return l.slice((n - 1) * V, n * V);
      }
      await engine.step([row(steering)], ids.subarray(0, n - 1), n - 1, c.kv, c.buffers);
      const l = await engine.step([row(steering)], ids.subarray(n - 1), 1, c.kv, c.buffers);
      return l.slice(0, V);
    } finally {
      c.close();
    }
  }

  it('reads the prompt as the reference does (BOS first)', () => {
    expect(engine.promptIds(ref.prompt)).toEqual(ref.input_ids);
  });

  it('"before" is a plain run of the original graph', async () => {
    const plain = await original.run(decoderFeeds(original.inputs, ref.input_ids, null), [
      'logits',
    ]);
    const want = f32(plain, 'logits').subarray((n - 1) * V);
    expect(maxDiff(await lastLogits(null, false), want)).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(await lastLogits(null, true), ref.with_cache.logits_last)).toBeLessThanOrEqual(
      ref.tolerance,
    );
  });

  it('an add dial of an SAE at blocks.1.hook_resid_mid steers as torch does, with and without the cache', async () => {
    const plan = await engine.planDials([
      { saeId: 'mid', feature: 0, method: 'add', value: 1, maxActivation: null },
    ]);
    expect(plan).not.toBeNull();
    const off = await lastLogits(plan, false);
    expect(maxDiff(off, ref.steering.no_cache.logits_last)).toBeLessThanOrEqual(ref.tolerance);
    const on = await lastLogits(plan, true);
    expect(maxDiff(on, ref.steering.with_cache.logits_last)).toBeLessThanOrEqual(ref.tolerance);
    expect(maxDiff(off, ref.no_cache.logits_last)).toBeGreaterThan(100 * ref.tolerance);
  });

  it('a pin dial goes through the hook value: the delta is steer() on the unsteered rows', async () => {
    const own = fixtureSae(name);
    const sae = await loadSae(own.dir);
    const h = await engine.decoder.hookRows(own.hook, [ref.input_ids]);
    const f = sae.encode(h, n);
    // the feature most active on the last token, pinned to 3× its value
    const last = f.subarray((n - 1) * sae.dSae);
    const feature = last.indexOf(Math.max(...last));
    const dial = { feature, method: 'pin' as const, value: 3 * (last[feature] ?? 0) };
    const delta = steer(sae, h, n, [dial]).delta;
    const direct = await engine.decoder.run(
      {
        ids: BigInt64Array.from(ref.input_ids.map(BigInt)),
        batch: 1,
        seq: n,
        pos0: 0,
        past: null,
        steer: new Map([[own.hook, { dims: [1, n, h.length / n], data: delta }]]),
      },
      { logits: null },
    );
    const want = f32(direct, 'logits').subarray((n - 1) * V);
    const plan = await engine.planDials([{ saeId: 'sae', ...dial, maxActivation: null }]);
    expect(maxDiff(await lastLogits(plan, false), want)).toBeLessThanOrEqual(1e-4);
    expect(maxDiff(await lastLogits(plan, true), want)).toBeLessThanOrEqual(1e-4);
    expect(maxDiff(want, ref.no_cache.logits_last)).toBeGreaterThan(1e-3);
  });

  it('generates the same tokens with the KV cache as without, before and after (a batch of 2)', async () => {
    const dials = [{ saeId: 'mid', feature: 0, method: 'add', value: 1 }];
    const a = await engine.generateWith(input(ref.prompt, dials), ctx(), { cache: true });
    const b = await engine.generateWith(input(ref.prompt, dials), ctx(), { cache: false });
    expect(a.batched).toBe(true);
    expect(a.before.tokenIds).toEqual(b.before.tokenIds);
    expect(a.after.tokenIds).toEqual(b.after.tokenIds);
    expect(a.before.tokenIds.length).toBeGreaterThan(0);
    const plain = await engine.generate(input(ref.prompt), ctx());
    expect(plain.before.tokenIds).toEqual(a.before.tokenIds);
    const pinned = await engine.generateWith(
      input(ref.prompt, [{ saeId: 'sae', feature: 3, method: 'scale', value: 0 }]),
      ctx(),
      { batched: false },
    );
    const pinnedBatched = await engine.generate(
      input(ref.prompt, [{ saeId: 'sae', feature: 3, method: 'scale', value: 0 }]),
      ctx(),
    );
    expect(pinnedBatched.after.tokenIds).toEqual(pinned.after.tokenIds);
    expect(pinnedBatched.before.tokenIds).toEqual(plain.before.tokenIds);
  });

  it('streams each token as it comes', async () => {
    const seen: number[] = [];
    const out = await engine.generate(input(ref.prompt, [], 6), {
      signal: new AbortController().signal,
      token: (r, index, id) => {
        if (r === 'before') {
          expect(index).toBe(seen.length);
          seen.push(id);
        }
      },
    });
    expect(seen).toEqual(out.before.tokenIds);
  });

  it("reads the SAE's features per token (active) and its rows (BOS left out)", async () => {
    const out = await engine.active(
      { packId: 'x', saeId: 'sae', prompt: ref.prompt, topK: 8 },
      ctx(),
    );
    expect(out.rows).toHaveLength(n);
    out.rows.forEach((r, t) => {
      const want = ref.sae.top_features[t] ?? [];
      expect(r.features.map((x) => x.feature)).toEqual(want.map(([i]) => i));
      expect(
        maxDiff(
          r.features.map((x) => x.value),
          want.map(([, v]) => v),
        ),
      ).toBeLessThanOrEqual(1e-4);
    });
    const rows = await engine.saeRows('sae', { text: ref.prompt }, ctx());
    expect(rows.n).toBe(n - 1);
  });
});

describe('HfTextEngine: SAEs that do not fit', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'orrery-hf-cache-'));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));
  const v = new Float32Array(64).fill(0.5);

  it('refuses an SAE attached at another hook than its cfg.json names', async () => {
    const dir = directionSae('blocks.1.hook_resid_pre', v);
    const pack = await hfEntry('gpt2-tiny', [{ id: 'x', hook: 'blocks.2.hook_resid_pre', dir }]);
    expect(await codeOf(HfTextEngine.load(pack, { cacheDir }))).toMatch(
      /^bad_pack: SAE "x" was trained at blocks\.1\.hook_resid_pre .* attached at blocks\.2\.hook_resid_pre/,
    );
  });

  it('refuses a hook the model does not have', async () => {
    const dir = directionSae('blocks.7.hook_resid_pre', v);
    const pack = await hfEntry('gpt2-tiny', [{ id: 'x', hook: 'blocks.7.hook_resid_pre', dir }]);
    expect(await codeOf(HfTextEngine.load(pack, { cacheDir }))).toMatch(
      /^bad_pack: SAE "x" reads blocks\.7\.hook_resid_pre, which gpt2 model gpt2-tiny does not expose \(it has blocks\.0\.hook_resid_pre/,
    );
  });

  it('refuses a d_in that is not the width at the hook', async () => {
    const dir = directionSae('blocks.1.hook_resid_pre', new Float32Array(32).fill(1));
    const pack = await hfEntry('gpt2-tiny', [{ id: 'x', hook: 'blocks.1.hook_resid_pre', dir }]);
    expect(await codeOf(HfTextEngine.load(pack, { cacheDir }))).toMatch(
      /^bad_pack: SAE "x" has d_in 32, but gpt2 model gpt2-tiny's activation at blocks\.1\.hook_resid_pre has width 64/,
    );
  });

  it('centres the activations for an SAE with center_writing_weights, and warns of nothing', async () => {
    const own = fixtureSae('llama-tiny');
    const ref = readReference('llama-tiny');
    const engine = await HfTextEngine.load(await hfEntry('llama-tiny', [own]), { cacheDir });
    try {
      expect(engine.info().warnings).toBeUndefined();
      const out = await engine.active(
        { packId: 'x', saeId: 'sae', prompt: ref.prompt, topK: 8 },
        ctx(),
      );
      const got = out.rows.map((r) => r.features.map((x) => x.feature));
      expect(got).toEqual(ref.sae.top_features.map((r) => r.map(([i]) => i)));
      // without centring the SAE would read other features
      expect(got).not.toEqual(ref.sae.top_features_without_centring?.map((r) => r.map(([i]) => i)));
    } finally {
      await engine.dispose();
    }
  });

  it('warns once about a jumprelu SAE with negative thresholds', async () => {
    const dir = directionSae('blocks.1.hook_resid_pre', v);
    const cfg = {
      architecture: 'jumprelu',
      d_in: 64,
      d_sae: 2,
      hook_name: 'blocks.1.hook_resid_pre',
    };
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify(cfg));
    const { writeSafetensors } = await import('../../../../main/sae');
    const z = (k: number): Float32Array => new Float32Array(k);
    writeFileSync(
      join(dir, 'sae_weights.safetensors'),
      writeSafetensors({
        W_enc: { dtype: 'F32', shape: [64, 2], data: z(128) },
        W_dec: { dtype: 'F32', shape: [2, 64], data: z(128) },
        b_enc: { dtype: 'F32', shape: [2], data: z(2) },
        b_dec: { dtype: 'F32', shape: [64], data: z(64) },
        threshold: { dtype: 'F32', shape: [2], data: Float32Array.from([-0.5, 0.1]) },
      }),
    );
    const pack = await hfEntry('gpt2-tiny', [{ id: 'j', hook: 'blocks.1.hook_resid_pre', dir }]);
    const engine = await HfTextEngine.load(pack, { cacheDir, keepBefore: false });
    try {
      expect(engine.info().warnings).toEqual([
        expect.stringMatching(/^SAE "j" is a JumpReLU SAE with 1 negative threshold: /),
      ]);
    } finally {
      await engine.dispose();
    }
  });
});
