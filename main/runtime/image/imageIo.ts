/**
 * Image files ↔ model tensors for image packs (PACK_FORMAT.md, image-vae).
 *
 * In: a user's PNG or JPEG (pure JS: pngjs, jpeg-js; JPEGs turned upright by their EXIF
 * orientation) or WebP (sharp, loaded on demand) of any size → RGBA → composited over the pack's background (alpha "over", in sRGB values as the
 * recipe's PIL alpha_composite does) → padded to a square with the background, centred
 * (the recipe renders each emoji into a max(w, h) square, so padding keeps the subject
 * whole as the model saw it) → resized to the pack's size (area average when shrinking,
 * bilinear when growing) → float32 CHW in the pack's range.
 * Out: float32 CHW → PNG bytes → base64.
 *
 * Every bad file is an OrreryError('bad_input') that names the problem; nothing here throws
 * anything else for bad bytes.
 */
import type { PNG } from 'pngjs';
import { OrreryError } from '../../../preload/contract/errors';
import { limits } from '../../../preload/contract/limits';
import { jpegOrientation, orient } from './exif';
import { encodePng } from './pngEncode';
import { jpegJs, pngjs } from '../../packages';

/** Decoded pixels, 8-bit RGBA, row-major. */
export interface Rgba {
  width: number;
  height: number;
  /** [height, width, 4] */
  data: Uint8Array;
}

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'bmp' | 'unknown';

/** A decoded image may have at most this many pixels (a 64 MP photo is 256 MB of RGBA). */
export const MAX_PIXELS: number = limits.imagePixels;
/** A pack's own example sheet may be larger (the typeface sheet: 62 × 200 tiles of 64 px). */
export const SHEET_MAX_PIXELS = 128_000_000;

export function sniffFormat(bytes: Uint8Array): ImageFormat {
  const b = (i: number) => bytes[i] ?? -1;
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return 'png';
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  const ascii = (o: number, n: number) => String.fromCharCode(...bytes.subarray(o, o + n));
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') return 'webp';
  if (ascii(0, 4) === 'GIF8') return 'gif';
  if (ascii(0, 2) === 'BM') return 'bmp';
  return 'unknown';
}

function bad(what: string, detail: string): OrreryError {
  return new OrreryError('bad_input', `${what}: ${detail}`);
}

function checkPixels(what: string, width: number, height: number, limit = MAX_PIXELS): void {
  if (!(width > 0 && height > 0)) throw bad(what, `has no pixels (${width} × ${height})`);
  if (width * height > limit) {
    throw new OrreryError(
      'too_large',
      `${what}: is ${width} × ${height} pixels; the limit (${limit === MAX_PIXELS ? 'imagePixels' : 'sheet pixels'}) is ${limit / 1e6} megapixels`,
    );
  }
}

/**
 * Width and height as the file's header declares them (PNG IHDR, JPEG SOFn, WebP VP8 / VP8L /
 * VP8X, GIF screen), read before any decoder allocates; null when the header is not there.
 */
export function imageSize(bytes: Uint8Array): { width: number; height: number } | null {
  const n = bytes.length;
  const u8 = (i: number): number => bytes[i] ?? 0;
  const be16 = (i: number): number => (u8(i) << 8) | u8(i + 1);
  const le16 = (i: number): number => u8(i) | (u8(i + 1) << 8);
  const le24 = (i: number): number => u8(i) | (u8(i + 1) << 8) | (u8(i + 2) << 16);
  const be32 = (i: number): number => be16(i) * 65536 + be16(i + 2);
  switch (sniffFormat(bytes)) {
    case 'png':
      return n >= 24 ? { width: be32(16), height: be32(20) } : null;
    case 'gif':
      return n >= 10 ? { width: le16(6), height: le16(8) } : null;
    case 'webp': {
      const chunk = String.fromCharCode(u8(12), u8(13), u8(14), u8(15));
      if (chunk === 'VP8X' && n >= 30) return { width: le24(24) + 1, height: le24(27) + 1 };
      if (chunk === 'VP8L' && n >= 25) {
        const b = (u8(21) | (u8(22) << 8) | (u8(23) << 16) | (u8(24) << 24)) >>> 0;
        return { width: (b & 0x3fff) + 1, height: ((b >>> 14) & 0x3fff) + 1 };
      }
      if (chunk === 'VP8 ' && n >= 30)
        return { width: le16(26) & 0x3fff, height: le16(28) & 0x3fff };
      return null;
    }
    case 'jpeg': {
      // Walk the markers to the first start-of-frame (SOF0…SOF15 but DHT, JPG, DAC).
      let i = 2;
      while (i + 9 < n) {
        if (u8(i) !== 0xff) return null;
        const m = u8(i + 1);
        if (m === 0xff) {
          i++;
          continue;
        }
        if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc)
          return { width: be16(i + 7), height: be16(i + 5) };
        if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) {
          i += 2;
          continue;
        }
        if (m === 0xda) return null; // scan data before any frame header
        i += 2 + be16(i + 2);
      }
      return null;
    }
    default:
      return null;
  }
}

