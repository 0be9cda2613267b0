/**
 * The corpus an index is built over: the pack's own examples (PACK_FORMAT.md "examples"),
 * read once into memory (text, names, metadata) with the sprite sheet decoded to pixels.
 * Metadata values become strings, so "weight=700" and "italic=true" are values like any other.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PNG } from 'pngjs';
import { packFile } from '../packs/packPaths';
import type { LoadedPack } from '../packs/packReader';
import {
  decodeSheet,
  imageSize,
  SHEET_MAX_PIXELS,
  sniffFormat,
  type Rgba,
} from '../runtime/image/imageIo';
import { pngjs } from '../packages';

export type MetaValue = string;

export interface CorpusExample {
  /** Line number in the pack's examples file (0-based): the example's id in the index. */
  id: number;
  /** A short name for a person: the emoji or face name, or the text's first words. */
  name: string;
  /** Text examples only. */
  body: string | null;
  meta: Record<string, MetaValue>;
  split: string | null;
}

export interface Sheet {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel, row-major. */
  rgba: Uint8Array;
  tile: number;
}

export interface Corpus {
  kind: LoadedPack['manifest']['kind'];
  examples: CorpusExample[];
  sheet: Sheet | null;
  /** Which split was used: 'val' (held out) or 'all'. */
  split: 'val' | 'all';
  /** Metadata keys labels may name; null: every key (see metaIndex). */
  labelKeys: string[] | null;
  /** Files of a person's folder that could not be used, with why ("file: reason"). */
  skipped?: string[];
}

export type SplitChoice = 'val' | 'all' | 'auto';

/** 'auto' uses the held-out split when it has at least this many examples, else all. */
export const AUTO_VAL_MIN = 256;
const MAX_EXAMPLES_FILE = 512 * 1024 * 1024;

export class CorpusError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'CorpusError';
  }
}

function metaToStrings(raw: unknown): Record<string, MetaValue> {
  const out: Record<string, MetaValue> = {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return out;
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      out[k] = String(v);
    }
  }
  return out;
}

async function readJsonl(file: string): Promise<Record<string, unknown>[]> {
  const st = await fs.stat(file).catch(() => null);
  if (!st?.isFile()) throw new CorpusError(file, 'missing');
  if (st.size > MAX_EXAMPLES_FILE) throw new CorpusError(file, `is ${st.size} bytes; too large`);
  const text = await fs.readFile(file, 'utf8');
  const rows: Record<string, unknown>[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const v = JSON.parse(line) as unknown;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      rows.push(v as Record<string, unknown>);
    } catch (e) {
      throw new CorpusError(file, `line ${i + 1} is not a JSON object (${(e as Error).message})`);
    }
  });
  return rows;
}

export async function readSheet(file: string, tile: number): Promise<Sheet> {
  let img: Rgba;
  const bytes = await fs.readFile(file);
  // A pack's sheet may be large, but not unbounded: the cap is read from its header first.
  const declared = imageSize(bytes);
  if (declared && declared.width * declared.height > SHEET_MAX_PIXELS)
    throw new CorpusError(
      file,
      `is ${declared.width} × ${declared.height} pixels; a pack's sheet may have at most ${SHEET_MAX_PIXELS / 1e6} megapixels`,
    );
  if (sniffFormat(bytes) !== 'png')
    throw new CorpusError(file, 'is not a readable PNG (its first bytes are not a PNG signature)');
  try {
    img = await decodeSheet(bytes, path.basename(file));
  } catch (e) {
    throw new CorpusError(file, `is not a readable PNG (${(e as Error).message})`);
  }
  if (img.width < tile || img.height < tile) {
    throw new CorpusError(file, `is ${img.width}×${img.height}, smaller than one ${tile}px tile`);
  }
  return { width: img.width, height: img.height, rgba: img.data, tile };
}

function textName(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 60 ? `${flat.slice(0, 57)}…` : flat;
}

/** Reads the pack's examples. Throws CorpusError naming the file on a bad one. */
export async function loadPackCorpus(
  pack: LoadedPack,
  split: SplitChoice = 'auto',
): Promise<Corpus> {
  const m = pack.manifest;
  if (!m.examples) throw new CorpusError(path.join(pack.dir, 'manifest.json'), 'names no examples');
  const metaFile = m.kind === 'text-lm' ? m.examples.texts : m.examples.meta;
  const rows = await readJsonl(packFile(pack.dir, metaFile));
  const all: CorpusExample[] = rows.map((r, id) => {
    const body = m.kind === 'text-lm' ? (typeof r.text === 'string' ? r.text : '') : null;
    const name =
      typeof r.name === 'string' ? r.name : body !== null ? textName(body) : `example ${id}`;
    return {
      id,
      name,
      body,
      meta: metaToStrings(r.meta),
      split: typeof r.split === 'string' ? r.split : null,
    };
  });
  const val = all.filter((e) => e.split === 'val');
  const choice = split === 'auto' ? (m.examples.index_split ?? 'auto') : split;
  const useVal = choice === 'val' || (choice === 'auto' && val.length >= AUTO_VAL_MIN);
  const examples = useVal ? val : all;
  if (examples.length === 0) throw new CorpusError(packFile(pack.dir, metaFile), 'no examples');
  let sheet: Sheet | null = null;
  if (m.kind !== 'text-lm') {
    sheet = await readSheet(path.join(pack.dir, m.examples.sheet), m.examples.tile);
    const cols = Math.floor(sheet.width / sheet.tile);
    const rowsOnSheet = Math.floor(sheet.height / sheet.tile);
    const capacity = m.kind === 'image-vae' ? cols * rowsOnSheet : rowsOnSheet;
    if (all.length > capacity) {
      throw new CorpusError(
        path.join(pack.dir, m.examples.sheet),
        `holds ${capacity} ${m.kind === 'image-vae' ? 'tiles' : 'face rows'}, but ${metaFile} describes ${all.length}`,
      );
    }
  }
  return {
    kind: m.kind,
    examples,
    sheet,
    split: useVal ? 'val' : 'all',
    labelKeys: m.examples.label_keys ?? null,
  };
}

