/**
 * The image metrics the inference worker computes equal what the page computed before with
 * the reference packages (pixelmatch at threshold 0.05, ssim.js with its defaults), on the
 * same images: synthetic ones of awkward sizes, and real engine outputs read back from the
 * PNGs a session keeps.
 */
import path from 'node:path';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import { ssim } from 'ssim.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeInputs } from '../../../../preload/contract';
import { readPack } from '../../../../main/packs/packReader';
import type { EngineContext } from '../../../../main/runtime/engine';
import { GlyphEngine } from '../../../../main/runtime/glyph/glyphEngine';
import { ImageEngine } from '../../../../main/runtime/image/imageEngine';
import {
  chwToRgba,
  Reference,
  type ImageMetrics,
} from '../../../../main/runtime/image/imageMetrics';

const ctx: EngineContext = { signal: new AbortController().signal };

/** What the page computed from two decoded images (renderer/src/compare/pixels.ts before). */
function byPackages(a: Uint8Array, b: Uint8Array, width: number, height: number): ImageMetrics {
  let sum = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (let c = 0; c < 3; c++) sum += Math.abs((a[i + c] ?? 0) - (b[i + c] ?? 0));
  }
  const ca = new Uint8ClampedArray(a);
  const cb = new Uint8ClampedArray(b);
  const changed = pixelmatch(ca, cb, undefined, width, height, { threshold: 0.05 });
  return {
    meanAbs: sum / ((a.length / 4) * 3),
    changedShare: changed / (width * height),
    ssim: ssim({ data: ca, width, height }, { data: cb, width, height }).mssim,
    ssimOver: 'image',
  };
}

/** The ink SSIM by the package and a plain loop: ssim.js's per-window map, averaged over the
 * 11 × 11 windows where either image has a pixel whose grey (ssim.js's integer grey) differs
 * from the before-image's commonest grey by more than 64. */
function inkByPackages(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  const map = ssim(
    { data: new Uint8ClampedArray(a), width, height },
    { data: new Uint8ClampedArray(b), width, height },
  ).ssim_map;
  const grey = (x: Uint8Array, p: number) =>
    (77 * (x[p * 4] ?? 0) + 150 * (x[p * 4 + 1] ?? 0) + 29 * (x[p * 4 + 2] ?? 0) + 128) >> 8;
  const counts = new Map<number, number>();
  for (let p = 0; p < width * height; p++)
    counts.set(grey(a, p), (counts.get(grey(a, p)) ?? 0) + 1);
  const paper = [...counts].sort((u, v) => v[1] - u[1] || u[0] - v[0])[0]?.[0] ?? 255;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < map.height; y++) {
    for (let x = 0; x < map.width; x++) {
      let ink = false;
      for (let dy = 0; dy < 11 && !ink; dy++) {
        for (let dx = 0; dx < 11 && !ink; dx++) {
          const p = (y + dy) * width + x + dx;
          ink = Math.abs(grey(a, p) - paper) > 64 || Math.abs(grey(b, p) - paper) > 64;
        }
      }
      if (ink) {
        sum += map.data[y * map.width + x] ?? 0;
        n++;
      }
    }
  }
  return n > 0 ? sum / n : 1;
}

/** A line of dark letter-like strokes on white paper: `cells` cells of S px, two bars each,
 * shifted `shift` px (a ruined line moves its strokes off where they were). */
function letters(cells: number, S: number, shift: number, thick: number): Uint8Array {
  const W = cells * S;
  const out = new Uint8Array(W * S * 4).fill(255);
  for (let c = 0; c < cells; c++) {
    for (let y = 12; y < S - 12; y++) {
      for (const centre of [S * 0.3, S * 0.7]) {
        for (let x = 0; x < thick; x++) {
          const px = Math.round(c * S + centre + shift + x);
          if (px >= 0 && px < W) out.fill(0, (y * W + px) * 4, (y * W + px) * 4 + 3);
        }
      }
    }
  }
  return out;
}