function decodePng(bytes: Uint8Array, what: string, limit = MAX_PIXELS): Rgba {
  // IHDR: width and height at bytes 16…23, checked before pngjs allocates anything.
  if (bytes.length < 33) throw bad(what, 'is a truncated PNG (no complete header)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkPixels(what, view.getUint32(16), view.getUint32(20), limit);
  let png: PNG;
  try {
    png = pngjs().PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw bad(what, `is not a readable PNG (${(e as Error).message})`);
  }
  return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
}

function decodeJpeg(bytes: Uint8Array, what: string): Rgba {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpegJs().decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_PIXELS / 1e6,
      maxMemoryUsageInMB: 1024,
    });
  } catch (e) {
    throw bad(what, `is not a readable JPEG (${(e as Error).message})`);
  }
  checkPixels(what, img.width, img.height);
  if (img.data.length !== img.width * img.height * 4) {
    throw bad(what, 'is a truncated JPEG');
  }
  return orient(img, jpegOrientation(bytes));
}

interface SharpPipeline {
  toColourspace(space: string): SharpPipeline;
  ensureAlpha(): SharpPipeline;
  raw(): SharpPipeline;
  toBuffer(o: {
    resolveWithObject: true;
  }): Promise<{ data: Buffer; info: { width: number; height: number; channels: number } }>;
}

type SharpLike = (input: Uint8Array, options?: { limitInputPixels?: number }) => SharpPipeline;

let sharpModule: Promise<SharpLike | null> | null = null;

/** sharp (native libvips), when its binaries are installed; null otherwise. */
function loadSharp(): Promise<SharpLike | null> {
  sharpModule ??= import('sharp').then(
    (mod) => {
      const m = mod as unknown as { default?: SharpLike } & SharpLike;
      return m.default ?? m;
    },
    () => null,
  );
  return sharpModule;
}

/** Decodes with sharp to 8-bit sRGB + alpha; null when sharp is not available. */
async function sharpRgba(
  bytes: Uint8Array,
  what: string,
  format: string,
  limit = MAX_PIXELS,
): Promise<Rgba | null> {
  const sharp = await loadSharp();
  if (!sharp) return null;
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: limit })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    checkPixels(what, info.width, info.height, limit);
    if (info.channels !== 4) throw new Error(`${info.channels} channels after ensureAlpha`);
    return { width: info.width, height: info.height, data: new Uint8Array(data) };
  } catch (e) {
    if (e instanceof OrreryError) throw e;
    throw bad(what, `is not a readable ${format} image (${(e as Error).message})`);
  }
}

async function decodeWithSharp(bytes: Uint8Array, what: string, format: string): Promise<Rgba> {
  const img = await sharpRgba(bytes, what, format);
  if (!img) {
    throw bad(
      what,
      `is a ${format} image; reading ${format} needs the optional 'sharp' package ` +
        `(with its @img/sharp-* binaries), which is not available here. Use PNG or JPEG.`,
    );
  }
  return img;
}

/** Any supported image file → RGBA. `what` names the file in errors. */
export async function decodeImage(bytes: Uint8Array, what = 'the image'): Promise<Rgba> {
  if (bytes.length === 0) throw bad(what, 'is empty');
  const format = sniffFormat(bytes);
  // The one pixel cap, from the header, before any decoder allocates.
  const declared = imageSize(bytes);
  if (declared) checkPixels(what, declared.width, declared.height);
  switch (format) {
    case 'png':
      return decodePng(bytes, what);
    case 'jpeg':
      return decodeJpeg(bytes, what);
    case 'webp':
      return decodeWithSharp(bytes, what, 'WebP');
    case 'gif':
      return decodeWithSharp(bytes, what, 'GIF');
    default:
      throw bad(
        what,
        format === 'bmp'
          ? 'is a BMP image; PNG, JPEG and WebP are supported'
          : 'is not an image (PNG, JPEG or WebP expected)',
      );
  }
}

