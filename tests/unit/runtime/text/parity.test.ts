// The two ONNX graphs (below.onnx, above.onnx), run through main/runtime/onnx, against the
// outputs torch wrote to reference.json when the recipe exported the fixture (random steering
// included); against the single graph they were re-exported from (same weights); and the
// engine's cached steps against full recomputation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxSession, type TensorLike } from '../../../../main/runtime/onnx';
import { TextEngine } from '../../../../main/runtime/text/textEngine';
import { fixtureDir, readTextPack, type RefCase, type RefTensor } from './helpers';

const reference = JSON.parse(readFileSync(join(fixtureDir, 'reference.json'), 'utf8')) as {
  tolerance: number;
  graphs: { below: string; above: string };
  cases: RefCase[];
};
const LAYERS = 2;

function tensor(name: string, t: RefTensor): TensorLike {
  return {
    dims: t.dims,
    data:
      name === 'input_ids' || name === 'position_ids'
        ? BigInt64Array.from(t.data, (v) => BigInt(v))
        : Float32Array.from(t.data),
  };
}

/** The inputs a graph declares, from the case (or `extra`). */
function feedsFor(
  g: OnnxSession,
  c: RefCase,
  extra: Record<string, TensorLike> = {},
): Record<string, TensorLike> {
  const out: Record<string, TensorLike> = {};
  for (const { name } of g.inputs) {
    const t = extra[name] ?? (c.inputs[name] ? tensor(name, c.inputs[name]) : undefined);
    if (!t) throw new Error(`reference case ${c.name} has no input ${name}`);
    out[name] = t;
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

describe('text-tiny below.onnx + above.onnx against torch (reference.json)', () => {
  let below: OnnxSession;
  let above: OnnxSession;
  beforeAll(async () => {
    below = await OnnxSession.create(join(fixtureDir, reference.graphs.below));
    above = await OnnxSession.create(join(fixtureDir, reference.graphs.above));
  });
  afterAll(async () => {
    await below.release();
    await above.release();
  });

  /** One step as the engine runs it: below, then above on its hook_resid. */
  async function step(c: RefCase): Promise<Record<string, TensorLike>> {
    const low = await below.run(feedsFor(below, c));
    const resid = low.hook_resid;
    if (!resid) throw new Error('below gave no hook_resid');
    const high = await above.run(feedsFor(above, c, { hook_resid: resid }));
    return { ...low, ...high };
  }

  it('has cases with and without the cache, with steering, per-layer caches', () => {
    expect(reference.cases.map((c) => c.name)).toEqual(['no_cache', 'with_cache']);
    const steering = reference.cases[0]?.inputs.steering?.data ?? [];
    expect(steering.some((v) => v !== 0)).toBe(true);
    expect(reference.tolerance).toBeLessThanOrEqual(1e-3);
    for (let l = 0; l < LAYERS; l++) {
      expect(reference.cases[1]?.inputs[`past.${l}.key`]?.dims[2]).toBeGreaterThan(0);
      expect(reference.cases[1]?.outputs[`present.${l}.value`]).toBeDefined();
    }
  });

  it.each(reference.cases.map((c) => [c.name, c] as const))(
    '%s: every output of both graphs within the tolerance',
    async (_name, c) => {
      const out = await step(c);
      for (const [name, ref] of Object.entries(c.outputs)) {
        const got = out[name];
        expect(got?.dims, name).toEqual(ref.dims);
        expect(maxAbsDiff(got?.data as Float32Array, ref.data), name).toBeLessThan(1e-3);
      }
    },
  );

  it('runInto writes the outputs into the views the caller gives, leaving the rest alone', async () => {
    const c = reference.cases.find((x) => x.name === 'with_cache');
    if (!c) throw new Error('reference.json has no with_cache case');
    const dims = c.outputs['present.0.key']?.dims ?? [];
    const n = dims.reduce((a, b) => a * b, 1);
    // Views into bigger buffers, as the engine's cache uses them; the tail must stay as it was.
    const keys = new Float32Array(n + 7).fill(-9);
    const values = new Float32Array(n + 7).fill(-9);
    const out = await below.runInto(feedsFor(below, c), {
      hook_resid: null,
      'present.0.key': { dims, data: keys.subarray(0, n) },
      'present.0.value': { dims, data: values.subarray(0, n) },
    });
    expect(Object.keys(out).sort()).toEqual(['hook_resid', 'present.0.key', 'present.0.value']);
    const want = (name: string): number[] => c.outputs[name]?.data ?? [];
    expect(maxAbsDiff(keys.subarray(0, n), want('present.0.key'))).toBeLessThan(1e-3);
    expect(maxAbsDiff(values.subarray(0, n), want('present.0.value'))).toBeLessThan(1e-3);
    expect(maxAbsDiff(out.hook_resid?.data as Float32Array, want('hook_resid'))).toBeLessThan(1e-3);
    expect([...keys.subarray(n)]).toEqual(new Array(7).fill(-9));
  });

  it('the re-exported graphs give what the single graph they came from gave (same weights)', async () => {
    // tests/fixtures/text-legacy/model.onnx: the fixture before the split, stacked
    // past_keys/past_values [layers, batch, heads, past, d_head].
    const legacy = await OnnxSession.create(join(fixtureDir, '../../text-legacy/model.onnx'));
    try {
      for (const c of reference.cases) {
        const stack = (kv: 'key' | 'value'): TensorLike => {
          const parts = Array.from({ length: LAYERS }, (_, l) => c.inputs[`past.${l}.${kv}`]);
          const dims = parts[0]?.dims ?? [];
          return {
            dims: [LAYERS, ...dims],
            data: Float32Array.from(parts.flatMap((p) => p?.data ?? [])),
          };
        };
        const old = await legacy.run({
          input_ids: tensor('input_ids', c.inputs.input_ids as RefTensor),
          position_ids: tensor('position_ids', c.inputs.position_ids as RefTensor),
          steering: tensor('steering', c.inputs.steering as RefTensor),
          past_keys: stack('key'),
          past_values: stack('value'),
        });
        const now = await step(c);
        for (const name of ['logits', 'hook_resid']) {
          const a = now[name]?.data as Float32Array;
          expect(maxAbsDiff(a, old[name]?.data as Float32Array), name).toBeLessThan(1e-5);
        }
        const keys = old.present_keys?.data as Float32Array;
        const n = keys.length / LAYERS;
        for (let l = 0; l < LAYERS; l++) {
          const a = now[`present.${l}.key`]?.data as Float32Array;
          expect(maxAbsDiff(a, keys.subarray(l * n, (l + 1) * n))).toBeLessThan(1e-5);
        }
      }
    } finally {
      await legacy.release();
    }
  });

  it('the cached case continues the uncached one', () => {
    const cached = reference.cases.find((c) => c.same_as);
    const full = reference.cases.find((c) => c.name === cached?.same_as?.case);
    if (!cached?.same_as || !full) throw new Error('reference.json has no same_as case');
    const [B, S, V] = full.outputs.logits?.dims ?? [];
    const from = cached.same_as.from_position;
    const seq = cached.outputs.logits?.dims[1] ?? 0;
    expect(from + seq).toBe(S);
    let m = 0;
    for (let b = 0; b < (B ?? 0); b++) {
      for (let t = 0; t < seq; t++) {
        for (let v = 0; v < (V ?? 0); v++) {
          const a = cached.outputs.logits?.data[(b * seq + t) * (V ?? 0) + v] ?? 0;
          const f = full.outputs.logits?.data[(b * (S ?? 0) + from + t) * (V ?? 0) + v] ?? 0;
          m = Math.max(m, Math.abs(a - f));
        }
      }
    }
    expect(m).toBeLessThan(1e-3);
  });
});

describe('TextEngine.forward: cache, steering and hook', () => {
  let engine: TextEngine;
  beforeAll(async () => {
    engine = await TextEngine.load(await readTextPack(fixtureDir), { keepBefore: false });
  });
  afterAll(async () => engine.dispose());

  const d = 16;
  const V = 300;
  const ids = [1, 77, 120, 103, 106, 283, 35, 52, 57, 13];

  it('token-by-token with the cache gives the logits of one full pass', async () => {
    const n = ids.length;
    const full = await engine.forward([ids], 0, null, new Float32Array(n * d));
    let step = await engine.forward([ids.slice(0, 4)], 0, null, new Float32Array(4 * d));
    for (let t = 4; t < n; t++) {
      step = await engine.forward([[ids[t] ?? 0]], t, step.kv, new Float32Array(d));
      const want = full.logits.subarray(t * V, (t + 1) * V);
      expect(maxAbsDiff(step.logits, want)).toBeLessThan(1e-4);
    }
    expect(step.kv.len).toBe(n);
  });

  it('hook_resid is read before the steering is added; the steering moves the logits', async () => {
    const n = ids.length;
    const zero = await engine.forward([ids], 0, null, new Float32Array(n * d));
    const push = new Float32Array(n * d).map((_, i) => Math.sin(i) * 3);
    const steered = await engine.forward([ids], 0, null, push);
    expect(maxAbsDiff(steered.hook, zero.hook)).toBe(0);
    expect(maxAbsDiff(steered.logits, zero.logits)).toBeGreaterThan(0.01);
  });

  it('batch rows are computed independently of each other', async () => {
    const other = [1, 13, 52, 35, 87, 260, 113, 57, 52, 35];
    const n = ids.length;
    const alone = await engine.forward([ids], 0, null, new Float32Array(n * d));
    const pair = await engine.forward([ids, other], 0, null, new Float32Array(2 * n * d));
    expect(maxAbsDiff(pair.logits.subarray(0, n * V), alone.logits)).toBeLessThan(1e-5);
  });
});
