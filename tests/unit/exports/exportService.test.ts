/**
 * Exports made with the real sharp: a 64×64 picture scaled to 512 px with Lanczos-3 keeps its
 * shape and colours; a wide specimen keeps its aspect; text exports mark what the dials changed.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { exportInputs } from '../../../preload/contract';
import { ExportService, multipleLabel, scaledSize } from '../../../main/exports/exportService';
import { markedDiff, markedTokens } from '../../../main/exports/textMarks';

/** Left half red, right half blue, opaque. */
function halves(width: number, height: number): Uint8Array {
  const px = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      px[i] = x < width / 2 ? 220 : 20;
      px[i + 2] = x < width / 2 ? 20 : 220;
      px[i + 3] = 255;
    }
  return px;
}

const service = new ExportService({
  effectStrip: () => Promise.reject(new Error('sweeps are covered by tests/e2e/layout.e2e.ts')),
});

describe('export service', () => {
  it('scales a 64×64 picture to a 512×512 PNG with its colours in place', async () => {
    const input = exportInputs.image.parse({
      rgba: halves(64, 64),
      width: 64,
      height: 64,
      size: 512,
      name: 'emoji after',
    });
    const f = await service.image(input);
    expect(f).toMatchObject({ mime: 'image/png', width: 512, height: 512, frames: 1 });
    expect(f.name).toBe('emoji_after-512x512.png');
    const { data, info } = await sharp(f.bytes).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([512, 512]);
    const at = (x: number, y: number) => [
      ...data.subarray((y * 512 + x) * info.channels, (y * 512 + x) * info.channels + 3),
    ];
    expect(at(100, 256)).toEqual([220, 0, 20]);
    expect(at(400, 256)).toEqual([20, 0, 220]);
  });

  it('keeps a wide specimen’s shape and refuses bytes that do not match the size', async () => {
    expect(scaledSize(384, 64, 1024)).toEqual([1024, 171]);
    const f = await service.image(
      exportInputs.image.parse({ rgba: halves(384, 64), width: 384, height: 64, size: 1024 }),
    );
    expect([f.width, f.height]).toEqual([1024, 171]);
    await expect(
      service.image(
        exportInputs.image.parse({ rgba: halves(8, 8), width: 9, height: 8, size: 64 }),
      ),
    ).rejects.toThrow(/9×8 RGBA needs 288/);
  });

  it('marks the words a dial added and removed', () => {
    const d = markedDiff(' me I think I sit.', ' me I have been a man.');
    expect(d.text).toContain('{+');
    expect(d.text).toContain('[-');
    expect(d.added).toBeGreaterThan(0);
    expect(d.removed).toBeGreaterThan(0);
    expect(markedTokens([' me', ',', ' I', ' have'], [false, false, true, true])).toBe(
      ' me,{+ I have+}',
    );
    const t = new TextDecoder().decode(
      service.text(
        exportInputs.text.parse({ prompt: 'The Lord', before: ' said', after: ' spoke' }),
      ).bytes,
    );
    expect(t).toContain('The Lord[- said-]{+ spoke+}');
    expect(multipleLabel(-2)).toBe('−2×');
    expect(multipleLabel(6.4)).toBe('+6.4×');
  });
});
