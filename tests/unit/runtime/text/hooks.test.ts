// A text pack with SAEs at two hooks (text-tiny-hooks: 2 layers, SAEs at blocks.0 and blocks.1,
// graphs below / middle1 / above, fp16 weights; built by the recipe's --fixture --hooks 0,1
// --fp16 1): the engine against torch's reference.json with steering at both hooks, with and
// without the KV cache; dials at either hook or both steer there (generation equals recomputed
// forward passes with the dials' deltas at their hooks); the SAE readers (active(), the index
// build's model) read the residual at their own SAE's hook.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TextGenerateInput } from '../../../../main/runtime/engine';
import { TextModel } from '../../../../main/index/build/activations';
import type { TensorLike } from '../../../../main/runtime/onnx';
import { TextEngine, type KvCache } from '../../../../main/runtime/text/textEngine';
import { loadSae, steer, type Sae } from '../../../../main/sae';
import { validatePack } from '../../../../main/packs/validatePack';
import {
  engineCtx,
  greedyInput,
  hooksPack,
  readTextPack,
  type RefCase,
  type RefTensor,
} from './helpers';

const { dir, hooks: HOOKS, saes: SAES, dModel: D, prompt: PROMPT } = hooksPack;
/** An add dial strong enough to change the tiny model's greedy text at either hook. */
const VALUE = 30;

