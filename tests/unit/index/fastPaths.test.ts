/**
 * The index build's fast paths against the plain definitions: sparse SAE codes from ORT
 * (TopK graph, or product + Sae.activatePre) against Sae.encode, batches by length, the
 * logit lens's partial selection against a full sort, and the packed per-chunk peaks.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lengthBatches } from '../../../main/index/build/activations';
import { Gemm } from '../../../main/index/build/gemm';
import { firstN } from '../../../main/index/build/logitLens';
import { PeakBuffer, readPeaks } from '../../../main/index/build/peaks';
import { createSaeCoder } from '../../../main/index/build/saeCodes';
import { openIndex } from '../../../main/index';
import { loadSae } from '../../../main/sae';
import { CASES, FIXTURES, flat, readReference } from '../sae/helpers';
import { tempDir } from './helpers';

describe.each(CASES)('sparse SAE codes, case %s', (name) => {
  it('equal Sae.encode (same features, values within float rounding)', async () => {
    const ref = readReference(name);
    const sae = await loadSae(path.join(FIXTURES, name), { dIn: ref.d_in });
    const x = flat(ref.x);
    const n = ref.n;
    const dense = sae.encode(x, n);
    const gemm = await Gemm.create(1);
    const coder = await createSaeCoder(sae, gemm, 1);
    try {
      const { xp } = sae.prepareInput(x, n);
      const codes = await coder.codes(xp, n);
      expect(codes.rows).toBe(n);
      for (let r = 0; r < n; r++) {
        const want = new Map<number, number>();
        for (let j = 0; j < sae.dSae; j++) {
          const v = dense[r * sae.dSae + j] ?? 0;
          if (v > 0) want.set(j, v);
        }
        const got = new Map<number, number>();
        for (let e = codes.start[r] ?? 0; e < (codes.start[r + 1] ?? 0); e++) {
          got.set(codes.feature[e] ?? -1, codes.value[e] ?? 0);
        }
        expect([...got.keys()].sort((a, b) => a - b)).toEqual(
          [...want.keys()].sort((a, b) => a - b),
        );
        for (const [j, v] of want) expect(got.get(j)).toBeCloseTo(v, 4);
      }
    } finally {
      await coder.dispose();
      await gemm.dispose();
    }
  });
});

describe('lengthBatches', () => {
  it('covers every example once, at most 16 a batch, padding under a fifth', () => {
    const lengths = [3, 250, 17, 18, 19, 90, 5, 5, 5, 5, 120, 121, 2, 64, 66, 65];
    const ids = [...lengths, ...lengths, ...lengths].map((l) => Array.from({ length: l }));
    const batches = lengthBatches(ids);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(ids.map((_, i) => i));
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(16);
      const lens = b.map((i) => ids[i]?.length ?? 0);
      const padded = Math.max(...lens) * b.length;
      const real = lens.reduce((s, l) => s + l, 0);
      expect(padded).toBeLessThanOrEqual(Math.ceil(1.2 * real));
    }
  });
});

describe('firstN', () => {
  it('gives the first n of a full sort, ties included', () => {
    const v = Array.from({ length: 500 }, (_, i) => Math.round(Math.sin(i * 7.3) * 20));
    const before = (a: number, b: number): boolean =>
      (v[a] ?? 0) > (v[b] ?? 0) || (v[a] === v[b] && a < b);
    const sorted = v.map((_, i) => i).sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    expect(firstN(v.length, 10, before)).toEqual(sorted.slice(0, 10));
    expect(firstN(3, 10, before)).toEqual(sorted.filter((i) => i < 3));
  });
});

describe('packed peaks', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  it('round-trip through build_peaks into per-feature lists in corpus order', () => {
    const db = openIndex(path.join(tmp.dir, 'p.sqlite'));
    const ins = db.prepare(
      'insert into build_peaks(sae_id, chunk, example, feature, activation) values (?, ?, ?, ?, ?)',
    );
    const chunks = [
      [
        [10, 2, 0.5],
        [10, 0, 1.5],
        [11, 2, 2.5],
      ],
      [
        [12, 2, 3.5],
        [99, 1, 9],
      ],
    ];
    chunks.forEach((rows, c) => {
      const b = new PeakBuffer();
      for (const [e, j, v] of rows) b.push(e ?? 0, j ?? 0, v ?? 0);
      const p = b.pack();
      ins.run('s', c, p.example, p.feature, p.activation);
    });
    // example 99 is not in the corpus: ignored
    const peaks = readPeaks(
      db,
      's',
      3,
      new Map([
        [10, 0],
        [11, 1],
        [12, 2],
      ]),
    );
    expect(Array.from(peaks.of(2).slots)).toEqual([0, 1, 2]);
    expect(Array.from(peaks.of(2).acts)).toEqual([0.5, 2.5, 3.5]);
    expect(Array.from(peaks.of(0).slots)).toEqual([0]);
    expect(peaks.of(1).slots.length).toBe(0);
    db.close();
  });
});