/** A deterministic image: smooth gradients, a disc with soft edges, and some noise. */
function picture(width: number, height: number, seed: number): Uint8Array {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const out = new Uint8Array(width * height * 4);
  const cx = width * (0.3 + 0.4 * rand());
  const cy = height * (0.3 + 0.4 * rand());
  const r = Math.min(width, height) * (0.2 + 0.2 * rand());
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const d = Math.hypot(x - cx, y - cy);
      const inside = Math.max(0, Math.min(1, r - d + 0.5));
      const noise = (rand() - 0.5) * 24;
      out[o] = Math.max(0, Math.min(255, (x / width) * 200 + inside * 50 + noise));
      out[o + 1] = Math.max(0, Math.min(255, (y / height) * 180 + inside * 70 + noise));
      out[o + 2] = Math.max(0, Math.min(255, 120 - inside * 100 + noise));
      out[o + 3] = 255;
    }
  }
  return out;
}

function decodePng(bytes: Uint8Array): { data: Uint8Array; width: number; height: number } {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { data: new Uint8Array(png.data), width: png.width, height: png.height };
}

describe('image metrics computed where the pixels are', () => {
  it.each([
    [64, 64],
    [448, 64],
    [8, 8],
    [11, 30],
    [40, 256],
    [400, 384],
  ])('equal pixelmatch and ssim.js on %i × %i images', (width, height) => {
    for (const seed of [1, 7]) {
      const a = picture(width, height, seed);
      const b = picture(width, height, seed + 100);
      const ref = new Reference(a, width, height);
      const got = ref.compare(b);
      const want = byPackages(a, b, width, height);
      expect(got.metrics.changedShare).toBe(want.changedShare);
      expect(got.metrics.ssim).toBe(want.ssim);
      expect(got.metrics.meanAbs).toBeCloseTo(want.meanAbs, 12);
      expect(got.heatmap.length).toBe(width * height * 4);
      // the same Reference compares a second image without recomputing its own half
      const c = picture(width, height, seed + 200);
      expect(ref.compare(c).metrics).toEqual(
        expect.objectContaining({ ssim: byPackages(a, c, width, height).ssim }),
      );
    }
  });

  it('answers for an image narrower than the SSIM window in one direction (ssim.js throws)', () => {
    const ref = new Reference(picture(17, 9, 1), 17, 9);
    const m = ref.compare(picture(17, 9, 2)).metrics;
    expect(m.ssim).toBe(0);
    expect(m.meanAbs).toBeGreaterThan(0);
  });

  it('gives no difference for the before-image itself', () => {
    const a = picture(64, 64, 3);
    const ref = new Reference(a, 64, 64);
    const self = ref.compare(a);
    expect(self.metrics).toEqual(byPackages(a, a, 64, 64));
    expect(self.metrics.meanAbs).toBe(0);
    expect(self.metrics.changedShare).toBe(0);
    expect(ref.compare(a)).toBe(self); // kept
  });

  it('ink SSIM: the mean over windows holding ink, which whole-image SSIM hides on a specimen', () => {
    const S = 64;
    const before = letters(6, S, 0, 4);
    const ruined = letters(6, S, 7, 9); // strokes moved and fattened: the letters are gone
    const ink = new Reference(before, 6 * S, S, true, 'ink');
    const whole = new Reference(before, 6 * S, S, true);
    const m = ink.compare(ruined).metrics;
    expect(m.ssimOver).toBe('ink');
    expect(m.ssim).toBeCloseTo(inkByPackages(before, ruined, 6 * S, S), 10);
    // most of a specimen is paper: whole-image SSIM stays high while the ink SSIM falls
    expect(whole.compare(ruined).metrics.ssim).toBeGreaterThan(m.ssim + 0.2);
    expect(ink.compare(before).metrics.ssim).toBe(1);
    // a blank line compares as equal (no window holds ink)
    const blank = new Uint8Array(6 * S * S * 4).fill(255);
    expect(new Reference(blank, 6 * S, S, true, 'ink').compare(blank).metrics.ssim).toBe(1);
  });

  it('turns a planar tensor into RGBA as the PNG writer quantizes it', () => {
    const chw = new Float32Array([0, 0.5, 1, 2, -1, 0.25]); // [3, 1, 2], range 0…1
    expect([...chwToRgba(chw, 3, 1, 2)]).toEqual([0, 255, 0, 255, 128, 255, 64, 255]);
    const grey = new Float32Array([-1, 1]); // range −1…1
    expect([...chwToRgba(grey, 1, 1, 2, [-1, 1])]).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
  });
});

