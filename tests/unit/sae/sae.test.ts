import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  loadSae,
  parseSaeConfig,
  Sae,
  SaeLoadError,
  writeSafetensors,
  type Tensor,
  type TensorToWrite,
} from '../../../main/sae';
import { tempDir } from './helpers';
import { seeded } from '../../support/seeded';

const D_IN = 4;
const D_SAE = 6;

function randomTensors(arch: string, rand = seeded(7)): Record<string, TensorToWrite> {
  const t = (shape: number[]): TensorToWrite => ({
    dtype: 'F32',
    shape,
    data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rand),
  });
  const out: Record<string, TensorToWrite> = {
    W_enc: t([D_IN, D_SAE]),
    W_dec: t([D_SAE, D_IN]),
    b_dec: t([D_IN]),
  };
  if (arch === 'gated') {
    out.b_gate = t([D_SAE]);
    out.b_mag = t([D_SAE]);
    out.r_mag = t([D_SAE]);
  } else out.b_enc = t([D_SAE]);
  if (arch === 'jumprelu') out.threshold = t([D_SAE]);
  return out;
}

async function writeSaeDir(
  dir: string,
  cfg: Record<string, unknown>,
  tensors: Record<string, TensorToWrite>,
): Promise<void> {
  await writeFile(path.join(dir, 'cfg.json'), JSON.stringify(cfg));
  await writeFile(path.join(dir, 'sae_weights.safetensors'), writeSafetensors(tensors));
}

function tensorMap(tensors: Record<string, TensorToWrite>): Map<string, Tensor> {
  return new Map(
    Object.entries(tensors).map(([k, v]) => [
      k,
      { dtype: v.dtype, shape: [...v.shape], data: v.data },
    ]),
  );
}

describe('loadSae', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  const cfg = (arch: string, extra: Record<string, unknown> = {}) => ({
    architecture: arch,
    d_in: D_IN,
    d_sae: D_SAE,
    hook_name: 'blocks.0.hook_resid_post',
    ...extra,
  });

  it('loads each architecture and the optional sparsity file', async () => {
    for (const arch of ['standard', 'jumprelu', 'gated']) {
      await writeSaeDir(dir, cfg(arch), randomTensors(arch));
      const sae = await loadSae(dir, { dIn: D_IN });
      expect(sae.architecture).toBe(arch);
      expect(sae.logDensity).toBeNull();
    }
    const sparsity = Float32Array.from({ length: D_SAE }, (_, i) => -i);
    await writeFile(
      path.join(dir, 'sparsity.safetensors'),
      writeSafetensors({ sparsity: { dtype: 'F32', shape: [D_SAE], data: sparsity } }),
    );
    expect(Array.from((await loadSae(dir)).logDensity ?? [])).toEqual(Array.from(sparsity));
  });

  it('loads the emoji fixture pack SAEs written by the recipe', async () => {
    const pack = path.resolve(__dirname, '../../fixtures/packs/emoji-tiny/sae');
    for (const hook of ['latent', 'decoder.hook_spatial']) {
      const sae = await loadSae(path.join(pack, hook));
      const x = Float32Array.from({ length: 3 * sae.dIn }, seeded(3));
      const f = sae.encode(x, 3);
      const k = sae.config.k ?? sae.dSae;
      for (let r = 0; r < 3; r++) {
        const active = f.subarray(r * sae.dSae, (r + 1) * sae.dSae).filter((v) => v !== 0).length;
        expect(active).toBeLessThanOrEqual(k);
      }
    }
  });

  it('rejects a d_in that disagrees with the model', async () => {
    await writeSaeDir(dir, cfg('standard'), randomTensors('standard'));
    await expect(loadSae(dir, { dIn: 256 })).rejects.toThrow(
      /cfg\.json: d_in is 4, but the model's activation at this hook has width 256/,
    );
  });

  it('rejects a tensor whose shape disagrees with cfg.json', async () => {
    const t = randomTensors('standard');
    t.W_dec = { dtype: 'F32', shape: [D_IN, D_SAE], data: new Float32Array(D_IN * D_SAE) };
    await writeSaeDir(dir, cfg('standard'), t);
    await expect(loadSae(dir)).rejects.toThrow(
      /sae_weights\.safetensors: tensor "W_dec" has shape \[4, 6\], but cfg\.json \(d_in 4, d_sae 6\) needs \[6, 4\]/,
    );
  });

  it('rejects a missing tensor for the architecture', async () => {
    await writeSaeDir(dir, cfg('jumprelu'), randomTensors('standard'));
    await expect(loadSae(dir)).rejects.toThrow(/missing tensor "threshold" \(a jumprelu SAE\)/);
    await writeSaeDir(dir, cfg('gated'), randomTensors('standard'));
    await expect(loadSae(dir)).rejects.toThrow(/missing tensor "b_gate" \(a gated SAE\)/);
  });

  it('rejects a truncated weights file, naming it', async () => {
    await writeSaeDir(dir, cfg('standard'), randomTensors('standard'));
    const file = path.join(dir, 'sae_weights.safetensors');
    const bytes = writeSafetensors(randomTensors('standard'));
    await writeFile(file, bytes.subarray(0, bytes.length - 10));
    await expect(loadSae(dir)).rejects.toThrow(
      /sae_weights\.safetensors: tensor "\w+": data_offsets/,
    );
  });

  it('rejects non-finite weights', async () => {
    const t = randomTensors('standard');
    t.b_enc?.data.fill(NaN, 2, 3);
    await writeSaeDir(dir, cfg('standard'), t);
    await expect(loadSae(dir)).rejects.toThrow(/tensor "b_enc" holds a non-finite value at 2/);
  });

  it('rejects an unknown architecture, a missing cfg and a cfg that is not JSON', async () => {
    await writeSaeDir(dir, cfg('crosscoder'), randomTensors('standard'));
    await expect(loadSae(dir)).rejects.toThrow(/cfg\.json: unknown SAE architecture "crosscoder"/);
    await writeFile(path.join(dir, 'cfg.json'), '{"d_in": 4,');
    await expect(loadSae(dir)).rejects.toThrow(/cfg\.json: is not valid JSON/);
    await expect(loadSae(path.join(dir, 'nowhere'))).rejects.toThrow(SaeLoadError);
  });
});

