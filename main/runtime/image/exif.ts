/**
 * JPEG EXIF orientation (tag 0x0112): phones store photos sideways and say so in EXIF;
 * jpeg-js decodes the stored pixels, so they are turned upright here.
 */
import type { Rgba } from './imageIo';

/** The EXIF orientation of a JPEG file, 1 (upright) when absent or unreadable. */
export function jpegOrientation(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 2; // after SOI
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return 1;
    const marker = bytes[p + 1] ?? 0;
    if (marker === 0xda || marker === 0xd9) return 1; // start of scan / end: no EXIF before it
    const len = view.getUint16(p + 2);
    const start = p + 4;
    if (marker === 0xe1 && start + 14 <= bytes.length && ascii(bytes, start, 6) === 'Exif\0\0') {
      return tiffOrientation(view, start + 6, Math.min(bytes.length, p + 2 + len));
    }
    p += 2 + len;
  }
  return 1;
}

function ascii(bytes: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + n));
}

function tiffOrientation(view: DataView, tiff: number, end: number): number {
  try {
    const order = view.getUint16(tiff);
    const le = order === 0x4949;
    if (!le && order !== 0x4d4d) return 1;
    const ifd = tiff + view.getUint32(tiff + 4, le);
    const count = view.getUint16(ifd, le);
    for (let k = 0; k < count; k++) {
      const e = ifd + 2 + 12 * k;
      if (e + 12 > end) return 1;
      if (view.getUint16(e, le) === 0x0112) {
        const v = view.getUint16(e + 8, le);
        return v >= 1 && v <= 8 ? v : 1;
      }
    }
  } catch {
    return 1;
  }
  return 1;
}

/** Where stored pixel (x, y) of a w × h image goes when turned upright, per orientation. */
const UPRIGHT: Record<number, (x: number, y: number, w: number, h: number) => [number, number]> = {
  1: (x, y) => [x, y],
  2: (x, y, w) => [w - 1 - x, y], // mirrored
  3: (x, y, w, h) => [w - 1 - x, h - 1 - y], // 180°
  4: (x, y, _w, h) => [x, h - 1 - y], // mirrored vertically
  5: (x, y) => [y, x], // transposed
  6: (x, y, _w, h) => [h - 1 - y, x], // turn 90° clockwise
  7: (x, y, w, h) => [h - 1 - y, w - 1 - x], // transverse
  8: (x, y, w) => [y, w - 1 - x], // turn 90° anticlockwise
};

/** Applies an EXIF orientation (1…8) to RGBA pixels, returning upright pixels. */
export function orient(img: Rgba, orientation: number): Rgba {
  if (orientation <= 1 || orientation > 8) return img;
  const { width: w, height: h, data } = img;
  const swap = orientation >= 5;
  const W = swap ? h : w;
  const H = swap ? w : h;
  const to = UPRIGHT[orientation] ?? UPRIGHT[1];
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [X, Y] = to ? to(x, y, w, h) : [x, y];
      out.set(data.subarray((y * w + x) * 4, (y * w + x) * 4 + 4), (Y * W + X) * 4);
    }
  }
  return { width: W, height: H, data: out };
}
