/**
 * Exports through the dispatcher, the real inference worker and sharp on the fixture packs: a
 * picture scaled to 512 px with Lanczos-3 keeps its colours in place, a wide specimen keeps its
 * shape; a dial's sweep as a strip, an animated GIF (there and back) and, on the text pack,
 * text with the changed words marked; a text run with its diff marked.
 */
import { cpSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeApp, type OrreryApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import { multipleLabel, scaledSize } from '../../../main/exports/exportService';
import { markedTokens } from '../../../main/exports/textMarks';
import type { ExportFile } from '../../../preload/contract';
import { cleanupTmp, fixturePacks, repoRoot, tmpDir } from '../../support/tmp';

let app: OrreryApp;

beforeAll(() => {
  const models = tmpDir();
  for (const p of ['text-tiny', 'emoji-tiny']) {
    cpSync(path.join(fixturePacks, p), path.join(models, p), { recursive: true });
  }
  app = composeApp(resolveConfig('headless', repoRoot, { home: tmpDir(), models }));
});

afterAll(async () => {
  await app.dispose();
  cleanupTmp();
});

async function file(call: 'export.image' | 'export.sweep' | 'export.text', input: unknown) {
  const r = await app.dispatcher.dispatch(call, input);
  if (!r.ok) throw new Error(r.error.message);
  return r.value as ExportFile;
}

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

describe('exports', () => {
  it('scales a 64×64 picture to a 512×512 PNG with its colours in place', async () => {
    const f = await file('export.image', {
      rgba: halves(64, 64),
      width: 64,
      height: 64,
      size: 512,
      name: 'emoji after',
    });
    expect(f).toMatchObject({ mime: 'image/png', width: 512, height: 512, frames: 1 });
    expect(f.name).toBe('emoji_after-512x512.png');
    const { data, info } = await sharp(f.bytes).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([512, 512]);
    const at = (x: number, y: number) => {
      const i = (y * 512 + x) * info.channels;
      return [...data.subarray(i, i + 3)];
    };
    expect(at(100, 256)).toEqual([220, 0, 20]);
    expect(at(400, 256)).toEqual([20, 0, 220]);
  });

  it('keeps a wide specimen’s shape and refuses bytes that do not match the size', async () => {
    expect(scaledSize(384, 64, 1024)).toEqual([1024, 171]);
    const f = await file('export.image', {
      rgba: halves(384, 64),
      width: 384,
      height: 64,
      size: 1024,
    });
    expect([f.width, f.height]).toEqual([1024, 171]);
    const bad = await app.dispatcher.dispatch('export.image', {
      rgba: halves(8, 8),
      width: 9,
      height: 8,
      size: 64,
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    if (!bad.ok) expect(bad.error.message).toMatch(/9×8 RGBA needs 288/);
  });

  it('sweeps an image dial as a strip and as a GIF played there and back', async () => {
    const sweep = { packId: 'orrery-emoji-tiny', saeId: 'latent-32', feature: 0, typical: 4 };
    const strip = await file('export.sweep', { ...sweep, format: 'strip', size: 128 });
    // −2×, 0, +1×, +2×, +4× at 128 px, 4 px apart
    expect(strip).toMatchObject({ mime: 'image/png', width: 5 * 128 + 4 * 4, height: 128 });
    const meta = await sharp(strip.bytes).metadata();
    expect([meta.width, meta.height]).toEqual([656, 128]);
    const gif = await file('export.sweep', { ...sweep, format: 'gif', size: 64, frameMs: 300 });
    const g = await sharp(gif.bytes, { animated: true }).metadata();
    expect([g.format, g.pages, g.width, g.pageHeight, gif.frames]).toEqual(['gif', 8, 64, 64, 8]);
    expect(gif.name).toBe('orrery-emoji-tiny-feature-0-sweep.gif');
    // a picture pack's sweep is not text
    const text = await app.dispatcher.dispatch('export.sweep', { ...sweep, format: 'text' });
    expect(text).toMatchObject({ ok: false, error: { code: 'bad_input' } });
  });

  it('sweeps a text dial as lines with the words that changed from 0× marked', async () => {
    const f = await file('export.sweep', {
      packId: 'orrery-text-tiny',
      saeId: 'res1-64',
      feature: 5,
      typical: 10,
      format: 'webp',
      maxTokens: 6,
    });
    expect(f.mime).toBe('text/plain');
    const lines = new TextDecoder().decode(f.bytes).split('\n');
    expect(lines[1]).toBe('# prompt: the pack’s default');
    const rows = lines.filter((l) => /^ +[−+]?\d+(\.\d+)?× /.test(l));
    expect(rows.map((l) => l.trim().split(' ')[0])).toEqual(['−2×', '0×', '+1×', '+2×', '+4×']);
    // 0× is the reference: nothing marked on it
    expect(rows[1]).not.toContain('{+');
    expect(markedTokens([' me', ',', ' I', ' have'], [false, false, true, true])).toBe(
      ' me,{+ I have+}',
    );
    expect(multipleLabel(6.4)).toBe('+6.4×');
  });

  it('marks the words a text run’s dials added and removed', async () => {
    const f = await file('export.text', { prompt: 'The Lord', before: ' said', after: ' spoke' });
    const t = new TextDecoder().decode(f.bytes);
    expect(t).toMatch(/^# Orrery text export: 1 word added .*, 1 removed/);
    expect(t).toContain('The Lord[- said-]{+ spoke+}');
  });
});