/** Strict base64 → bytes (the contract already checked the alphabet). */
export function fromBase64(b64: string, what = 'the image'): Uint8Array {
  const buf = Buffer.from(b64, 'base64');
  if (buf.length === 0) throw bad(what, 'is empty');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export interface ToTensorOptions {
  size: number;
  /** [channels] in 0…1; default mid grey. */
  background?: readonly number[];
  /** Output value range; default [0, 1]. */
  range?: readonly [number, number];
  /** 'pad' (default): whole image, background bars; 'crop': centre square. */
  fit?: 'pad' | 'crop';
}

/**
 * RGBA → float32 [3, size, size] (CHW): alpha over background, square by pad or crop, resize.
 * Values are in 0…1 before mapping to `range`.
 */
export function rgbaToTensor(img: Rgba, opts: ToTensorOptions): Float32Array {
  const { size } = opts;
  const bg = [0, 1, 2].map((c) => opts.background?.[c] ?? 0.5);
  const [lo, hi] = opts.range ?? [0, 1];
  const { width: w, height: h, data } = img;
  // The source sits in a virtual square of `side` pixels (offset ox, oy; negative = cropped).
  // The square is never built: a photo of 40 MP would need ~0.5 GB of floats. Instead the
  // separable resize reads the source where the square holds it and the background elsewhere.
  const side = opts.fit === 'crop' ? Math.min(w, h) : Math.max(w, h);
  const ox = Math.floor((side - w) / 2);
  const oy = Math.floor((side - h) / 2);
  const cols = axisWeights(side, size);
  const rows = axisWeights(side, size);
  // 1. horizontal pass over each source row, compositing alpha: tmp [3, h, size]
  const tmp = new Float64Array(3 * h * size);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [i, wt] of cols[x] ?? []) {
        const sx = i - ox;
        if (sx < 0 || sx >= w) {
          r += wt * (bg[0] ?? 0.5);
          g += wt * (bg[1] ?? 0.5);
          b += wt * (bg[2] ?? 0.5);
          continue;
        }
        const s = (y * w + sx) * 4;
        const a = (data[s + 3] ?? 255) / 255;
        r += wt * (((data[s] ?? 0) / 255) * a + (bg[0] ?? 0.5) * (1 - a));
        g += wt * (((data[s + 1] ?? 0) / 255) * a + (bg[1] ?? 0.5) * (1 - a));
        b += wt * (((data[s + 2] ?? 0) / 255) * a + (bg[2] ?? 0.5) * (1 - a));
      }
      const o = y * size + x;
      tmp[o] = r;
      tmp[h * size + o] = g;
      tmp[2 * h * size + o] = b;
    }
  }
  // 2. vertical pass (background rows outside the source), 3. map to the range
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let acc = 0;
        for (const [i, wt] of rows[y] ?? []) {
          const sy = i - oy;
          acc +=
            wt * (sy < 0 || sy >= h ? (bg[c] ?? 0.5) : (tmp[c * h * size + sy * size + x] ?? 0));
        }
        out[c * size * size + y * size + x] = lo + (hi - lo) * acc;
      }
    }
  }
  return out;
}

/**
 * One float plane [sh, sw] → [dh, dw]. Shrinking: exact area average (each output pixel is
 * the mean of the source area it covers, fractional edges weighted). Growing: bilinear with
 * pixel centres aligned (align_corners = false), edges clamped.
 */
export function resizePlane(
  src: Float32Array,
  sh: number,
  sw: number,
  dh: number,
  dw: number,
): Float32Array {
  if (sh === dh && sw === dw) return src.slice();
  const rows = axisWeights(sh, dh);
  const cols = axisWeights(sw, dw);
  // separable: first columns (per source row), then rows
  const tmp = new Float64Array(sh * dw);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < dw; x++) {
      const wx = cols[x] ?? [];
      let acc = 0;
      for (const [i, wt] of wx) acc += (src[y * sw + i] ?? 0) * wt;
      tmp[y * dw + x] = acc;
    }
  }
  const out = new Float32Array(dh * dw);
  for (let y = 0; y < dh; y++) {
    const wy = rows[y] ?? [];
    for (let x = 0; x < dw; x++) {
      let acc = 0;
      for (const [i, wt] of wy) acc += (tmp[i * dw + x] ?? 0) * wt;
      out[y * dw + x] = acc;
    }
  }
  return out;
}

