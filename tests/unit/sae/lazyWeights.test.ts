/**
 * loadSae above its read-at-once size opens the weights by their header and reads them on
 * first use (Sae.load), part by part: what it computes is the same bits as an SAE read at
 * once, shape problems are still found at open, and a bad value or a file replaced since the
 * open is reported when the weights are read. Real safetensors files on disk.
 */
import { utimesSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSae, writeSafetensors, type TensorToWrite } from '../../../main/sae';
import { tempDir } from './helpers';
import { seeded } from '../../support/seeded';

// Wide enough that W_enc's rows (d_sae values) and W_dec's rows are each read in several parts.
const D_IN = 64;
const D_SAE = 40_000;

function tensors(seed: number): Record<string, TensorToWrite> {
  const rand = seeded(seed);
  const t = (shape: number[]): TensorToWrite => ({
    dtype: 'F16',
    shape,
    data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rand),
  });
  return {
    W_enc: t([D_IN, D_SAE]),
    W_dec: t([D_SAE, D_IN]),
    b_dec: t([D_IN]),
    b_enc: t([D_SAE]),
  };
}

/** Bit-for-bit equal (vitest's toEqual walks millions of values slowly). */
function same(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

describe('SAE weights read on first use', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  const write = async (t: Record<string, TensorToWrite>, arch = 'topk'): Promise<void> => {
    const cfg = { architecture: arch, d_in: D_IN, d_sae: D_SAE, k: 16, hook_name: 'h' };
    await writeFile(path.join(dir, 'cfg.json'), JSON.stringify(cfg));
    await writeFile(path.join(dir, 'sae_weights.safetensors'), writeSafetensors(t));
  };

  it('computes the same bits as an SAE read at once', async () => {
    await write(tensors(5));
    const now = await loadSae(dir);
    expect(now.loaded).toBe(true);
    const later = await loadSae(dir, { readAtOnceBytes: 0 });
    expect(later.loaded).toBe(false);
    expect(later.dSae).toBe(D_SAE);
    const x = Float32Array.from({ length: 3 * D_IN }, (_, i) => Math.sin(i * 0.7));
    const f = later.encode(x, 3);
    expect(later.loaded).toBe(true);
    expect(f.some((v) => v > 0)).toBe(true);
    expect(same(f, now.encode(x, 3))).toBe(true);
    expect(same(later.decode(f, 3), now.decode(f, 3))).toBe(true);
    expect(same(later.decoderNorms(), now.decoderNorms())).toBe(true);
    expect(same(later.encoderTransposed, now.encoderTransposed)).toBe(true);
    expect(same(later.encoderTransposed, now.decoderNorms())).toBe(false);
  });

  it('finds shape problems at open, bad values when the weights are read', async () => {
    const missing = tensors(1);
    delete missing.b_enc;
    await write(missing);
    await expect(loadSae(dir, { readAtOnceBytes: 0 })).rejects.toThrow(
      /missing tensor "b_enc" \(a topk SAE\)/,
    );

    const t = tensors(2);
    const at = (D_SAE - 3) * D_IN + 5; // in W_dec's last part
    t.W_dec?.data.fill(NaN, at, at + 1);
    await write(t);
    const sae = await loadSae(dir, { readAtOnceBytes: 0 });
    expect(() => sae.load()).toThrow(
      new RegExp(`tensor "W_dec" holds a non-finite value at ${at}`),
    );
  });

  it('refuses to read weights replaced since the SAE was opened', async () => {
    await write(tensors(3));
    const sae = await loadSae(dir, { readAtOnceBytes: 0 });
    await write(tensors(4));
    const file = path.join(dir, 'sae_weights.safetensors');
    utimesSync(file, new Date(), new Date(Date.now() + 5000)); // same size: a new mtime
    expect(() => sae.load()).toThrow(/changed since it was opened/);
  });
});