describe('Sae', () => {
  const make = (arch: string, extra: Record<string, unknown> = {}) =>
    new Sae(
      parseSaeConfig({ architecture: arch, d_in: D_IN, d_sae: D_SAE, ...extra }, 'cfg.json'),
      tensorMap(randomTensors(arch)),
    );

  it('rejects inputs of the wrong size or with NaN', () => {
    const sae = make('standard');
    expect(() => sae.encode(new Float32Array(7), 2)).toThrow(
      /x has 7 values, expected n × d_in = 2 × 4/,
    );
    const x = new Float32Array(8);
    x[5] = NaN;
    expect(() => sae.encode(x, 2)).toThrow(/input row 1, column 1 is NaN/);
    expect(() => sae.decode(new Float32Array(5), 1)).toThrow(/decode: f has 5 values/);
    expect(() => sae.encodeFeatures(new Float32Array(4), 1, [6])).toThrow(
      /feature 6 is not in 0…5/,
    );
    expect(() => sae.encodeSparse(new Float32Array(4), 1, 0)).toThrow(/k = 0/);
  });

  it('centres each row over d_in before encoding when the cfg has center_writing_weights', () => {
    const centred = make('standard', {
      model_from_pretrained_kwargs: { center_writing_weights: true },
    });
    const plain = make('standard');
    const x = Float32Array.from([1, 2, 3, 6, -1, 0, 4, 1]);
    const shifted = x.map((v, i) => v - (i < 4 ? 3 : 1)); // each row minus its mean
    // the centred SAE reads x as the plain one reads x − mean …
    expect(Array.from(centred.encode(x, 2))).toEqual(Array.from(plain.encode(shifted, 2)));
    // … which is not what the plain one reads from x
    expect(Array.from(plain.encode(x, 2))).not.toEqual(Array.from(plain.encode(shifted, 2)));
    // a constant added to a row changes nothing for the centred SAE
    expect(
      Array.from(
        centred.encode(
          x.map((v) => v + 5),
          2,
        ),
      ),
    ).toEqual(Array.from(centred.encode(x, 2)));
  });

  it('counts negative jumprelu thresholds', () => {
    const jump = make('jumprelu');
    const thresholds = randomTensors('jumprelu').threshold?.data as Float32Array;
    expect(jump.negativeThresholds()).toBe(thresholds.filter((t) => t < 0).length);
    expect(jump.negativeThresholds()).toBeGreaterThan(0);
    expect(make('standard').negativeThresholds()).toBe(0);
  });

  it('encodes block edges (d_sae 6, n 5) like a plain loop, whatever the batch', () => {
    const tensors = randomTensors('standard');
    const sae = new Sae(
      parseSaeConfig({ architecture: 'standard', d_in: D_IN, d_sae: D_SAE }, 'c'),
      tensorMap(tensors),
    );
    const n = 5;
    const x = Float32Array.from({ length: n * D_IN }, seeded(9));
    const f = sae.encode(x, n);
    const wEnc = tensors.W_enc?.data ?? new Float32Array();
    const bEnc = tensors.b_enc?.data ?? new Float32Array();
    const bDec = tensors.b_dec?.data ?? new Float32Array();
    for (let r = 0; r < n; r++) {
      const one = sae.encode(x.subarray(r * D_IN, (r + 1) * D_IN), 1);
      for (let j = 0; j < D_SAE; j++) {
        let p = 0;
        for (let c = 0; c < D_IN; c++) {
          p += Math.fround((x[r * D_IN + c] ?? 0) - (bDec[c] ?? 0)) * (wEnc[c * D_SAE + j] ?? 0);
        }
        const want = Math.fround(Math.max(0, Math.fround(p) + (bEnc[j] ?? 0)));
        expect(f[r * D_SAE + j]).toBe(want);
        expect(one[j]).toBe(want);
      }
    }
  });

  it('keeps exactly k features in topk and breaks ties by index', () => {
    const tensors = randomTensors('topk');
    // Zero encoder, equal biases: every pre-activation ties at 0.5.
    tensors.W_enc?.data.fill(0);
    tensors.b_enc?.data.fill(0.5);
    tensors.b_dec?.data.fill(0);
    const sae = new Sae(
      parseSaeConfig({ architecture: 'topk', k: 2, d_in: D_IN, d_sae: D_SAE }, 'c'),
      tensorMap(tensors),
    );
    const f = sae.encode(Float32Array.from([1, 2, 3, 4]), 1);
    expect(Array.from(f)).toEqual([0.5, 0.5, 0, 0, 0, 0]);
    const codes = sae.encodeSparse(Float32Array.from([1, 2, 3, 4]), 1, 5);
    expect(Array.from(codes.indices)).toEqual([0, 1, -1, -1, -1]);
    expect(codes.counts[0]).toBe(2);
  });

  it('decodes with and without the input normalisation', () => {
    const sae = make('standard', { normalize_activations: 'constant_norm_rescale' });
    const x = Float32Array.from([3, 0, 4, 0]);
    const { features, norm } = sae.encodeWithNorm(x, 1);
    expect(norm?.inScale[0]).toBeCloseTo(2 / 5, 12);
    const raw = sae.decode(features, 1);
    const scaled = sae.decode(features, 1, norm);
    for (let c = 0; c < D_IN; c++) expect(scaled[c]).toBeCloseTo((raw[c] ?? 0) * 2.5, 5);
  });

  it('gives decoder rows and their norms', () => {
    const sae = make('standard');
    const row = sae.decoderRow(2);
    expect(row.length).toBe(D_IN);
    expect(sae.decoderNorms()[2]).toBeCloseTo(Math.hypot(...row), 6);
    expect(() => sae.decoderRow(-1)).toThrow(/feature -1/);
  });
});