describe('engines answer raw pixels with the metrics', () => {
  let image: ImageEngine;
  let glyph: GlyphEngine;
  beforeAll(async () => {
    const load = async (name: string) => {
      const r = await readPack(path.resolve(__dirname, '../../../fixtures/packs', name));
      if (!r.ok) throw new Error(`${r.problem.file}: ${r.problem.message}`);
      return r.pack;
    };
    image = await ImageEngine.load(await load('emoji-tiny'));
    glyph = await GlyphEngine.load(await load('glyphs-tiny'));
  });
  afterAll(async () => {
    await image.dispose();
    await glyph.dispose();
  });

  it('image: metrics equal the packages on the images read back from the saved PNGs', async () => {
    const input = (value: number, sessionId?: string) =>
      runtimeInputs.imageSteer.parse({
        packId: 'p',
        source: { example: 2 },
        dials: [{ saeId: 'latent-32', feature: 1, method: 'add', value }],
        sessionId,
      });
    const a = await image.steer(input(3, 'ses-1'), ctx);
    expect(a.png).not.toBeNull();
    const before = decodePng(a.png?.before ?? new Uint8Array());
    const after = decodePng(a.png?.after ?? new Uint8Array());
    expect(before.data).toEqual(a.before);
    expect(after.data).toEqual(a.after);
    expect(a.changed).toBe(true);
    const want = byPackages(before.data, after.data, a.width, a.height);
    expect(a.metrics.changedShare).toBe(want.changedShare);
    expect(a.metrics.ssim).toBe(want.ssim);
    expect(a.metrics.meanAbs).toBeCloseTo(want.meanAbs, 12);
    expect(a.metrics.meanAbs).toBeGreaterThan(0);
    // the next tick of a drag: "before" is the same kept pixels, not recomputed; no PNGs
    // are written for a run that is not saved
    const b = await image.steer(input(5), ctx);
    expect(b.before).toBe(a.before);
    expect(b.png).toBeNull();
    const wantB = byPackages(b.before, b.after, b.width, b.height);
    expect(b.metrics.ssim).toBe(wantB.ssim);
    expect(b.metrics.changedShare).toBe(wantB.changedShare);
  });

  it('specimen: grey strips, metrics equal the packages (SSIM over the ink)', async () => {
    const sae = glyph.saes[0];
    if (!sae) throw new Error('no SAE');
    const out = await glyph.specimen(
      runtimeInputs.glyphSpecimen.parse({
        packId: 'p',
        source: { example: 1 },
        text: 'Ab c',
        dials: [{ saeId: sae.id, feature: 3, method: 'add', value: 40 }],
        sessionId: 'ses-1',
      }),
      ctx,
    );
    expect([out.width, out.height]).toEqual([4 * glyph.size, glyph.size]);
    const png = PNG.sync.read(Buffer.from(out.png?.after ?? new Uint8Array()));
    expect(png.data.length).toBe(out.after.length);
    expect(new Uint8Array(png.data)).toEqual(out.after);
    const want = byPackages(out.before, out.after, out.width, out.height);
    expect(out.metrics.ssimOver).toBe('ink');
    expect(out.metrics.ssim).toBeCloseTo(
      inkByPackages(out.before, out.after, out.width, out.height),
      10,
    );
    expect(out.metrics.changedShare).toBe(want.changedShare);
    expect(out.metrics.meanAbs).toBeCloseTo(want.meanAbs, 12);
  });
});
