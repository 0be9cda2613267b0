/**
 * A user's font file (TrueType or CFF OpenType, also WOFF; parsed by opentype.js) → glyph
 * bitmaps drawn the way the typeface recipe draws its training data
 * (models/recipes/glyphs/fontdata.py, render_face): 46 pixels per em in a 64 px cell, the
 * baseline on row 47, the glyph centred horizontally on its ink columns
 * (x0 = round(cx − 32) with Python's round-half-to-even), ink = 1, coverage quantised to
 * 8 bits as PIL's does. PIL hints with FreeType; this reader does not, so stems can be
 * a little softer than the training glyphs (the recipe's style encoder sees both as the same
 * face; the test measures the difference on a real font).
 */
import type { Font } from 'opentype.js';
import { OrreryError } from '../../../preload/contract';
import { opentypeParse } from '../../packages';
import { flatten, rasterize } from './rasterize';

/** The recipe's geometry for a 64 px cell; other cell sizes scale it. */
export const RECIPE_CELL = 64;
export const RECIPE_EM_PX = 46;
export const RECIPE_BASELINE_Y = 47;

/** Font files above this many bytes are refused (the largest CJK fonts are ~20 MB). */
export const MAX_FONT_BYTES = 32 * 1024 * 1024;

export class FontFace {
  private constructor(
    private readonly font: Font,
    readonly name: string,
  ) {}

  /** Parses font bytes; a file that is not a font is a bad_input naming `what`. */
  static parse(bytes: Uint8Array, what = 'the font'): FontFace {
    if (bytes.length === 0) throw bad(what, 'is empty');
    if (bytes.length > MAX_FONT_BYTES) {
      throw bad(what, `is ${bytes.length} bytes; the limit is ${MAX_FONT_BYTES}`);
    }
    const tag = String.fromCharCode(...bytes.subarray(0, 4));
    if (tag === 'ttcf') {
      throw bad(what, 'is a font collection (.ttc); choose a single .ttf or .otf face');
    }
    if (tag === 'wOF2') throw bad(what, 'is WOFF2, which is not supported; use TTF, OTF or WOFF');
    const known = tag === 'OTTO' || tag === 'true' || tag === 'wOFF' || tag === '\0\x01\0\0';
    if (!known) throw bad(what, 'is not a TrueType or OpenType font');
    let font: Font;
    try {
      const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      font = opentypeParse()(ab as ArrayBuffer, { lowMemory: true });
    } catch (e) {
      throw bad(what, `cannot be read as a font (${(e as Error).message})`);
    }
    if (!(font.unitsPerEm > 0) || font.numGlyphs < 2) {
      throw bad(what, 'has no usable glyphs');
    }
    const name = fullName(font) ?? what;
    return new FontFace(font, name);
  }

  /** What the font says of itself, named as the typeface pack's metadata names it. */
  facts(): FontFacts {
    const os2 = this.font.tables.os2;
    const post = this.font.tables.post;
    const raw = os2?.usWeightClass ?? 400;
    const weight = Math.min(900, Math.max(100, Math.round(raw / 100) * 100));
    const italic = Boolean((os2?.fsSelection ?? 0) & 1) || (post?.italicAngle ?? 0) !== 0;
    return {
      family: nameRecord(this.font, 'fontFamily') ?? this.name,
      weight,
      weightClass: WEIGHT_NAMES[weight] ?? 'regular',
      italic,
      width: os2?.usWidthClass ?? 5,
      monospace: Boolean(post?.isFixedPitch),
    };
  }

  has(ch: string): boolean {
    return this.font.charToGlyph(ch).index !== 0;
  }

