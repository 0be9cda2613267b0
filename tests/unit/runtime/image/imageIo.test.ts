import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { OrreryError } from '../../../../preload/contract';
import {
  decodeImage,
  imageSize,
  resizePlane,
  rgbaToTensor,
  sniffFormat,
  SpriteSheet,
  tensorToPng,
  to8,
  type Rgba,
} from '../../../../main/runtime/image/imageIo';
import { encodePng } from '../../../../main/runtime/image/pngEncode';

function pngOf(img: Rgba): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height });
  png.data.set(img.data);
  return new Uint8Array(PNG.sync.write(png));
}

function solid(width: number, height: number, rgba: [number, number, number, number]): Rgba {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set(rgba, i * 4);
  return { width, height, data };
}

async function badInput(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OrreryError);
  expect((e as OrreryError).code).toBe('bad_input');
  expect((e as OrreryError).message).toMatch(pattern);
}

describe('image files in', () => {
  it('reads a PNG with alpha exactly', async () => {
    const img: Rgba = {
      width: 2,
      height: 1,
      data: new Uint8Array([10, 20, 30, 255, 200, 100, 0, 0]),
    };
    const back = await decodeImage(pngOf(img));
    expect(back.width).toBe(2);
    expect([...back.data]).toEqual([...img.data]);
  });

  it('reads a JPEG', async () => {
    const src = solid(16, 8, [200, 40, 90, 255]);
    const bytes = jpeg.encode({ width: 16, height: 8, data: Buffer.from(src.data) }, 95).data;
    expect(sniffFormat(new Uint8Array(bytes))).toBe('jpeg');
    const img = await decodeImage(new Uint8Array(bytes));
    expect([img.width, img.height]).toEqual([16, 8]);
    expect(Math.abs((img.data[0] ?? 0) - 200)).toBeLessThan(6);
    expect(Math.abs((img.data[2] ?? 0) - 90)).toBeLessThan(6);
  });

  it('turns a JPEG upright by its EXIF orientation', async () => {
    // 16 × 8: left half red, right half blue; stored sideways with orientation 6 (turn 90° cw)
    const src = solid(16, 8, [0, 0, 255, 255]);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) src.data.set([255, 0, 0, 255], (y * 16 + x) * 4);
    const plain = new Uint8Array(
      jpeg.encode({ width: 16, height: 8, data: Buffer.from(src.data) }, 95).data,
    );
    // APP1: "Exif\0\0", big-endian TIFF, one IFD entry: 0x0112 SHORT 1 = 6
    const tiff = [
      0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0,
      0,
    ];
    const body = [...new TextEncoder().encode('Exif\0\0'), ...tiff];
    const app1 = [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
    const withExif = new Uint8Array([...plain.subarray(0, 2), ...app1, ...plain.subarray(2)]);
    const img = await decodeImage(withExif);
    expect([img.width, img.height]).toEqual([8, 16]);
    const px = (x: number, y: number) => [
      ...img.data.subarray((y * 8 + x) * 4, (y * 8 + x) * 4 + 3),
    ];
    expect(px(4, 2)[0]).toBeGreaterThan(200); // red on top
    expect(px(4, 13)[2]).toBeGreaterThan(200); // blue below
    const upright = await decodeImage(plain);
    expect([upright.width, upright.height]).toEqual([16, 8]);
  });

  it('names what is wrong with bytes that are not a usable image', async () => {
    await badInput(decodeImage(new TextEncoder().encode('hello, not an image')), /not an image/);
    await badInput(decodeImage(new Uint8Array(0)), /empty/);
    const png = pngOf(solid(32, 32, [1, 2, 3, 255]));
    await badInput(decodeImage(png.subarray(0, 20)), /truncated PNG/);
    await badInput(decodeImage(png.subarray(0, png.length - 30)), /not a readable PNG/);
    const broken = png.slice();
    broken[40] = (broken[40] ?? 0) ^ 0xff; // corrupt the compressed data / its CRC
    await badInput(decodeImage(broken), /PNG/);
    await badInput(decodeImage(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2])), /JPEG/);
    await badInput(decodeImage(new TextEncoder().encode('BM not really a bitmap')), /BMP/);
  });

  it('refuses a PNG whose header claims too many pixels before decoding it', async () => {
    const png = pngOf(solid(4, 4, [0, 0, 0, 255]));
    const view = new DataView(png.buffer, png.byteOffset);
    view.setUint32(16, 100_000);
    view.setUint32(20, 100_000);
    const e = await decodeImage(png).then(
      () => null,
      (err: unknown) => err as OrreryError,
    );
    expect(e?.code).toBe('too_large');
    expect(e?.message).toMatch(/imagePixels\) is 40 megapixels/);
  });

  it('reads the declared size of PNG, JPEG, WebP and GIF headers before decoding', () => {
    const png = pngOf(solid(7, 5, [0, 0, 0, 255]));
    expect(imageSize(png)).toEqual({ width: 7, height: 5 });
    // JPEG: SOI, an APP0 segment, then SOF0 with height 9000 and width 8000 (72 MP).
    const jpegHead = Uint8Array.from([
      0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x23, 0x28,
      0x1f, 0x40, 0x03, 0x01, 0x22, 0x00,
    ]);
    expect(imageSize(jpegHead)).toEqual({ width: 8000, height: 9000 });
    // WebP VP8X canvas 10000 × 5000.
    const webp = new Uint8Array(30);
    webp.set(new TextEncoder().encode('RIFF'), 0);
    webp.set(new TextEncoder().encode('WEBPVP8X'), 8);
    webp.set([0x0f, 0x27, 0x00, 0x87, 0x13, 0x00], 24);
    expect(imageSize(webp)).toEqual({ width: 10000, height: 5000 });
    const gif = new TextEncoder().encode('GIF89a\x10\x00\x20\x00');
    expect(imageSize(gif)).toEqual({ width: 16, height: 32 });
  });

  it('refuses a JPEG or WebP over the pixel cap from its header alone', async () => {
    const jpegHead = Uint8Array.from([
      0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x23, 0x28, 0x1f, 0x40, 0x03, 0x01, 0x22, 0x00,
    ]);
    const e = await decodeImage(jpegHead).then(
      () => null,
      (err: unknown) => err as OrreryError,
    );
    expect(e?.code).toBe('too_large');
    const webp = new Uint8Array(40);
    webp.set(new TextEncoder().encode('RIFF'), 0);
    webp.set(new TextEncoder().encode('WEBPVP8X'), 8);
    webp.set([0x0f, 0x27, 0x00, 0x87, 0x13, 0x00], 24);
    const w = await decodeImage(webp).then(
      () => null,
      (err: unknown) => err as OrreryError,
    );
    expect(w?.code).toBe('too_large');
  });

  it('reads WebP through sharp, or says that WebP needs sharp', async () => {
    let webp: Uint8Array | null = null;
    try {
      const sharp = (await import('sharp')).default;
      webp = new Uint8Array(
        await sharp(Buffer.from(solid(8, 4, [0, 128, 255, 255]).data), {
          raw: { width: 8, height: 4, channels: 4 },
        })
          .webp({ lossless: true })
          .toBuffer(),
      );
    } catch {
      webp = null;
    }
    if (webp) {
      expect(sniffFormat(webp)).toBe('webp');
      const img = await decodeImage(webp);
      expect([img.width, img.height]).toEqual([8, 4]);
      expect([...img.data.subarray(0, 4)]).toEqual([0, 128, 255, 255]);
    } else {
      const fake = new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 ');
      await badInput(decodeImage(fake), /sharp/);
    }
  });
});

