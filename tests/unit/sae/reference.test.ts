/**
 * Parity with the torch reference (tests/fixtures/sae/make_reference.py, float64): encode,
 * decode, top features and steering for every architecture, an old-format cfg, and both
 * per-row input normalisations.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSae, SafetensorsFile, steer, type Dial, type Sae } from '../../../main/sae';
import { readFileSync } from 'node:fs';
import { CASES, expectClose, FIXTURES, flat, readReference, type Reference } from './helpers';

describe.each(CASES)('reference case %s', (name) => {
  let ref: Reference;
  let sae: Sae;
  let x: Float32Array;

  beforeAll(async () => {
    ref = readReference(name);
    sae = await loadSae(path.join(FIXTURES, name), { dIn: ref.d_in });
    x = flat(ref.x);
  });

  it('reads the cfg as torch did', () => {
    expect(sae.architecture).toBe(ref.architecture);
    expect(sae.config.k).toBe(ref.k);
    expect(sae.config.normalizeActivations).toBe(ref.normalize_activations);
    expect(sae.config.applyBDecToInput).toBe(ref.apply_b_dec_to_input);
    expect(sae.config.hookName).toBe(ref.hook_name);
    expect([sae.dIn, sae.dSae]).toEqual([ref.d_in, ref.d_sae]);
  });

  it('stores the tensors in the dtypes the reference chose', () => {
    const file = path.join(FIXTURES, name, 'sae_weights.safetensors');
    const st = SafetensorsFile.parse(new Uint8Array(readFileSync(file)), file);
    for (const [tensor, dtype] of Object.entries(ref.dtypes)) {
      expect(st.info(tensor)?.dtype, tensor).toBe(dtype);
    }
  });

  it('encodes like torch', () => {
    expectClose(sae.encode(x, ref.n), ref.features.flat(), 1e-5, 'features');
  });

  it('decodes like torch (back on the input scale)', () => {
    const { features, norm } = sae.encodeWithNorm(x, ref.n);
    expectClose(sae.decode(features, ref.n, norm), ref.reconstruction.flat(), 1e-5, 'x_hat');
  });

  it('encodes a subset of features exactly as the full encode does', () => {
    const pick = [0, 5, 17, 31, 5];
    const { values } = sae.encodeFeatures(x, ref.n, pick);
    const want = ref.features.flatMap((row) => pick.map((j) => row[j] ?? NaN));
    expectClose(values, want, 1e-5, 'subset');
    const full = sae.encode(x, ref.n);
    const same = Array.from({ length: ref.n }, (_, r) => pick.map((j) => full[r * ref.d_sae + j]));
    expect(Array.from(values)).toEqual(same.flat());
  });

  it('gives a row the same code bits whatever batch it is encoded in', () => {
    const full = sae.encode(x, ref.n);
    for (let r = 0; r < ref.n; r++) {
      const one = sae.encode(x.subarray(r * ref.d_in, (r + 1) * ref.d_in), 1);
      expect(Array.from(one)).toEqual(
        Array.from(full.subarray(r * ref.d_sae, (r + 1) * ref.d_sae)),
      );
    }
    const tail = sae.encodeFeatures(x.subarray(ref.d_in), ref.n - 1, [3, 7]).values;
    const head = sae.encodeFeatures(x, ref.n, [3, 7]).values;
    expect(Array.from(tail)).toEqual(Array.from(head.subarray(2)));
  });

  it("activates an x' W_enc computed elsewhere exactly as encode does", () => {
    const { xp } = sae.prepareInput(x, ref.n);
    const wt = sae.encoderTransposed;
    const pre = new Float32Array(ref.n * ref.d_sae);
    for (let r = 0; r < ref.n; r++) {
      for (let j = 0; j < ref.d_sae; j++) {
        let s = 0;
        for (let c = 0; c < ref.d_in; c++)
          s += (xp[r * ref.d_in + c] ?? 0) * (wt[j * ref.d_in + c] ?? 0);
        pre[r * ref.d_sae + j] = s;
      }
    }
    const f = sae.activatePre(pre, ref.n);
    expect(f).toBe(pre);
    expectClose(f, ref.features.flat(), 1e-5, 'activatePre');
  });

  it('lists the top active features per row', () => {
    const codes = sae.encodeSparse(x, ref.n, 3);
    expect(codes.k).toBe(3);
    ref.top3.forEach((row, r) => {
      const count = codes.counts[r] ?? -1;
      expect(count).toBe(row.indices.length);
      expect(Array.from(codes.indices.subarray(r * 3, r * 3 + count))).toEqual(row.indices);
      expectClose(codes.values.subarray(r * 3, r * 3 + count), row.values, 1e-5, `top3 ${r}`);
    });
  });

  it.each(['add', 'add_masked', 'pin', 'pin_idle', 'pin_zero', 'scale', 'scale_negative', 'combo'])(
    'steers like torch: %s',
    (scenario) => {
      const s = ref.steering[scenario];
      expect(s).toBeDefined();
      if (!s) return;
      const dials: Dial[] = s.dials.map((d) => ({
        feature: d.feature,
        method: d.method,
        value: d.value,
        mask: d.mask ?? null,
      }));
      const out = steer(sae, x, ref.n, dials);
      expect(out.changed).toBe(true);
      expectClose(out.steered, s.steered.flat(), 1e-5, 'steered');
      expectClose(out.delta, s.delta.flat(), 1e-5, 'delta');
      // Rows no dial reaches are the input, bit for bit.
      for (let r = 0; r < ref.n; r++) {
        if (dials.every((d) => d.mask && !d.mask[r])) {
          const a = out.steered.subarray(r * ref.d_in, (r + 1) * ref.d_in);
          expect(Array.from(a)).toEqual(Array.from(x.subarray(r * ref.d_in, (r + 1) * ref.d_in)));
        }
      }
    },
  );
});
