/**
 * Ordinary big files a person opens: a camera-sized JPEG and a font with a large table, made
 * by code so no binary is committed.
 */
import { readFileSync } from 'node:fs';

/** A 6000 × 4000 JPEG with grain: about 25 MB at quality 96, like a camera's photo. */
export async function cameraJpeg(): Promise<Buffer> {
  const sharp = (await import('sharp')).default;
  const w = 6000;
  const h = 4000;
  const raw = Buffer.alloc(w * h * 3);
  let s = 1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
      const n = (s >> 16) & 255;
      raw[i] = ((x * 255) / w + n) & 255;
      raw[i + 1] = ((y * 255) / h + n) & 255;
      raw[i + 2] = (128 + n) & 255;
    }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 96 })
    .toBuffer();
}

/**
 * A real TrueType font grown to `size` bytes by one extra table (as fonts with embedded
 * bitmaps or big kerning tables are): the table directory is rewritten, every offset moved.
 */
export function paddedFont(file: string, size: number): Buffer {
  const font = readFileSync(file);
  const numTables = font.readUInt16BE(4);
  const dirEnd = 12 + numTables * 16;
  const body = font.subarray(dirEnd);
  const bodyStart = dirEnd + 16;
  const padStart = (bodyStart + body.length + 3) & ~3;
  const padLength = Math.max(0, size - padStart);
  const out = Buffer.alloc(padStart + padLength);
  font.copy(out, 0, 0, 12);
  out.writeUInt16BE(numTables + 1, 4);
  for (let t = 0; t < numTables; t++) {
    const at = 12 + t * 16;
    font.copy(out, at, at, at + 16);
    out.writeUInt32BE(font.readUInt32BE(at + 8) + 16, at + 8);
  }
  const extra = 12 + numTables * 16;
  out.write('zzzz', extra, 'latin1');
  out.writeUInt32BE(0, extra + 4);
  out.writeUInt32BE(padStart, extra + 8);
  out.writeUInt32BE(padLength, extra + 12);
  body.copy(out, bodyStart);
  for (let i = padStart; i < out.length; i++) out[i] = (i * 31) & 255;
  return out;
}