const reference = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as {
  tolerance: number;
  hooks: string[];
  cases: RefCase[];
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

const ctx = engineCtx;
const input = (dials: TextGenerateInput['dials'], maxTokens = 6): TextGenerateInput =>
  greedyInput(PROMPT, dials, maxTokens);

function argmaxLast(logits: Float32Array, seq: number, vocab: number): number {
  const row = logits.subarray((seq - 1) * vocab, seq * vocab);
  let best = 0;
  for (let v = 1; v < vocab; v++) if ((row[v] ?? 0) > (row[best] ?? 0)) best = v;
  return best;
}

describe('text pack with SAEs at two hooks (text-tiny-hooks)', () => {
  let engine: TextEngine;
  const saes = new Map<string, Sae>();
  beforeAll(async () => {
    engine = await TextEngine.load(await readTextPack(dir), { keepBefore: false });
    for (const [i, hook] of HOOKS.entries())
      saes.set(SAES[i] as string, await loadSae(join(dir, 'sae', hook)));
  });
  afterAll(async () => engine.dispose());

  it('passes pack validation and lists both SAEs with their hooks', async () => {
    expect(await validatePack(await readTextPack(dir))).toBeNull();
    expect(engine.info().saes.map((s) => [s.id, s.hook])).toEqual([
      [SAES[0], HOOKS[0]],
      [SAES[1], HOOKS[1]],
    ]);
    expect(reference.hooks).toEqual([...HOOKS]);
    // The same pack naming above.onnx as its middle graph: refused, naming the file.
    const tmp = mkdtempSync(join(tmpdir(), 'orrery-hooks-'));
    try {
      cpSync(dir, tmp, { recursive: true });
      const m = JSON.parse(readFileSync(join(tmp, 'manifest.json'), 'utf8')) as {
        model: { onnx: { middle: string[] } };
      };
      m.model.onnx.middle = ['above.onnx'];
      writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(m));
      const problem = await validatePack(await readTextPack(tmp));
      expect(problem?.file).toBe('above.onnx');
      expect(problem?.message).toMatch(/no input "past\.1\.key"/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('matches torch with steering at both hooks, without and with the KV cache', async () => {
    for (const c of reference.cases) {
      const ids = c.inputs.input_ids as RefTensor;
      const [B, S] = ids.dims as [number, number];
      const rows = Array.from({ length: B }, (_, b) => ids.data.slice(b * S, (b + 1) * S));
      const steering = new Map(
        HOOKS.map((h) => [h, Float32Array.from((c.inputs[`steering:${h}`] as RefTensor).data)]),
      );
      let past: KvCache | null = null;
      if (c.same_as) {
        const given: Record<string, TensorLike> = {};
        let len = 0;
        for (const [name, t] of Object.entries(c.inputs)) {
          if (!name.startsWith('past.')) continue;
          given[name] = { dims: t.dims, data: Float32Array.from(t.data) };
          len = t.dims[2] ?? 0;
        }
        past = { past: given, batch: B, len };
      }
      const pos0 = Number((c.inputs.position_ids as RefTensor).data[0]);
      const out = await engine.forward(rows, pos0, past, steering);
      const tol = reference.tolerance;
      expect(maxAbsDiff(out.logits, (c.outputs.logits as RefTensor).data), c.name).toBeLessThan(
        tol,
      );
      for (const h of HOOKS) {
        const got = out.hooks.get(h) ?? new Float32Array(0);
        expect(maxAbsDiff(got, (c.outputs[h] as RefTensor).data), `${c.name} ${h}`).toBeLessThan(
          tol,
        );
      }
      for (const l of [0, 1]) {
        const key = out.kv.past[`past.${l}.key`]?.data as Float32Array;
        expect(maxAbsDiff(key, (c.outputs[`present.${l}.key`] as RefTensor).data)).toBeLessThan(
          tol,
        );
      }
    }
  });

  it('a dial steers at its own SAE hook; dials at both hooks work together in one run', async () => {
    const prompt = engine.promptIds(PROMPT);
    const vocab = engine.vocab;
    const cases = [[0], [1], [0, 1]] as const;
    for (const which of cases) {
      const dials = which.map((i) => ({
        saeId: SAES[i] as string,
        feature: 5 + i,
        method: 'add' as const,
        value: VALUE,
      }));
      for (const cache of [true, false]) {
        const out = await engine.generateWith(input(dials), ctx(), { cache });
        // The same tokens by whole forward passes with each dial's delta at its hook.
        const ids = [...prompt];
        const want: number[] = [];
        for (let t = 0; t < out.after.tokenIds.length; t++) {
          const steering = new Map<string, Float32Array>();
          for (const i of which) {
            const sae = saes.get(SAES[i] as string) as Sae;
            const dial = {
              feature: 5 + i,
              method: 'add' as const,
              value: VALUE,
              maxActivation: null,
              members: null,
            };
            const { delta } = steer(sae, new Float32Array(D), 1, [dial]);
            const rowsAt = new Float32Array(ids.length * D);
            for (let p = 0; p < ids.length; p++) rowsAt.set(delta, p * D);
            steering.set(HOOKS[i] as string, rowsAt);
          }
          const { logits } = await engine.forward([ids], 0, null, steering);
          const next = argmaxLast(logits, ids.length, vocab);
          want.push(next);
          ids.push(next);
        }
        expect(out.after.tokenIds, `dials at ${which.join('+')}, cache ${cache}`).toEqual(want);
        expect(out.after.tokenIds, `dials at ${which.join('+')} change the text`).not.toEqual(
          out.before.tokenIds,
        );
      }
    }
  });

  it('pin at the late hook reads the residual there (cached generation = uncached)', async () => {
    const dials = [
      { saeId: SAES[0], feature: 5, method: 'scale' as const, value: 3 },
      { saeId: SAES[1], feature: 7, method: 'pin' as const, value: 5 },
    ];
    const a = await engine.generateWith(input(dials, 8), ctx(), { cache: true });
    const b = await engine.generateWith(input(dials, 8), ctx(), { cache: false });
    expect(a.after.tokenIds).toEqual(b.after.tokenIds);
    expect(a.before.tokenIds).toEqual(b.before.tokenIds);
  });

  it("active() and the index build's reader read each SAE's own hook", async () => {
    const ids = engine.promptIds(PROMPT);
    const n = ids.length;
    const plain = await engine.forward([ids], 0, null, new Map());
    const pack = await readTextPack(dir);
    for (const [i, hook] of HOOKS.entries()) {
      const saeId = SAES[i] as string;
      const sae = saes.get(saeId) as Sae;
      const h = plain.hooks.get(hook) ?? new Float32Array(0);
      const f = sae.encode(h, n);
      const packId = engine.info().packId;
      const active = await engine.active({ packId, prompt: PROMPT, saeId, topK: 4 }, ctx());
      const last = active.rows[active.rows.length - 1];
      expect(last?.features.length).toBeGreaterThan(0);
      for (const { feature, value } of last?.features ?? []) {
        expect(Math.abs((f[(n - 1) * sae.dSae + feature] ?? 0) - value)).toBeLessThan(1e-4);
      }
      const reader = await TextModel.open(pack, { hook });
      try {
        const { resid } = await reader.resid([ids]);
        expect(maxAbsDiff(resid, h)).toBeLessThan(1e-5);
        // Steering given to the reader lands at its hook.
        const push = new Float32Array(n * D).fill(0.5);
        const steered = await reader.forward([ids], push);
        const want = await engine.forward([ids], 0, null, new Map([[hook, push]]));
        expect(maxAbsDiff(steered.logits, want.logits)).toBeLessThan(1e-5);
      } finally {
        await reader.dispose();
      }
    }
  });
});
