/**
 * SAEs at blocks.N.attn.hook_z on the HF engine (both fixtures): an SAE folder with hook_name
 * blocks.1.attn.hook_z and d_in n_heads·d_head = 64 attaches, its add dial (a delta in z space)
 * changes the logits alike with and without the KV cache, a pin dial steers by steer() of the
 * rows read at hook_z (through the graph cut after it), and its rows are read at hook_z;
 * d_in 63 is refused with the named error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrreryError } from '../../../../preload/contract';
import type { EngineContext } from '../../../../main/runtime/engine';
import { f32 } from '../../../../main/runtime/hf/hfDecoder';
import { HfTextEngine, type HfRow } from '../../../../main/runtime/hf/hfTextEngine';
import { Prng } from '../../../../main/runtime/text/sampling';
import { loadSae, steer } from '../../../../main/sae';
import { directionSae, hfEntry, maxDiff, readReference, type HfFixture } from './helpers';

const Z = 'blocks.1.attn.hook_z';
const ctx = (): EngineContext => ({ signal: new AbortController().signal });

describe.each<HfFixture>(['gpt2-tiny', 'llama-tiny'])('an SAE at attn.hook_z on %s', (name) => {
  const ref = readReference(name);
  const cacheDir = mkdtempSync(join(tmpdir(), 'orrery-hf-z-'));
  const n = ref.input_ids.length;
  let engine: HfTextEngine;
  let dir: string;

  beforeAll(async () => {
    const rng = new Prng(3);
    const direction = Float32Array.from({ length: 64 }, () => 4 * (rng.next() * 2 - 1));
    dir = directionSae(Z, direction);
    const pack = await hfEntry(name, [{ id: 'z', hook: Z, dir }]);
    engine = await HfTextEngine.load(pack, { cacheDir, keepBefore: false });
  });
  afterAll(async () => {
    await engine.dispose();
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

  async function lastLogits(steering: HfRow['steering'], cached: boolean): Promise<Float32Array> {
    const V = engine.vocab;
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

  it('attaches at hook_z, which the rewired graph exposes and self-checks', () => {
    expect(engine.info().saes).toEqual([expect.objectContaining({ id: 'z', hook: Z, dIn: 64 })]);
    expect(engine.decoder.widthOf(Z)).toBe(64);
    expect(engine.decoder.checks.some((c) => c.startsWith(`${Z}: steering moves`))).toBe(true);
  });

  it('an add dial changes the output, alike with and without the cache', async () => {
    const plan = await engine.planDials([
      { saeId: 'z', feature: 0, method: 'add', value: 1, maxActivation: null },
    ]);
    expect(plan?.get(Z)?.constant?.length).toBe(64);
    const plain = await lastLogits(null, false);
    const off = await lastLogits(plan, false);
    const on = await lastLogits(plan, true);
    expect(maxDiff(plain, ref.no_cache.logits_last)).toBeLessThanOrEqual(ref.tolerance);
    expect(maxDiff(off, plain)).toBeGreaterThan(1e-2);
    expect(maxDiff(on, off)).toBeLessThanOrEqual(1e-4);
  });

  it('a pin dial reads hook_z up to the hook and steers by steer() of those rows', async () => {
    const sae = await loadSae(dir);
    const h = await engine.decoder.hookRows(Z, [ref.input_ids]);
    const dial = { feature: 0, method: 'pin' as const, value: 2 };
    const delta = steer(sae, h, n, [dial]).delta;
    const direct = await engine.decoder.run(
      {
        ids: BigInt64Array.from(ref.input_ids.map(BigInt)),
        batch: 1,
        seq: n,
        pos0: 0,
        past: null,
        steer: new Map([[Z, { dims: [1, n, 64], data: delta }]]),
      },
      { logits: null },
    );
    const want = f32(direct, 'logits').subarray((n - 1) * engine.vocab);
    const plan = await engine.planDials([{ saeId: 'z', ...dial, maxActivation: null }]);
    expect(maxDiff(await lastLogits(plan, false), want)).toBeLessThanOrEqual(1e-4);
    expect(maxDiff(await lastLogits(plan, true), want)).toBeLessThanOrEqual(1e-4);
    expect(maxDiff(want, ref.no_cache.logits_last)).toBeGreaterThan(1e-3);
  });

  it('reads its rows at hook_z (64 wide, BOS left out)', async () => {
    const rows = await engine.saeRows('z', { text: ref.prompt }, ctx());
    expect(rows.n).toBe(n - 1);
    expect(rows.h.length).toBe((n - 1) * 64);
    expect(Math.max(...rows.h.map(Math.abs))).toBeGreaterThan(0);
  });
});

describe('an SAE at attn.hook_z that does not fit', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'orrery-hf-z-'));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('refuses d_in 63 with the named error', async () => {
    const dir = directionSae(Z, new Float32Array(63).fill(1));
    const pack = await hfEntry('gpt2-tiny', [{ id: 'x', hook: Z, dir }]);
    const err = await HfTextEngine.load(pack, { cacheDir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OrreryError);
    expect(`${(err as OrreryError).code}: ${(err as Error).message}`).toMatch(
      /^bad_pack: SAE "x" has d_in 63, but gpt2 model gpt2-tiny's activation at blocks\.1\.attn\.hook_z has width 64/,
    );
  });
});
