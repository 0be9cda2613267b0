/**
 * A person's own corpus instead of the pack's examples:
 * - text packs: a folder of .txt / .md files; each paragraph (blank-line separated, at least
 *   20 characters) is an example; metadata: `file` and, for files in subfolders, `folder`
 *   (so a folder per category gives metadata labels);
 * - image packs: a folder of PNG / JPEG images, resized (box filter) to the model's size and
 *   laid out as an in-memory sprite sheet; metadata: `folder` for images in subfolders.
 * - typeface packs: a folder of TTF / OTF / WOFF faces, each drawn as the recipe drew its
 *   training glyphs (one sheet row per face, one column per charset character); faces
 *   lacking a character the style encoder reads are skipped and reported; metadata: what the
 *   font says of itself (family, weight, weight_class, italic, width, monospace) and `folder`.
 * Index a custom corpus into its own database file: the examples table belongs to one corpus.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { LoadedPack } from '../packs/packReader';
import { FontFace, type FontFacts } from '../runtime/glyph/fontReader';
import { decodeImage as decodeAnyImage } from '../runtime/image/imageIo';
import { CorpusError, type Corpus, type CorpusExample, type Sheet } from './corpus';

const MAX_FILES = 100_000;
const MAX_FILE_BYTES = 64 * 1024 * 1024;

async function walk(dir: string, exts: readonly string[], rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(dir, exts, r)));
    else if (e.isFile() && exts.includes(path.extname(e.name).toLowerCase())) out.push(r);
    if (out.length > MAX_FILES) throw new CorpusError(dir, `holds more than ${MAX_FILES} files`);
  }
  return out;
}

function metaOf(rel: string): Record<string, string> {
  const parts = rel.split('/');
  const meta: Record<string, string> = { file: rel };
  if (parts.length > 1) meta.folder = parts.slice(0, -1).join('/');
  return meta;
}

async function readSmall(file: string): Promise<Buffer> {
  const st = await fs.stat(file);
  if (st.size > MAX_FILE_BYTES)
    throw new CorpusError(file, `is ${st.size} bytes; the limit is 64 MB`);
  return fs.readFile(file);
}

/**
 * RGBA pixels of an image file, through the app's one image decoder (imageIo: the pixel cap
 * read from the header before decoding, JPEG orientation, WebP when sharp is there).
 */