  /**
   * One character → [size, size] ink coverage in 0…1 (8-bit steps). Throws bad_input when
   * the font lacks it or its glyph is blank.
   */
  render(ch: string, size = RECIPE_CELL, what = 'the font'): Float32Array {
    const glyph = this.font.charToGlyph(ch);
    if (glyph.index === 0) throw bad(what, `has no glyph for "${ch}"`);
    const scale = size / RECIPE_CELL;
    const path = glyph.getPath(0, 0, RECIPE_EM_PX * scale); // origin on the baseline, y down
    const lines = flatten(path.commands);
    if (lines.length === 0) throw bad(what, `draws "${ch}" as a blank glyph`);
    let minX = Infinity;
    let maxX = -Infinity;
    for (const [x0, , x1] of lines) {
      minX = Math.min(minX, x0, x1);
      maxX = Math.max(maxX, x0, x1);
    }
    // The recipe's canvas: the cell's rows and one cell above them; the pen on a whole pixel.
    const baseline = RECIPE_BASELINE_Y * scale;
    const ox = Math.max(0, Math.ceil(-minX)) + 2;
    const width = Math.ceil(maxX) + ox + 2;
    const shifted = lines.map(
      ([x0, y0, x1, y1]) =>
        [x0 + ox, y0 + baseline + size, x1 + ox, y1 + baseline + size] as [
          number,
          number,
          number,
          number,
        ],
    );
    const r = rasterize(shifted, width, 2 * size);
    const q = new Uint8Array(r.data.length);
    for (let i = 0; i < q.length; i++) q[i] = Math.round((r.data[i] ?? 0) * 255);
    let c0 = -1;
    let c1 = -1;
    for (let x = 0; x < width; x++) {
      let any = false;
      for (let y = 0; y < 2 * size && !any; y++) any = (q[y * width + x] ?? 0) > 0;
      if (any) {
        if (c0 < 0) c0 = x;
        c1 = x;
      }
    }
    if (c0 < 0) throw bad(what, `draws "${ch}" as a blank glyph`);
    const x0 = roundHalfEven((c0 + c1 + 1) / 2 - size / 2);
    const out = new Float32Array(size * size);
    let ink = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const sx = x0 + x;
        if (sx < 0 || sx >= width) continue;
        const v = q[(y + size) * width + sx] ?? 0;
        out[y * size + x] = v / 255;
        ink += v;
      }
    }
    if (ink === 0) throw bad(what, `draws "${ch}" outside the glyph cell`);
    return out;
  }

  /** Several characters → [chars.length, size, size]. */
  renderAll(chars: string, size = RECIPE_CELL, what = 'the font'): Float32Array {
    const list = [...chars];
    const missing = list.filter((c) => !this.has(c));
    if (missing.length) {
      throw bad(
        what,
        `lacks ${missing.map((c) => `"${c}"`).join(', ')}, which the style encoder reads`,
      );
    }
    const out = new Float32Array(list.length * size * size);
    list.forEach((c, i) => out.set(this.render(c, size, what), i * size * size));
    return out;
  }
}

export interface FontFacts {
  family: string;
  /** usWeightClass rounded to a hundred, 100…900 */
  weight: number;
  weightClass: string;
  italic: boolean;
  /** usWidthClass, 1 (ultra-condensed) … 9 (ultra-expanded); 5 is normal */
  width: number;
  monospace: boolean;
}

/** The recipe's names of the weight classes (models/recipes/glyphs/fontdata.py). */
const WEIGHT_NAMES: Record<number, string> = {
  100: 'thin',
  200: 'extralight',
  300: 'light',
  400: 'regular',
  500: 'medium',
  600: 'semibold',
  700: 'bold',
  800: 'extrabold',
  900: 'black',
};

/** A name record (fullName, fontFamily …), English first; opentype.js files it by platform. */
function nameRecord(font: Font, id: string): string | null {
  const n = font.names as Record<string, unknown>;
  for (const table of [n, n.windows, n.macintosh, n.unicode]) {
    const rec = (table as Record<string, Record<string, string> | undefined> | undefined)?.[id];
    const v = rec && (rec.en ?? Object.values(rec)[0]);
    if (v) return v;
  }
  return null;
}

/** The face's full name (name id 4). */
function fullName(font: Font): string | null {
  return nameRecord(font, 'fullName');
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

function bad(what: string, detail: string): OrreryError {
  return new OrreryError('bad_input', `${what}: ${detail}`);
}
