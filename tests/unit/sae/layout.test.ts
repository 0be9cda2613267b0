import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSae, maskFromPaint, nchwToRows, rowsToNchw, steer } from '../../../main/sae';

describe('spatial layout', () => {
  it('turns NCHW into one row per position and back', () => {
    const [b, c, h, w] = [2, 3, 2, 2];
    const data = Float32Array.from({ length: b * c * h * w }, (_, i) => i);
    const rows = nchwToRows(data, b, c, h, w);
    // batch 1, position (y 1, x 0) = row 4 + 2 = 6; channel k sits at 12 + k·4 + 2.
    expect(Array.from(rows.subarray(6 * c, 7 * c))).toEqual([14, 18, 22]);
    expect(Array.from(rowsToNchw(rows, b, c, h, w))).toEqual(Array.from(data));
    expect(() => nchwToRows(data, b, c, h, 3)).toThrow(/expected \[2, 3, 2, 3\] = 36/);
  });

  it('reduces a painting to a per-position mask, repeated per batch item', () => {
    const paint = new Float32Array(8 * 8);
    for (let y = 0; y < 4; y++) for (let x = 4; x < 8; x++) paint[y * 8 + x] = 1; // top right
    paint[7 * 8 + 0] = 1; // one stray pixel bottom left: 1/16 of its cell
    const mask = maskFromPaint(paint, 8, 8, 2, 2, 2);
    expect(Array.from(mask)).toEqual([0, 1, 0, 0, 0, 1, 0, 0]);
    expect(Array.from(maskFromPaint(paint, 8, 8, 2, 2, 1, 0.05))).toEqual([0, 1, 1, 0]);
    expect(() => maskFromPaint(paint, 4, 4, 2, 2)).toThrow(/paint has 64 values/);
    expect(() => maskFromPaint(paint, 8, 8, 16, 16)).toThrow(/cannot reduce/);
  });
});

describe('painting a feature onto a region of a spatial map', () => {
  it('changes the painted positions only (emoji fixture, decoder.hook_spatial)', async () => {
    const dir = path.resolve(__dirname, '../../fixtures/packs/emoji-tiny/sae/decoder.hook_spatial');
    const sae = await loadSae(dir, { dIn: 8 });
    const [b, c, h, w] = [1, 8, 8, 8];
    let seed = 5;
    const map = Float32Array.from({ length: b * c * h * w }, () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32 - 0.5;
    });
    const paint = new Float32Array(64 * 64);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) paint[y * 64 + x] = 1; // top-left quarter
    const mask = maskFromPaint(paint, 64, 64, h, w, b);
    const rows = nchwToRows(map, b, c, h, w);
    const out = steer(sae, rows, b * h * w, [{ feature: 3, method: 'add', value: 2, mask }]);
    const steered = rowsToNchw(out.steered, b, c, h, w);
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = (ch * h + y) * w + x;
          const want =
            y < 4 && x < 4 ? Math.fround((map[i] ?? 0) + 2 * (sae.decoderRow(3)[ch] ?? 0)) : map[i];
          expect(steered[i]).toBeCloseTo(want ?? NaN, 6);
          if (!(y < 4 && x < 4)) expect(steered[i]).toBe(map[i]);
        }
      }
    }
  });
});