/** Per output index: [source index, weight] pairs summing to 1. */
function axisWeights(n: number, m: number): [number, number][][] {
  const out: [number, number][][] = [];
  const scale = n / m;
  for (let j = 0; j < m; j++) {
    const taps: [number, number][] = [];
    if (scale >= 1) {
      const a = j * scale;
      const b = (j + 1) * scale;
      for (let i = Math.floor(a); i < Math.min(n, Math.ceil(b)); i++) {
        const wt = Math.min(b, i + 1) - Math.max(a, i);
        if (wt > 0) taps.push([i, wt / scale]);
      }
    } else {
      const p = Math.min(n - 1, Math.max(0, (j + 0.5) * scale - 0.5));
      const i0 = Math.floor(p);
      const i1 = Math.min(n - 1, i0 + 1);
      const t = p - i0;
      taps.push([i0, 1 - t]);
      if (t > 0) taps.push([i1, t]);
    }
    out.push(taps);
  }
  return out;
}

/**
 * float32 [channels, height, width] (CHW) in `range` → PNG bytes (RGB for 3 channels, grey
 * for 1). Values are clamped; NaN becomes 0.
 */
export function tensorToPng(
  chw: Float32Array,
  channels: number,
  height: number,
  width: number,
  range: readonly [number, number] = [0, 1],
): Uint8Array {
  if (chw.length !== channels * height * width) {
    throw new RangeError(
      `image tensor has ${chw.length} values for [${channels}, ${height}, ${width}]`,
    );
  }
  if (channels !== 1 && channels !== 3) throw new RangeError(`cannot write ${channels} channels`);
  const [lo, hi] = range;
  const plane = height * width;
  const px = new Uint8Array(plane * channels);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < channels; c++)
      px[p * channels + c] = to8(((chw[c * plane + p] ?? 0) - lo) / (hi - lo));
  }
  return encodePng(px, width, height, channels);
}

/** 0…1 → 0…255, rounded, clamped, NaN → 0. */
export function to8(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 1) return 255;
  return Math.round(v * 255);
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * A pack's sprite sheet → RGBA, up to SHEET_MAX_PIXELS. A sheet can be large (the emoji sheet:
 * 4096 × 3712): libvips reads a PNG ~20× faster than pngjs (~1.3 s of CPU) when it is
 * installed, else pngjs; other formats as decodeImage reads them. The runtime's tiles and the
 * index's thumbnails come from this one decode.
 */
export async function decodeSheet(bytes: Uint8Array, what: string): Promise<Rgba> {
  const png = sniffFormat(bytes) === 'png';
  const fast = png ? await sharpRgba(bytes, what, 'PNG', SHEET_MAX_PIXELS) : null;
  return fast ?? (png ? decodePng(bytes, what, SHEET_MAX_PIXELS) : await decodeImage(bytes, what));
}

/**
 * A sprite sheet (PACK_FORMAT.md examples): tiles of `tile` px, row-major,
 * columns = floor(width / tile). Decoded once; tiles are read by index.
 */
export class SpriteSheet {
  readonly columns: number;
  readonly rows: number;

  private constructor(
    private readonly img: Rgba,
    readonly tile: number,
  ) {
    this.columns = Math.floor(img.width / tile);
    this.rows = Math.floor(img.height / tile);
  }

  static async read(bytes: Uint8Array, tile: number, what: string): Promise<SpriteSheet> {
    let img: Rgba;
    try {
      img = await decodeSheet(bytes, what);
    } catch (e) {
      if (e instanceof OrreryError) throw new OrreryError('bad_pack', e.message);
      throw e;
    }
    if (img.width < tile || img.height < tile) {
      throw new OrreryError(
        'bad_pack',
        `${what}: ${img.width} × ${img.height} holds no ${tile} px tile`,
      );
    }
    return new SpriteSheet(img, tile);
  }

  get capacity(): number {
    return this.columns * this.rows;
  }

  /** Tile i as RGBA [tile, tile, 4]. */
  tileRgba(i: number): Rgba {
    if (!Number.isInteger(i) || i < 0 || i >= this.capacity) {
      throw new OrreryError(
        'not_found',
        `example ${i} is not on the sheet (0…${this.capacity - 1})`,
      );
    }
    const t = this.tile;
    const x0 = (i % this.columns) * t;
    const y0 = Math.floor(i / this.columns) * t;
    const data = new Uint8Array(t * t * 4);
    for (let y = 0; y < t; y++) {
      const s = ((y0 + y) * this.img.width + x0) * 4;
      data.set(this.img.data.subarray(s, s + t * 4), y * t * 4);
    }
    return { width: t, height: t, data };
  }
}