describe('Sae at product size (d_in 256, d_sae 8192)', () => {
  it('encodes, subset-encodes the same bits, and decodes', () => {
    const dIn = 256;
    const dSae = 8192;
    const rand = seeded(11);
    const t = (shape: number[], s: number): Tensor => ({
      dtype: 'F32',
      shape,
      data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * s),
    });
    const sae = new Sae(
      parseSaeConfig({ architecture: 'topk', k: 32, d_in: dIn, d_sae: dSae }, 'c'),
      new Map([
        ['W_enc', t([dIn, dSae], 0.1)],
        ['W_dec', t([dSae, dIn], 0.1)],
        ['b_enc', t([dSae], 0.01)],
        ['b_dec', t([dIn], 0.01)],
      ]),
    );
    const n = 9; // two four-row blocks and one row on its own
    const x = Float32Array.from({ length: n * dIn }, rand);
    const t0 = performance.now();
    const { features, norm } = sae.encodeWithNorm(x, n);
    const t1 = performance.now();
    const xHat = sae.decode(features, n, norm);
    const t2 = performance.now();
    expect(xHat.length).toBe(n * dIn);
    const picked: number[] = [];
    for (let r = 0; r < n; r++) {
      const row = features.subarray(r * dSae, (r + 1) * dSae);
      expect(row.filter((v) => v !== 0).length).toBeLessThanOrEqual(32);
      picked.push(row.findIndex((v) => v !== 0));
    }
    const { values } = sae.encodeFeatures(x, n, picked);
    for (let r = 0; r < n; r++) {
      for (let s = 0; s < n; s++) {
        expect(values[r * n + s]).toBe(features[r * dSae + (picked[s] ?? 0)]);
      }
    }
    // Not a timed test (figures belong to the bench); this only logs the numbers.
    console.log(`encode ${n} rows: ${(t1 - t0).toFixed(1)} ms; decode: ${(t2 - t1).toFixed(1)} ms`);
  });
});
