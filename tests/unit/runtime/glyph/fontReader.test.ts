import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { OrreryError } from '../../../../preload/contract';
import { FontFace, roundHalfEven } from '../../../../main/runtime/glyph/fontReader';

const FIXTURE = path.resolve(__dirname, '../../../fixtures/packs/glyphs-tiny');
const DEJAVU = '/usr/share/fonts/truetype/dejavu';
const hasDejaVu = existsSync(path.join(DEJAVU, 'DejaVuSans.ttf'));
const CFF_FONT = '/usr/share/fonts/truetype/karla/Karla-Regular.otf';

function badInput(f: () => unknown, pattern: RegExp): void {
  let err: unknown = null;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(OrreryError);
  expect((err as OrreryError).code).toBe('bad_input');
  expect((err as OrreryError).message).toMatch(pattern);
}

/** Row `face` of the fixture's faces sheet: every charset glyph, ink = 1. */
function sheetRow(face: number): { charset: string; glyphs: Float32Array[] } {
  const manifest = JSON.parse(readFileSync(path.join(FIXTURE, 'manifest.json'), 'utf8')) as {
    model: { charset: string };
  };
  const png = PNG.sync.read(readFileSync(path.join(FIXTURE, 'faces.png')));
  const charset = manifest.model.charset;
  const glyphs = [...charset].map((_, c) => {
    const g = new Float32Array(64 * 64);
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        g[y * 64 + x] = 1 - (png.data[((face * 64 + y) * png.width + c * 64 + x) * 4] ?? 255) / 255;
      }
    }
    return g;
  });
  return { charset, glyphs };
}

function faceIndex(name: string): number {
  const lines = readFileSync(path.join(FIXTURE, 'faces.jsonl'), 'utf8').trim().split('\n');
  return lines.findIndex((l) => (JSON.parse(l) as { name: string }).name === name);
}

const meanAbs = (a: Float32Array, b: Float32Array) =>
  a.reduce((s, v, i) => s + Math.abs(v - (b[i] ?? 0)), 0) / a.length;

describe('FontFace', () => {
  it("rounds halves to even, like Python's round()", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([
      0, 2, 2, 0, -2, 2, 3,
    ]);
  });

  it('names what is wrong with a file that is not a usable font', () => {
    badInput(() => FontFace.parse(new Uint8Array(0)), /empty/);
    badInput(
      () => FontFace.parse(new TextEncoder().encode('hello there, I am text')),
      /not a TrueType/,
    );
    badInput(() => FontFace.parse(new TextEncoder().encode('ttcf0000')), /collection/);
    badInput(() => FontFace.parse(new TextEncoder().encode('wOF2xxxx')), /WOFF2/);
    // a TrueType header with nothing behind it
    badInput(
      () => FontFace.parse(new Uint8Array([0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 1, 2])),
      /cannot be read as a font|no usable glyphs/,
    );
  });

  it.skipIf(!hasDejaVu)('draws glyphs as the recipe drew its training data', () => {
    const { charset, glyphs } = sheetRow(faceIndex('DejaVu Sans'));
    const bold = sheetRow(faceIndex('DejaVu Sans Bold')).glyphs;
    const face = FontFace.parse(new Uint8Array(readFileSync(path.join(DEJAVU, 'DejaVuSans.ttf'))));
    expect(face.name).toBe('DejaVu Sans');
    let own = 0;
    let cross = 0;
    [...charset].forEach((ch, c) => {
      const g = face.render(ch);
      const d = meanAbs(g, glyphs[c] ?? new Float32Array(0));
      // FreeType hinting (PIL) against unhinted outlines: small differences on edges only
      expect(d).toBeLessThan(0.03);
      own += d;
      cross += meanAbs(g, bold[c] ?? new Float32Array(0));
    });
    own /= charset.length;
    cross /= charset.length;
    expect(own).toBeLessThan(0.012);
    expect(own).toBeLessThan(cross / 3);
  });

  it.skipIf(!hasDejaVu)('puts the baseline on row 47 and centres the ink', () => {
    const face = FontFace.parse(new Uint8Array(readFileSync(path.join(DEJAVU, 'DejaVuSans.ttf'))));
    const h = face.render('H');
    const rows = [...Array(64).keys()].filter((y) =>
      h.slice(y * 64, y * 64 + 64).some((v) => v > 0.5),
    );
    expect(Math.max(...rows)).toBe(46); // the last inked row sits on the baseline
    const cols = [...Array(64).keys()].filter((x) => rows.some((y) => (h[y * 64 + x] ?? 0) > 0));
    const mid = ((cols[0] ?? 0) + (cols[cols.length - 1] ?? 0) + 1) / 2;
    expect(Math.abs(mid - 32)).toBeLessThanOrEqual(0.5);
    badInput(() => face.render('\u4e00'), /no glyph for "\u4e00"/);
    badInput(() => face.renderAll('Hx\u4e00'), /lacks "\u4e00"/);
  });

  it.skipIf(!existsSync(CFF_FONT))('reads CFF (OpenType .otf) outlines', () => {
    const face = FontFace.parse(new Uint8Array(readFileSync(CFF_FONT)));
    const all = face.renderAll('HOQagnorsx');
    expect(all.length).toBe(10 * 64 * 64);
    for (let k = 0; k < 10; k++) {
      const ink = all.subarray(k * 4096, (k + 1) * 4096).reduce((s, v) => s + v, 0);
      expect(ink).toBeGreaterThan(50);
    }
  });
});
