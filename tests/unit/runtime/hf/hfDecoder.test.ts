/**
 * The HF decoder adapter against torch forward hooks (tests/fixtures/hf/<model>/reference.json):
 * every exposed hook and the last logits, without and with the KV cache, plain and with a
 * steering vector at blocks.1.hook_resid_mid.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allHooks } from '../../../../main/onnx/hookNames';
import type { HfTextModel } from '../../../../main/packs/manifest';
import { isHfModel } from '../../../../main/packs/manifest';
import { f32, HfDecoder } from '../../../../main/runtime/hf/hfDecoder';
import type { TensorLike } from '../../../../main/runtime/onnx';
import { hfEntry, maxDiff, readReference, type HfFixture } from './helpers';

const STEER = 'blocks.1.hook_resid_mid';

describe.each<HfFixture>(['gpt2-tiny', 'llama-tiny'])('HfDecoder on %s', (name) => {
  const ref = readReference(name);
  const cacheDir = mkdtempSync(join(tmpdir(), 'orrery-hf-cache-'));
  const hooks = ref.hooks;
  const ids = ref.input_ids;
  const n = ids.length;
  let decoder: HfDecoder;
  let model: HfTextModel;
  const d = (): number => model.d_model;

  beforeAll(async () => {
    const pack = await hfEntry(name, []);
    if (pack.manifest.kind !== 'text-lm' || !isHfModel(pack.manifest.model)) throw new Error();
    model = pack.manifest.model;
    decoder = await HfDecoder.open(model, { cacheDir, expose: hooks, steer: [STEER] });
  });
  afterAll(async () => {
    await decoder.release();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const idsOf = (xs: readonly number[]): BigInt64Array => BigInt64Array.from(xs.map(BigInt));
  it('exposes every TransformerLens hook and passes its self-check', () => {
    expect(hooks).toEqual(allHooks(model.n_layers));
    expect(decoder.checks.length).toBeGreaterThan(0);
  });

  it('matches torch at every hook and at the logits without the cache', async () => {
    const fetch = Object.fromEntries(['logits', ...hooks].map((h) => [h, null]));
    const out = await decoder.run(
      { ids: idsOf(ids), batch: 1, seq: n, pos0: 0, past: null },
      fetch,
    );
    const table: Record<string, number> = {};
    for (const h of hooks) table[h] = maxDiff(f32(out, h), ref.no_cache.hooks[h]?.flat() ?? []);
    const logits = f32(out, 'logits');
    table.logits = maxDiff(logits.subarray((n - 1) * model.vocab_size), ref.no_cache.logits_last);
    for (const [h, diff] of Object.entries(table))
      expect(diff, h).toBeLessThanOrEqual(ref.tolerance);
  });

  it('reads a hook through the graph cut after it (runUpTo), steering at shallower hooks applied', async () => {
    const v = Float32Array.from(ref.steering.vector);
    const steer = new Map([[STEER, { dims: [1, 1, d()], data: v }]]);
    const run = { ids: idsOf(ids), batch: 1, seq: n, pos0: 0, past: null, steer };
    const after = 'blocks.2.hook_resid_pre';
    expect(
      maxDiff(await decoder.runUpTo(after, run), ref.steering.no_cache.hooks[after]?.flat() ?? []),
    ).toBeLessThanOrEqual(ref.tolerance);
    expect(
      maxDiff(
        await decoder.runUpTo(STEER, run),
        ref.steering.no_cache.at_hook_before_steering.flat(),
      ),
    ).toBeLessThanOrEqual(ref.tolerance);
  });

  it('matches torch with the KV cache: the prefix, then the last token', async () => {
    const presents = Object.fromEntries(decoder.presentNames().map((p) => [p, null]));
    const first = await decoder.run(
      { ids: idsOf(ids.slice(0, -1)), batch: 1, seq: n - 1, pos0: 0, past: null },
      presents,
    );
    const past: Record<string, TensorLike> = {};
    for (const [k, t] of Object.entries(first)) past[k.replace('present.', 'past.')] = t;
    const fetch = Object.fromEntries(['logits', ...hooks].map((h) => [h, null]));
    const out = await decoder.run(
      { ids: idsOf(ids.slice(-1)), batch: 1, seq: 1, pos0: n - 1, past },
      fetch,
    );
    for (const h of hooks) {
      expect(maxDiff(f32(out, h), ref.with_cache.hooks[h] ?? []), h).toBeLessThanOrEqual(
        ref.tolerance,
      );
    }
    expect(maxDiff(f32(out, 'logits'), ref.with_cache.logits_last)).toBeLessThanOrEqual(
      ref.tolerance,
    );
  });

  it('adds a steering vector at blocks.1.hook_resid_mid as torch does, with and without the cache', async () => {
    const v = Float32Array.from(ref.steering.vector);
    const steer = new Map([[STEER, { dims: [1, 1, d()], data: v }]]);
    const fetch = Object.fromEntries(
      ['logits', STEER, ...ref.steering.downstream_hooks].map((h) => [h, null]),
    );
    const out = await decoder.run(
      { ids: idsOf(ids), batch: 1, seq: n, pos0: 0, past: null, steer },
      fetch,
    );
    // the exposed hook is the value before its steering
    expect(
      maxDiff(f32(out, STEER), ref.steering.no_cache.at_hook_before_steering.flat()),
    ).toBeLessThanOrEqual(ref.tolerance);
    for (const h of ref.steering.downstream_hooks) {
      expect(
        maxDiff(f32(out, h), ref.steering.no_cache.hooks[h]?.flat() ?? []),
        h,
      ).toBeLessThanOrEqual(ref.tolerance);
    }
    const last = f32(out, 'logits').subarray((n - 1) * model.vocab_size);
    expect(maxDiff(last, ref.steering.no_cache.logits_last)).toBeLessThanOrEqual(ref.tolerance);
    // and the steering moved the logits by much more than the tolerance
    expect(maxDiff(last, ref.no_cache.logits_last)).toBeGreaterThan(100 * ref.tolerance);

    // cached: the prefix steered too, then the last token
    const presents = Object.fromEntries(decoder.presentNames().map((p) => [p, null]));
    const first = await decoder.run(
      { ids: idsOf(ids.slice(0, -1)), batch: 1, seq: n - 1, pos0: 0, past: null, steer },
      presents,
    );
    const past: Record<string, TensorLike> = {};
    for (const [k, t] of Object.entries(first)) past[k.replace('present.', 'past.')] = t;
    const cached = await decoder.run(
      { ids: idsOf(ids.slice(-1)), batch: 1, seq: 1, pos0: n - 1, past, steer },
      { logits: null },
    );
    expect(maxDiff(f32(cached, 'logits'), ref.steering.with_cache.logits_last)).toBeLessThanOrEqual(
      ref.tolerance,
    );
  });
});