async function decodeImage(
  file: string,
  bytes: Buffer,
): Promise<{ width: number; height: number; rgba: Uint8Array }> {
  try {
    const img = await decodeAnyImage(bytes, file);
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (e) {
    const why = (e as Error).message.replace(`${file}: `, '');
    // Over the pixel cap: said as it is (the limit's name); anything else is unreadable.
    if ((e as { code?: string }).code === 'too_large') throw new CorpusError(file, why);
    throw new CorpusError(file, `is not a readable image (${why})`);
  }
}

/** Box-filter resize of RGBA to size × size, written at tile `t` of the sheet. */
function resizeInto(
  src: { width: number; height: number; rgba: Uint8Array },
  sheet: Sheet,
  t: number,
): void {
  const size = sheet.tile;
  const cols = Math.floor(sheet.width / size);
  const x0 = (t % cols) * size;
  const y0 = Math.floor(t / cols) * size;
  for (let y = 0; y < size; y++) {
    const sy0 = Math.floor((y * src.height) / size);
    const sy1 = Math.max(sy0 + 1, Math.floor(((y + 1) * src.height) / size));
    for (let x = 0; x < size; x++) {
      const sx0 = Math.floor((x * src.width) / size);
      const sx1 = Math.max(sx0 + 1, Math.floor(((x + 1) * src.width) / size));
      const acc = [0, 0, 0, 0];
      for (let sy = sy0; sy < sy1; sy++) {
        for (let sx = sx0; sx < sx1; sx++) {
          const p = (sy * src.width + sx) * 4;
          for (let c = 0; c < 4; c++) acc[c] = (acc[c] ?? 0) + (src.rgba[p + c] ?? 0);
        }
      }
      const cnt = (sy1 - sy0) * (sx1 - sx0);
      const o = ((y0 + y) * sheet.width + x0 + x) * 4;
      for (let c = 0; c < 4; c++) sheet.rgba[o + c] = Math.round((acc[c] ?? 0) / cnt);
    }
  }
}

export async function loadFolderCorpus(pack: LoadedPack, dir: string): Promise<Corpus> {
  const st = await fs.stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new CorpusError(dir, 'is not a folder');
  const m = pack.manifest;
  if (m.kind === 'text-lm') {
    const files = await walk(dir, ['.txt', '.md']);
    const examples: CorpusExample[] = [];
    for (const rel of files) {
      const text = (await readSmall(path.join(dir, rel))).toString('utf8');
      for (const para of text.split(/\n\s*\n/)) {
        const body = para.trim();
        if (body.length < 20) continue;
        const flat = body.replace(/\s+/g, ' ');
        examples.push({
          id: examples.length,
          name: flat.length > 60 ? `${flat.slice(0, 57)}…` : flat,
          body,
          meta: metaOf(rel),
          split: null,
        });
      }
    }
    if (examples.length === 0) throw new CorpusError(dir, 'holds no .txt or .md paragraphs');
    return { kind: m.kind, examples, sheet: null, split: 'all', labelKeys: null };
  }
  if (m.kind === 'image-vae') {
    const files = await walk(dir, ['.png', '.jpg', '.jpeg']);
    if (files.length === 0) throw new CorpusError(dir, 'holds no PNG or JPEG images');
    const size = m.model.image.size;
    const cols = Math.min(64, files.length);
    const rows = Math.ceil(files.length / cols);
    const sheet: Sheet = {
      width: cols * size,
      height: rows * size,
      rgba: new Uint8Array(cols * size * rows * size * 4),
      tile: size,
    };
    const examples: CorpusExample[] = [];
    const skipped: string[] = [];
    for (const rel of files) {
      // One unreadable file is reported and left out, not the end of the build.
      let image: Awaited<ReturnType<typeof decodeImage>>;
      try {
        image = await decodeImage(rel, await readSmall(path.join(dir, rel)));
      } catch (e) {
        const why =
          e instanceof CorpusError ? e.message.slice(e.file.length + 2) : (e as Error).message;
        skipped.push(`${rel}: ${why}`);
        continue;
      }
      resizeInto(image, sheet, examples.length);
      examples.push({
        id: examples.length,
        name: path.basename(rel),
        body: null,
        meta: metaOf(rel),
        split: null,
      });
    }
    if (examples.length === 0) {
      throw new CorpusError(dir, `holds no readable PNG or JPEG images (${skipped[0] ?? ''})`);
    }
    // The tiles fill the sheet row by row: drop the rows the skipped files would have used.
    sheet.height = Math.ceil(examples.length / cols) * size;
    sheet.rgba = sheet.rgba.slice(0, sheet.width * sheet.height * 4);
    return { kind: m.kind, examples, sheet, split: 'all', labelKeys: null, skipped };
  }
  return loadFontFolder(m.model, dir);
}

type GlyphModel = Extract<LoadedPack['manifest'], { kind: 'glyph-cvae' }>['model'];

async function loadFontFolder(m: GlyphModel, dir: string): Promise<Corpus> {
  const skipped: { file: string; reason: string }[] = [];
  const files = await walk(dir, ['.ttf', '.otf', '.woff']);
  const charset = [...m.charset];
  const t = m.glyph.size;
  const rows: { rel: string; glyphs: (Float32Array | null)[]; facts: FontFacts; name: string }[] =
    [];
  for (const rel of files) {
    try {
      const face = FontFace.parse(new Uint8Array(await readSmall(path.join(dir, rel))), rel);
      face.renderAll(m.encoder_chars, t, rel); // throws when a character the encoder reads is missing
      const glyphs = charset.map((ch) => {
        try {
          return face.has(ch) ? face.render(ch, t, rel) : null;
        } catch {
          return null; // a blank or missing glyph stays blank on the sheet
        }
      });
      rows.push({ rel, glyphs, facts: face.facts(), name: face.name });
    } catch (e) {
      skipped.push({ file: rel, reason: (e as Error).message });
    }
  }
  if (rows.length === 0) {
    const why = skipped[0] ? ` (${skipped[0].file}: ${skipped[0].reason})` : '';
    throw new CorpusError(dir, `holds no usable TTF, OTF or WOFF faces${why}`);
  }
  // The pack's sheet layout: white ground, ink darkens (ink = 1 − pixel / 255).
  const sheet: Sheet = {
    width: charset.length * t,
    height: rows.length * t,
    rgba: new Uint8Array(charset.length * t * rows.length * t * 4).fill(255),
    tile: t,
  };
  rows.forEach((row, f) => {
    row.glyphs.forEach((g, c) => {
      if (!g) return;
      for (let y = 0; y < t; y++) {
        for (let x = 0; x < t; x++) {
          const p = ((f * t + y) * sheet.width + c * t + x) * 4;
          const v = Math.round(255 * (1 - (g[y * t + x] ?? 0)));
          sheet.rgba[p] = v;
          sheet.rgba[p + 1] = v;
          sheet.rgba[p + 2] = v;
        }
      }
    });
  });
  const examples: CorpusExample[] = rows.map((row, id) => ({
    id,
    name: row.name,
    body: null,
    meta: {
      ...metaOf(row.rel),
      family: row.facts.family,
      weight: String(row.facts.weight),
      weight_class: row.facts.weightClass,
      italic: String(row.facts.italic),
      width: String(row.facts.width),
      monospace: String(row.facts.monospace),
    },
    split: null,
  }));
  return {
    kind: 'glyph-cvae',
    examples,
    sheet,
    split: 'all',
    labelKeys: null,
    skipped: skipped.map((k) => `${k.file}: ${k.reason}`),
  };
}
