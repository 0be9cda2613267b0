// An SAE's pin/scale dials as a graph (main/runtime/text/coderGraph), run in ORT against the
// SAE fixtures' torch references (float64): every steering case of every SAE it codes gives
// the reference delta to float32 rounding, each row its own dials (a dial's mask leaves a row
// alone), rows not listed pass their steering through bit for bit; SAEs that normalise their
// input, or are gated, have no coder. A TopK SAE wider than its int8 candidates: features
// ranked just inside and just outside the top k of each row are coded as steer() codes them.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  dialDirection,
  loadSae,
  parseSaeConfig,
  Sae,
  steer,
  type Dial,
  type Tensor,
} from '../../../../main/sae';
import { OnnxSession } from '../../../../main/runtime/onnx';
import {
  candidatesFor,
  codableInGraph,
  coderGraph,
} from '../../../../main/runtime/text/coderGraph';
import { seeded } from '../../../support/seeded';
import { CASES, expectClose, FIXTURES, flat, readReference } from '../../sae/helpers';

const sessions: OnnxSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

describe('SAE coder graph', () => {
  for (const name of CASES) {
    it(`${name}: the reference deltas of pin, scale and their mixes with add`, async () => {
      const sae = await loadSae(path.join(FIXTURES, name));
      const ref = readReference(name);
      const model = coderGraph(sae);
      const codable = name !== 'gated' && name !== 'layer_norm';
      expect(codableInGraph(sae)).toBe(codable);
      if (!codable) {
        expect(model).toBeNull();
        return;
      }
      if (!model) throw new Error('no coder graph');
      const session = await OnnxSession.create(model, { intraOpThreads: 1 });
      sessions.push(session);
      const { n, d_in: d } = ref;
      const x = flat(ref.x);
      let ran = 0;
      for (const [label, cased] of Object.entries(ref.steering)) {
        const coded = cased.dials.filter((dial) => dial.method !== 'add');
        if (coded.length === 0) continue;
        const features = [...new Set(coded.map((dial) => dial.feature))];
        const m = features.length;
        // Each of the n rows a batch row of one position; the adds are the steering given.
        const steering = new Float32Array(n * d);
        const a = new Float32Array(n * m);
        const c = new Float32Array(n * m);
        for (let r = 0; r < n; r++) {
          for (const dial of cased.dials) {
            if (dial.mask && !dial.mask[r]) continue;
            if (dial.method === 'add') {
              const w = dialDirection(sae, dial);
              for (let i = 0; i < d; i++) {
                steering[r * d + i] = (steering[r * d + i] ?? 0) + dial.value * (w[i] ?? 0);
              }
            } else {
              const j = r * m + features.indexOf(dial.feature);
              a[j] = dial.method === 'pin' ? dial.value : 0;
              c[j] = dial.method === 'pin' ? -1 : dial.value - 1;
            }
          }
        }
        const out = await session.run(
          {
            hook_resid: { dims: [n, 1, d], data: x },
            steering: { dims: [n, 1, d], data: steering },
            rows: { dims: [n], data: BigInt64Array.from({ length: n }, (_, r) => BigInt(r)) },
            features: { dims: [m], data: BigInt64Array.from(features, BigInt) },
            a: { dims: [n, 1, m], data: a },
            c: { dims: [n, 1, m], data: c },
          },
          ['steered'],
        );
        const got = out.steered?.data as Float32Array;
        expectClose(got, flat(cased.delta), 1e-5, `${name} ${label}`);
        ran++;

        // Rows 1 and 3 alone (as in a batch of all, to float32 rounding): the others keep the
        // steering they came with, bit for bit.
        const only = [1, 3];
        const pick = (t: Float32Array, w: number) =>
          Float32Array.from(only.flatMap((r) => [...t.subarray(r * w, (r + 1) * w)]));
        const some = await session.run(
          {
            hook_resid: { dims: [n, 1, d], data: x },
            steering: { dims: [n, 1, d], data: steering },
            rows: { dims: [2], data: BigInt64Array.from(only, BigInt) },
            features: { dims: [m], data: BigInt64Array.from(features, BigInt) },
            a: { dims: [2, 1, m], data: pick(a, m) },
            c: { dims: [2, 1, m], data: pick(c, m) },
          },
          ['steered'],
        );
        const part = some.steered?.data as Float32Array;
        for (let r = 0; r < n; r++) {
          const row = part.subarray(r * d, (r + 1) * d);
          if (only.includes(r)) expectClose(row, got.subarray(r * d, (r + 1) * d), 1e-6);
          else expect([...row]).toEqual([...steering.subarray(r * d, (r + 1) * d)]);
        }
      }
      expect(ran).toBeGreaterThanOrEqual(5);
    });
  }

  it('a TopK SAE wider than its candidates: the top k as encode ranks them', async () => {
    const D_IN = 24;
    const D_SAE = 600;
    const K = 8;
    expect(candidatesFor(K)).toBeLessThan(D_SAE);
    const rand = seeded(7);
    const f32 = (shape: number[], data: Float32Array): Tensor => ({ dtype: 'F32', shape, data });
    const tensors = new Map<string, Tensor>([
      ['W_enc', f32([D_IN, D_SAE], Float32Array.from({ length: D_IN * D_SAE }, rand))],
      [
        'b_enc',
        f32(
          [D_SAE],
          Float32Array.from({ length: D_SAE }, () => rand() * 0.2),
        ),
      ],
      ['W_dec', f32([D_SAE, D_IN], Float32Array.from({ length: D_SAE * D_IN }, rand))],
      ['b_dec', f32([D_IN], Float32Array.from({ length: D_IN }, rand))],
    ]);
    const cfg = {
      architecture: 'topk',
      d_in: D_IN,
      d_sae: D_SAE,
      k: K,
      apply_b_dec_to_input: true,
    };
    const sae = new Sae(parseSaeConfig(cfg, 'cfg.json'), tensors);
    const model = coderGraph(sae);
    if (!model) throw new Error('no coder graph');
    const session = await OnnxSession.create(model, { intraOpThreads: 1 });
    sessions.push(session);
    const n = 5;
    const x = Float32Array.from({ length: n * D_IN }, () => rand() * 3);
    // Per row, the features ranked k - 1, k and k + 1 by encode's pre-activations.
    const { xp } = sae.prepareInput(x, n);
    for (let r = 0; r < n; r++) {
      const order = Array.from({ length: D_SAE }, (_, j) => j).sort(
        (i, j) => sae.preActivation(xp, r * D_IN, j) - sae.preActivation(xp, r * D_IN, i),
      );
      const edge = [order[K - 2], order[K - 1], order[K]] as number[];
      const dials: Dial[] = [
        { feature: edge[0] as number, method: 'scale', value: 3 },
        { feature: edge[1] as number, method: 'pin', value: -2 },
        { feature: edge[2] as number, method: 'scale', value: 5 },
      ];
      const row = x.subarray(r * D_IN, (r + 1) * D_IN);
      const want = steer(sae, row, 1, dials).delta;
      // the first two change the row (coded), the third does not (outside the top k)
      expect(steer(sae, row, 1, dials.slice(2)).changed).toBe(true);
      expect([...steer(sae, row, 1, dials.slice(2)).delta].every((v) => v === 0)).toBe(true);
      const out = await session.run(
        {
          hook_resid: { dims: [1, 1, D_IN], data: row.slice() },
          steering: { dims: [1, 1, D_IN], data: new Float32Array(D_IN) },
          rows: { dims: [1], data: BigInt64Array.from([0n]) },
          features: { dims: [3], data: BigInt64Array.from(edge, BigInt) },
          a: { dims: [1, 1, 3], data: Float32Array.from([0, -2, 0]) },
          c: { dims: [1, 1, 3], data: Float32Array.from([2, -1, 4]) },
        },
        ['steered'],
      );
      expectClose(out.steered?.data as Float32Array, want, 1e-5, `row ${r}`);
    }
  });
});
