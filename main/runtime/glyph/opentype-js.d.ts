/** The part of opentype.js (1.3, no bundled types) that the font reader uses. */
declare module 'opentype.js' {
  export type PathCommand =
    | { type: 'M' | 'L'; x: number; y: number }
    | { type: 'Q'; x1: number; y1: number; x: number; y: number }
    | { type: 'C'; x1: number; y1: number; x2: number; y2: number; x: number; y: number }
    | { type: 'Z' };

  export interface Path {
    commands: PathCommand[];
  }

  export interface Glyph {
    index: number;
    name: string | null;
    getPath(x: number, y: number, fontSize: number): Path;
  }

  export interface Font {
    unitsPerEm: number;
    outlinesFormat: string;
    numGlyphs: number;
    names: Record<string, Record<string, string> | undefined>;
    tables: {
      os2?: { usWeightClass?: number; fsSelection?: number; usWidthClass?: number };
      post?: { italicAngle?: number; isFixedPitch?: number };
    };
    charToGlyph(ch: string): Glyph;
    hasChar(ch: string): boolean;
  }

  export function parse(buffer: ArrayBuffer, options?: Record<string, unknown>): Font;
  const opentype: { parse: typeof parse };
  export default opentype;
}
