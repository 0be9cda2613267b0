// The card reads a thumbnail's shape from its PNG header to lay strips and squares out apart.
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { pngSize } from '../../../renderer/src/card/pngSize';

const png = (width: number, height: number): string =>
  PNG.sync.write(new PNG({ width, height })).toString('base64');

describe('pngSize', () => {
  it('reads width and height from real PNGs', () => {
    expect(pngSize(png(256, 32))).toEqual({ width: 256, height: 32 });
    expect(pngSize(png(64, 64))).toEqual({ width: 64, height: 64 });
    expect(pngSize(png(70000, 1))).toEqual({ width: 70000, height: 1 });
  });

  it('says null for what is not a PNG', () => {
    expect(pngSize('')).toBeNull();
    expect(pngSize(Buffer.from('GIF89a and some more bytes here').toString('base64'))).toBeNull();
    expect(pngSize('!!!not base64!!!')).toBeNull();
  });
});