/**
 * Tile `i` of a row-major sprite sheet as float32 [channels, tile, tile] in `range`, alpha
 * composited on `background` (in [0, 1]).
 */
export function sheetTile(
  sheet: Sheet,
  i: number,
  channels: number,
  range: readonly [number, number],
  background: readonly number[] = [0.5, 0.5, 0.5],
  out: Float32Array = new Float32Array(channels * sheet.tile * sheet.tile),
  outOffset = 0,
): Float32Array {
  const t = sheet.tile;
  const cols = Math.floor(sheet.width / t);
  const x0 = (i % cols) * t;
  const y0 = Math.floor(i / cols) * t;
  const [lo, hi] = range;
  for (let y = 0; y < t; y++) {
    for (let x = 0; x < t; x++) {
      const p = ((y0 + y) * sheet.width + x0 + x) * 4;
      const a = (sheet.rgba[p + 3] ?? 255) / 255;
      for (let c = 0; c < channels; c++) {
        const v = ((sheet.rgba[p + c] ?? 0) / 255) * a + (background[c] ?? 0.5) * (1 - a);
        out[outOffset + (c * t + y) * t + x] = lo + (hi - lo) * v;
      }
    }
  }
  return out;
}

/**
 * One glyph from a face sheet (one row per face, one column per charset character), as
 * ink in `range` (ink = 1 − pixel/255 on the grey sheet), [tile, tile], written at `outOffset`.
 */
export function sheetGlyph(
  sheet: Sheet,
  face: number,
  charIndex: number,
  range: readonly [number, number],
  out: Float32Array,
  outOffset: number,
): void {
  const t = sheet.tile;
  const [lo, hi] = range;
  for (let y = 0; y < t; y++) {
    for (let x = 0; x < t; x++) {
      const p = ((face * t + y) * sheet.width + charIndex * t + x) * 4;
      const ink = 1 - (sheet.rgba[p] ?? 255) / 255;
      out[outOffset + y * t + x] = lo + (hi - lo) * ink;
    }
  }
}

/** A PNG of the region [x0, x0 + w) × [y0, y0 + h) of the sheet, downscaled by `step`. */
export function sheetPng(
  sheet: Sheet,
  x0: number,
  y0: number,
  w: number,
  h: number,
  step = 1,
): Buffer {
  const ow = Math.floor(w / step);
  const oh = Math.floor(h / step);
  const png: PNG = new (pngjs().PNG)({ width: ow, height: oh });
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      // Box filter over the step × step source pixels.
      const acc = [0, 0, 0, 0];
      for (let dy = 0; dy < step; dy++) {
        for (let dx = 0; dx < step; dx++) {
          const p = ((y0 + y * step + dy) * sheet.width + x0 + x * step + dx) * 4;
          for (let c = 0; c < 4; c++) acc[c] = (acc[c] ?? 0) + (sheet.rgba[p + c] ?? 0);
        }
      }
      const o = (y * ow + x) * 4;
      for (let c = 0; c < 4; c++) png.data[o + c] = Math.round((acc[c] ?? 0) / (step * step));
    }
  }
  return pngjs().PNG.sync.write(png);
}

/** The thumbnail of an example: an emoji tile, or a face's first characters at half size. */
export function exampleThumb(
  corpus: Corpus,
  example: CorpusExample,
  glyphChars = 8,
): Buffer | null {
  return corpus.sheet ? sheetThumb(corpus.kind, corpus.sheet, example.id, glyphChars) : null;
}

/** Tile `id` of an image sheet, or row `id` of a face sheet (first characters, half size). */
export function sheetThumb(
  kind: Corpus['kind'],
  sheet: Sheet,
  id: number,
  glyphChars = 8,
): Buffer | null {
  const t = sheet.tile;
  if (kind === 'image-vae') {
    const cols = Math.floor(sheet.width / t);
    return sheetPng(sheet, (id % cols) * t, Math.floor(id / cols) * t, t, t);
  }
  if (kind !== 'glyph-cvae') return null;
  const n = Math.min(glyphChars, Math.floor(sheet.width / t));
  return sheetPng(sheet, 0, id * t, n * t, t, 2);
}