describe('image → tensor', () => {
  it('composites alpha over the background', () => {
    const img: Rgba = { width: 1, height: 1, data: new Uint8Array([255, 0, 0, 51]) }; // 20 % red
    const t = rgbaToTensor(img, { size: 1, background: [0.5, 0.5, 0.5] });
    expect(t[0]).toBeCloseTo(0.2 * 1 + 0.8 * 0.5, 6);
    expect(t[1]).toBeCloseTo(0.8 * 0.5, 6);
    expect(t[2]).toBeCloseTo(0.8 * 0.5, 6);
  });

  it('pads a wide image to a square with the background, centred', () => {
    // 4 × 2 white → 4 × 4: rows 0 and 3 background, rows 1 and 2 white
    const t = rgbaToTensor(solid(4, 2, [255, 255, 255, 255]), { size: 4, background: [0, 0, 0] });
    const row = (y: number) => [...t.subarray(y * 4, y * 4 + 4)];
    expect(row(0)).toEqual([0, 0, 0, 0]);
    expect(row(1)).toEqual([1, 1, 1, 1]);
    expect(row(2)).toEqual([1, 1, 1, 1]);
    expect(row(3)).toEqual([0, 0, 0, 0]);
  });

  it('crops the centre square when asked', () => {
    const img = solid(6, 2, [0, 0, 0, 255]);
    img.data.set([255, 255, 255, 255], (0 * 6 + 2) * 4); // column 2 and 3 of row 0 white
    img.data.set([255, 255, 255, 255], (0 * 6 + 3) * 4);
    const t = rgbaToTensor(img, { size: 2, fit: 'crop' });
    expect([...t.subarray(0, 4)]).toEqual([1, 1, 0, 0]);
  });

  it('shrinks by area average and maps to the range', () => {
    const src = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect([...resizePlane(src, 4, 4, 2, 2)]).toEqual([2.5, 4.5, 10.5, 12.5]);
    // 3 → 2: output 0 covers source [0, 1.5): (a + b/2) / 1.5
    const r = resizePlane(Float32Array.from([3, 6, 9]), 1, 3, 1, 2);
    expect(r[0]).toBeCloseTo((3 + 3) / 1.5, 6);
    expect(r[1]).toBeCloseTo((3 + 9) / 1.5, 6);
    const t = rgbaToTensor(solid(2, 2, [255, 0, 0, 255]), { size: 1, range: [-1, 1] });
    expect([...t]).toEqual([1, -1, -1]);
  });

  it('grows bilinearly with constant images staying constant', () => {
    const up = resizePlane(Float32Array.from([0, 1]), 1, 2, 1, 4);
    expect([...up]).toEqual([0, 0.25, 0.75, 1]);
    const flat = resizePlane(new Float32Array(9).fill(0.3), 3, 3, 7, 7);
    for (const v of flat) expect(v).toBeCloseTo(0.3, 6);
  });
});

