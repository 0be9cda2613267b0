// The default text packs (models/text-fortunes, models/text-shelf), when they are there: each
// loads, its graph matches its torch reference (when it ships one), the unsteered row of a
// steered batch is the plain run, token for token (batch-of-2 numerics must not leak into
// "before"), and a dial on each of its SAEs (text-shelf: at layers 1 and 4) steers, alone and
// together.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeInputs } from '../../../../preload/contract';
import type { TextGenerateInput } from '../../../../main/runtime/engine';
import { OnnxSession, type TensorLike } from '../../../../main/runtime/onnx';
import { TextEngine } from '../../../../main/runtime/text/textEngine';
import { readTextPack, repoRoot } from './helpers';

// ORRERY_TEXT_PACK points the same checks at another text pack folder.
const packDirs = (
  process.env.ORRERY_TEXT_PACK
    ? [process.env.ORRERY_TEXT_PACK]
    : ['text-fortunes', 'text-shelf'].map((n) => join(repoRoot, 'models', n))
).filter((d) => existsSync(join(d, 'manifest.json')));

interface RefTensor {
  dims: number[];
  data: number[];
}

describe.each(packDirs)('default text pack %s', (packDir) => {
  let engine: TextEngine;
  beforeAll(async () => {
    engine = await TextEngine.load(await readTextPack(packDir), { keepBefore: false });
  });
  afterAll(async () => engine?.dispose());

  const input = (prompt: string, dials: unknown[], sampling: object): TextGenerateInput =>
    runtimeInputs.textGenerate.parse({
      packId: engine.info().packId,
      prompt,
      dials,
      sampling: { maxTokens: 32, ...sampling },
    });
  const ctx = () => ({ signal: new AbortController().signal });

  it('loads with its SAEs', () => {
    const info = engine.info();
    expect(info.saes.length).toBeGreaterThan(0);
    for (const s of info.saes) expect(s.dIn).toBeGreaterThan(0);
  });

  it('matches its torch reference, when it ships one', async () => {
    const refPath = join(packDir, 'reference.json');
    if (!existsSync(refPath)) return;
    const ref = JSON.parse(readFileSync(refPath, 'utf8')) as {
      cases: { inputs: Record<string, RefTensor>; outputs: Record<string, RefTensor> }[];
    };
    const manifest = JSON.parse(readFileSync(join(packDir, 'manifest.json'), 'utf8')) as {
      model: { onnx: { below: string; above: string } };
    };
    const below = await OnnxSession.create(join(packDir, manifest.model.onnx.below));
    const above = await OnnxSession.create(join(packDir, manifest.model.onnx.above));
    try {
      for (const c of ref.cases) {
        const given: Record<string, TensorLike> = {};
        for (const [name, t] of Object.entries(c.inputs)) {
          given[name] = {
            dims: t.dims,
            data: name.endsWith('_ids')
              ? BigInt64Array.from(t.data, (v) => BigInt(v))
              : Float32Array.from(t.data),
          };
        }
        const feeds = (g: OnnxSession): Record<string, TensorLike> =>
          Object.fromEntries(g.inputs.map((i) => [i.name, given[i.name] as TensorLike]));
        const low = await below.run(feeds(below));
        if (low.hook_resid) given.hook_resid = low.hook_resid;
        const out = { ...low, ...(await above.run(feeds(above))) };
        for (const [name, want] of Object.entries(c.outputs)) {
          const got = out[name]?.data as Float32Array;
          let m = 0;
          for (let i = 0; i < want.data.length; i++) {
            m = Math.max(m, Math.abs((got[i] ?? 0) - (want.data[i] ?? 0)));
          }
          expect(m, name).toBeLessThan(1e-3);
        }
      }
    } finally {
      await below.release();
      await above.release();
    }
  });

  it.each([
    ['greedy', { temperature: 0 }],
    ['sampled', { temperature: 0.9, topP: 0.95, seed: 3 }],
  ] as const)('%s: the before row of a steered batch is the plain run', async (_n, sampling) => {
    const saeId = engine.info().saes[0]?.id ?? '';
    const prompt = 'Q: What is the meaning of life?\nA:';
    const plain = await engine.generate(input(prompt, [], sampling), ctx());
    const steered = await engine.generate(
      input(prompt, [{ saeId, feature: 0, method: 'pin', value: 5 }], sampling),
      ctx(),
    );
    expect(steered.batched).toBe(true);
    expect(steered.before.tokenIds).toEqual(plain.before.tokenIds);
  });

  it('steers from each of its SAEs, and from all of them in one run', async () => {
    const saes = engine.info().saes;
    const prompt = 'The meaning of';
    const sampling = { temperature: 0 };
    const plain = await engine.generate(input(prompt, [], sampling), ctx());
    // strong enough to change the text, not so strong that every hook's dial ends in the same
    // repeated word (at 60 two of the text pack's three SAEs both wrote " being being …")
    const dialOn = (saeId: string) => ({ saeId, feature: 7, method: 'add', value: 30 });
    const runs = saes.map((s) => [dialOn(s.id)]);
    if (saes.length > 1) runs.push(saes.map((s) => dialOn(s.id)));
    const afters = new Set<string>();
    for (const dials of runs) {
      const out = await engine.generate(input(prompt, dials, sampling), ctx());
      expect(out.before.tokenIds).toEqual(plain.before.tokenIds);
      expect(out.after.tokenIds, JSON.stringify(dials)).not.toEqual(plain.before.tokenIds);
      afters.add(out.after.tokenIds.join());
    }
    // each SAE's dial, and all of them together, write a text of their own
    expect(afters.size).toBe(runs.length);
  });
});
