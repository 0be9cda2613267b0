import { afterAll, describe, expect, it } from 'vitest';
import { parseSaeConfig, Sae, type Tensor } from '../../../main/sae';
import { TopkRanker } from '../../../main/runtime/saeRank';
import { seeded } from '../../support/seeded';

const D_IN = 24;
const D_SAE = 200;
const K = 8;

const f32 = (shape: number[], data: Float32Array): Tensor => ({ dtype: 'F32', shape, data });

/** A TopK SAE; `edit` may change W_enc [d_in, d_sae] and b_enc before it is made. */
function topkSae(seed: number, edit?: (wEnc: Float32Array, bEnc: Float32Array) => void): Sae {
  const rand = seeded(seed);
  const wEnc = Float32Array.from({ length: D_IN * D_SAE }, rand);
  const bEnc = Float32Array.from({ length: D_SAE }, () => rand() * 0.2);
  edit?.(wEnc, bEnc);
  const tensors = new Map<string, Tensor>([
    ['W_enc', f32([D_IN, D_SAE], wEnc)],
    ['b_enc', f32([D_SAE], bEnc)],
    ['W_dec', f32([D_SAE, D_IN], Float32Array.from({ length: D_SAE * D_IN }, rand))],
    ['b_dec', f32([D_IN], Float32Array.from({ length: D_IN }, rand))],
  ]);
  const cfg = { architecture: 'topk', d_in: D_IN, d_sae: D_SAE, k: K, apply_b_dec_to_input: true };
  return new Sae(parseSaeConfig(cfg, 'cfg.json'), tensors);
}

const rankers: TopkRanker[] = [];
async function rankerOf(sae: Sae): Promise<TopkRanker> {
  const r = await TopkRanker.create(sae, K, 1);
  rankers.push(r);
  return r;
}
afterAll(async () => {
  for (const r of rankers) await r.release();
});

/** Every feature's code from the ranker, [n, d_sae], for rows x [n, d_in]. */
async function allCodes(sae: Sae, ranker: TopkRanker, x: Float32Array, n: number) {
  const { xp } = sae.prepareInput(x, n);
  const features = Array.from({ length: D_SAE }, (_, j) => j);
  return ranker.codes(xp, n, features);
}

describe('TopkRanker', () => {
  it('gives encode() codes bit for bit, for rows of any scale, one at a time or together', async () => {
    const sae = topkSae(3);
    const ranker = await rankerOf(sae);
    const rand = seeded(11);
    const n = 40;
    // Rows from 1e-3 to 1e3 in size, one of them all zeros (no step to quantise by), every
    // fifth with one dimension 100 times the rest (as residual streams have).
    const x = Float32Array.from({ length: n * D_IN }, (_, i) => {
      const r = Math.floor(i / D_IN);
      const big = r % 5 === 1 && i % D_IN === 3 ? 100 : 1;
      return r === 7 ? 0 : rand() * 10 ** ((r % 7) - 3) * big;
    });
    const want = sae.encode(x, n);
    expect(Array.from(await allCodes(sae, ranker, x, n))).toEqual(Array.from(want));
    for (const r of [0, 7, 19]) {
      const one = await allCodes(sae, ranker, x.subarray(r * D_IN, (r + 1) * D_IN), 1);
      expect(Array.from(one)).toEqual(Array.from(want.subarray(r * D_SAE, (r + 1) * D_SAE)));
    }
    // Dials read a few features, in any order and repeated.
    const { xp } = sae.prepareInput(x, n);
    const some = [199, 3, 3, 120];
    const codes = await ranker.codes(xp, n, some);
    for (let r = 0; r < n; r++) {
      some.forEach((j, s) => expect(codes[r * some.length + s]).toBe(want[r * D_SAE + j]));
    }
    expect(want.some((v) => v > 0)).toBe(true);
  });

  it('breaks ties at the k-th place as encode does: the lower index first', async () => {
    // Features 10 … 10+K+1 are copies of one column, far stronger than the rest: K+2 equal
    // pre-activations compete for K places, and the K lowest indices take them.
    const copies = Array.from({ length: K + 2 }, (_, i) => 10 + i);
    const sae = topkSae(5, (wEnc, bEnc) => {
      for (let c = 0; c < D_IN; c++) {
        for (const j of copies) wEnc[c * D_SAE + j] = 4 * ((c % 3) - 1 || 1);
      }
      for (const j of copies) bEnc[j] = 0.5;
    });
    const ranker = await rankerOf(sae);
    const x = Float32Array.from({ length: D_IN }, (_, c) => (c % 3) - 1 || 1);
    const want = sae.encode(x, 1);
    const got = await allCodes(sae, ranker, x, 1);
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(copies.map((j) => got[j] !== 0)).toEqual(copies.map((_, i) => i < K));
  });

  it('places a feature among many the int8 bounds cannot tell apart, as encode does', async () => {
    // Features 10 … 49 are one strong column, each nudged by less than the int8 steps can
    // see: every one of them is unsure for the others (more than inTopK looks at a time), and
    // only the exact pre-activations rank them.
    const near = Array.from({ length: 40 }, (_, i) => 10 + i);
    const sae = topkSae(9, (wEnc, bEnc) => {
      near.forEach((j, i) => {
        for (let c = 0; c < D_IN; c++) wEnc[c * D_SAE + j] = 3 + ((c * 7) % 5) / 10 + i * 1e-6;
        bEnc[j] = 0.1;
      });
    });
    const ranker = await rankerOf(sae);
    const rand = seeded(21);
    const n = 6;
    const x = Float32Array.from({ length: n * D_IN }, () => 0.5 + rand());
    const want = sae.encode(x, n);
    expect(Array.from(await allCodes(sae, ranker, x, n))).toEqual(Array.from(want));
    for (let r = 0; r < n; r++) {
      expect(near.filter((j) => (want[r * D_SAE + j] ?? 0) > 0).length).toBe(K);
    }
  });

  it('Sae.preActivations gives preActivation bit for bit, four at a time or one', () => {
    const sae = topkSae(4);
    const rand = seeded(8);
    const xp = Float32Array.from({ length: 3 * D_IN }, () => rand() * 4 - 2);
    const features = Int32Array.from({ length: 23 }, (_, s) => (s * 37) % D_SAE);
    const out = new Float64Array(features.length);
    for (const o of [0, D_IN, 2 * D_IN]) {
      sae.preActivations(xp, o, features, 2, 21, out);
      for (let s = 2; s < 21; s++) {
        expect(out[s - 2]).toBe(sae.preActivation(xp, o, features[s] ?? 0));
      }
    }
  });
});