describe('tensor → PNG', () => {
  it('writes RGB and grey PNGs that read back exactly', () => {
    const chw = new Float32Array(3 * 2 * 3);
    for (let i = 0; i < chw.length; i++) chw[i] = i / (chw.length - 1);
    const png = PNG.sync.read(Buffer.from(tensorToPng(chw, 3, 2, 3)));
    expect([png.width, png.height]).toEqual([3, 2]);
    for (let p = 0; p < 6; p++) {
      for (let c = 0; c < 3; c++) expect(png.data[p * 4 + c]).toBe(to8(chw[c * 6 + p] ?? 0));
    }
    const grey = Float32Array.from([0, 0.5, 1, NaN, -3, 7]);
    const g = PNG.sync.read(Buffer.from(tensorToPng(grey, 1, 2, 3)));
    expect([0, 1, 2, 3, 4, 5].map((p) => g.data[p * 4])).toEqual([0, 128, 255, 0, 0, 255]);
  });

  it('encodes larger random images losslessly', () => {
    const px = new Uint8Array(37 * 19 * 3);
    let s = 7;
    for (let i = 0; i < px.length; i++) px[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    const back = PNG.sync.read(Buffer.from(encodePng(px, 37, 19, 3)));
    for (let p = 0; p < 37 * 19; p++) {
      expect([back.data[p * 4], back.data[p * 4 + 1], back.data[p * 4 + 2]]).toEqual([
        px[p * 3],
        px[p * 3 + 1],
        px[p * 3 + 2],
      ]);
    }
  });
});

describe('sprite sheets', () => {
  it('reads tiles row-major and rejects indices off the sheet', async () => {
    // 3 × 2 tiles of 2 px, tile i filled with value 10·i; one extra pixel column ignored
    const img = solid(7, 4, [0, 0, 0, 255]);
    for (let i = 0; i < 6; i++) {
      const x0 = (i % 3) * 2;
      const y0 = Math.floor(i / 3) * 2;
      for (let y = 0; y < 2; y++) {
        for (let x = 0; x < 2; x++) img.data.set([10 * i, 0, 0, 255], ((y0 + y) * 7 + x0 + x) * 4);
      }
    }
    const sheet = await SpriteSheet.read(pngOf(img), 2, 'sheet.png');
    expect([sheet.columns, sheet.rows, sheet.capacity]).toEqual([3, 2, 6]);
    for (let i = 0; i < 6; i++) expect(sheet.tileRgba(i).data[0]).toBe(10 * i);
    expect(() => sheet.tileRgba(6)).toThrow(/not on the sheet/);
    await expect(SpriteSheet.read(new Uint8Array([1, 2, 3]), 2, 'x.png')).rejects.toThrow(/x.png/);
  });
});
