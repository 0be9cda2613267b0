import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrreryError, runtimeInputs } from '../../../../preload/contract';
import { readPack, type LoadedPack } from '../../../../main/packs/packReader';
import { BlobStore } from '../../../../main/blobs/blobStore';
import type { EngineContext } from '../../../../main/runtime/engine';
import { FontFace } from '../../../../main/runtime/glyph/fontReader';
import { GlyphEngine } from '../../../../main/runtime/glyph/glyphEngine';

const FIXTURE = path.resolve(__dirname, '../../../fixtures/packs/glyphs-tiny');
const DEJAVU_SANS = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
/** A person's files, kept in a real blob store as the app keeps them, and named by hash. */
const blobs = new BlobStore(mkdtempSync(path.join(os.tmpdir(), 'orrery-blobs-')));
const blob = (bytes: Uint8Array): string => blobs.put(bytes).hash;
const ctx: EngineContext = {
  signal: new AbortController().signal,
  blobFile: (hash) => blobs.require(hash),
};

async function packAt(dir: string): Promise<LoadedPack> {
  const r = await readPack(dir);
  if (!r.ok) throw new Error(`${r.problem.file}: ${r.problem.message}`);
  return r.pack;
}

function specimenInput(x: Record<string, unknown>) {
  return runtimeInputs.glyphSpecimen.parse({ packId: 'orrery-glyphs-tiny', ...x });
}

/** A grey strip as the engine answers it (RGBA, R = G = B) → [height, width] values 0…255. */
function grey(
  rgba: Uint8Array,
  width: number,
  height: number,
): { data: number[]; width: number; height: number } {
  expect(rgba.length).toBe(width * height * 4);
  const data: number[] = [];
  for (let p = 0; p < width * height; p++) {
    expect(rgba[p * 4 + 1]).toBe(rgba[p * 4]);
    data.push(rgba[p * 4] ?? 0);
  }
  return { data, width, height };
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OrreryError);
  expect((e as OrreryError).code).toBe(code);
  expect((e as OrreryError).message).toMatch(pattern);
}

function styleSae() {
  const s = engine.saes.find((x) => x.id === 'style-64');
  if (!s) throw new Error('no style SAE');
  return s.sae;
}

let engine: GlyphEngine;
let metrics: { heldout_psnr_db: number; heldout_psnr_global_db: number; heldout_faces: number };

beforeAll(async () => {
  engine = await GlyphEngine.load(await packAt(FIXTURE));
  metrics = JSON.parse(readFileSync(path.join(FIXTURE, 'metrics.json'), 'utf8')) as typeof metrics;
});
afterAll(async () => {
  await engine.dispose();
});

describe('GlyphEngine on the glyphs fixture', () => {
  it('describes the pack', () => {
    const info = engine.info();
    expect(info.kind).toBe('glyph-cvae');
    expect(info.charset).toBe(engine.charset.join(''));
    expect(info.saes.map((s) => [s.id, s.hook, s.dIn])).toEqual([['style-64', 'style', 32]]);
    expect(info.examples.length).toBeGreaterThan(0);
    expect(typeof info.examples[0]?.meta.family).toBe('string');
  });

  it('reproduces the recipe held-out PSNR through ONNX (parity by recomputation)', async () => {
    // metrics.json: mean over held-out faces and charset glyphs of the PSNR of
    // decode(encode(face)) against the face's glyphs, the same 8-bit glyphs as faces.png
    const psnr: number[] = [];
    const mse: number[] = [];
    const ids = engine.charset.map((_, i) => i);
    for (const ex of engine.info().examples) {
      if (ex.meta.split !== 'val') continue;
      const style = await engine.styleOf({ example: ex.index }, ctx);
      const out = await engine.decode(style, ids);
      const real = await engine.exampleGlyphs(ex.index, engine.charset);
      const n = engine.size * engine.size;
      for (let c = 0; c < ids.length; c++) {
        let s = 0;
        for (let p = 0; p < n; p++) s += ((out[c * n + p] ?? 0) - (real[c * n + p] ?? 0)) ** 2;
        mse.push(s / n);
        psnr.push(10 * Math.log10(1 / Math.max(s / n, 1e-10)));
      }
    }
    expect(psnr.length).toBe(metrics.heldout_faces * ids.length);
    const mean = psnr.reduce((a, b) => a + b, 0) / psnr.length;
    expect(Math.abs(mean - metrics.heldout_psnr_db)).toBeLessThan(0.005);
    const global = 10 * Math.log10(1 / (mse.reduce((a, b) => a + b, 0) / mse.length));
    expect(Math.abs(global - metrics.heldout_psnr_global_db)).toBeLessThan(0.005);
  });

  it('lays the text out in a row, ink dark on light paper, spaces blank', async () => {
    const out = await engine.specimen(specimenInput({ source: { example: 0 }, text: 'Ab 9' }), ctx);
    expect([out.width, out.height]).toEqual([4 * 64, 64]);
    expect(out.changed).toBe(false);
    expect(out.after).toEqual(out.before);
    const img = grey(out.before, out.width, out.height);
    expect([img.width, img.height]).toEqual([256, 64]);
    // cell 2 (the space) is paper
    for (let y = 0; y < 64; y++)
      for (let x = 128; x < 192; x++) expect(img.data[y * 256 + x]).toBe(255);
    // other cells are 255 · (1 − ink) of a direct decode
    const style = await engine.styleOf({ example: 0 }, ctx);
    const ids = engine.charIds('Ab9');
    const drawn = await engine.decode(style, ids);
    [0, 1, 3].forEach((cell, k) => {
      for (let y = 0; y < 64; y++) {
        for (let x = 0; x < 64; x++) {
          const want = Math.round(
            255 * (1 - Math.min(1, Math.max(0, drawn[k * 4096 + y * 64 + x] ?? 0))),
          );
          const got = img.data[y * 256 + cell * 64 + x] ?? -1;
          if (got !== want) expect([cell, y, x, got]).toEqual([cell, y, x, want]);
        }
      }
    });
  });

  it('steers the style along a feature; "before" equals a run with no dials', async () => {
    const sae = styleSae();
    const source = { example: 1 };
    const plain = await engine.specimen(specimenInput({ source, text: 'Hamburg' }), ctx);
    const style = await engine.styleOf(source, ctx);
    const norms = sae.decoderNorms();
    let f = 0;
    for (let j = 1; j < sae.dSae; j++) if ((norms[j] ?? 0) > (norms[f] ?? 0)) f = j;
    const value = 4;
    const dialled = await engine.specimen(
      specimenInput({
        source,
        text: 'Hamburg',
        dials: [{ saeId: 'style-64', feature: f, method: 'add', value }],
      }),
      ctx,
    );
    expect(dialled.before).toEqual(plain.before);
    // after = the specimen of style + v · W_dec[f], whose SAE code holds at least as much of f
    const dir = sae.decoderRow(f);
    const steered = style.map((v, i) => v + value * (dir[i] ?? 0));
    expect(sae.encodeFeatures(steered, 1, [f]).values[0] ?? 0).toBeGreaterThanOrEqual(
      sae.encodeFeatures(style, 1, [f]).values[0] ?? 0,
    );
    const drawn = await engine.decode(steered, engine.charIds('Hamburg'));
    // the decoder responds to the dial (the fixture is barely trained, so maybe by less than
    // one 8-bit step: the PNGs are compared with the float decode below, not with each other)
    const unsteered = await engine.decode(style, engine.charIds('Hamburg'));
    expect(drawn.some((v, i) => v !== unsteered[i])).toBe(true);
    const after = grey(dialled.after, dialled.width, dialled.height).data;
    const W = 7 * 64;
    let worst = 0;
    for (let k = 0; k < 7; k++) {
      for (let y = 0; y < 64; y++) {
        for (let x = 0; x < 64; x++) {
          const want = 255 * (1 - Math.min(1, Math.max(0, drawn[k * 4096 + y * 64 + x] ?? 0)));
          worst = Math.max(worst, Math.abs((after[y * W + k * 64 + x] ?? 0) - want));
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-6);
    // dials at rest are no dials
    const rest = await engine.specimen(
      specimenInput({
        source,
        text: 'Hamburg',
        dials: [{ saeId: 'style-64', feature: f, method: 'scale', value: 1 }],
      }),
      ctx,
    );
    expect(rest.after).toEqual(plain.before);
  });

  it.skipIf(!existsSync(DEJAVU_SANS))('takes the style from a font file', async () => {
    const bytes = readFileSync(DEJAVU_SANS);
    const out = await engine.specimen(
      specimenInput({
        source: { blob: blob(bytes), name: 'DejaVuSans.ttf' },
        text: 'Orrery',
      }),
      ctx,
    );
    expect(out.width).toBe(6 * 64);
    // its style is the encoder's reading of the glyphs the font reader draws
    const glyphs = FontFace.parse(new Uint8Array(bytes)).renderAll(engine.encoderChars.join(''));
    const want = await engine.encode(glyphs, 1);
    const got = await engine.styleOf({ blob: blob(bytes) }, ctx);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i] ?? 0, 6));
  });

  it('rejects bad input clearly and keeps serving', async () => {
    const ok = async () => {
      const r = await engine.specimen(specimenInput({ source: { example: 0 }, text: 'ok' }), ctx);
      expect(r.width).toBe(128);
    };
    await rejectsWith(
      engine.specimen(specimenInput({ source: { example: 0 }, text: 'café!' }), ctx),
      'bad_input',
      /cannot draw "é", "!"/,
    );
    await ok();
    await rejectsWith(
      engine.specimen(
        specimenInput({
          source: { example: 0 },
          text: 'ab',
          dials: [{ saeId: 'latent-32', feature: 0, method: 'add', value: 1 }],
        }),
        ctx,
      ),
      'bad_input',
      /dial 0: no SAE "latent-32".*style-64/,
    );
    await rejectsWith(
      engine.specimen(
        specimenInput({
          source: { example: 0 },
          text: 'ab',
          dials: [
            { saeId: 'style-64', feature: 1, method: 'pin', value: 900, maxActivation: 0.05 },
          ],
        }),
        ctx,
      ),
      'bad_input',
      /dial 0 \(SAE "style-64"\).*max activation/,
    );
    await rejectsWith(
      engine.specimen(
        specimenInput({
          source: { example: 0 },
          text: 'ab',
          dials: [{ saeId: 'style-64', feature: 64, method: 'add', value: 1 }],
        }),
        ctx,
      ),
      'bad_input',
      /feature 64 is not in 0…63/,
    );
    await ok();
    const notFont = blob(Buffer.from('definitely not a font file'));
    await rejectsWith(
      engine.specimen(specimenInput({ source: { blob: notFont, name: 'x.ttf' }, text: 'ab' }), ctx),
      'bad_input',
      /"x.ttf": is not a TrueType or OpenType font/,
    );
    await rejectsWith(
      engine.specimen(specimenInput({ source: { example: 500 }, text: 'ab' }), ctx),
      'not_found',
      /500/,
    );
    await ok();
  });

  it('stops when the caller cancels', async () => {
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(
      engine.specimen(specimenInput({ source: { example: 2 }, text: 'x' }), { signal: ac.signal }),
      'cancelled',
      /cancelled/,
    );
  });
});

describe('GlyphEngine.load on a broken pack', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orrery-glyph-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names a style SAE whose d_in disagrees with style_dim', async () => {
    const copy = path.join(dir, 'wrong-din');
    cpSync(FIXTURE, copy, { recursive: true });
    const cfgPath = path.join(copy, 'sae/style/cfg.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    cfg.d_in = 31;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    await rejectsWith(
      GlyphEngine.load(await packAt(copy)),
      'bad_pack',
      /style-64.*d_in is 31.*width 32/,
    );
  });

  it('names encoder characters outside the charset', async () => {
    const copy = path.join(dir, 'bad-chars');
    cpSync(FIXTURE, copy, { recursive: true });
    const mPath = path.join(copy, 'manifest.json');
    const m = JSON.parse(readFileSync(mPath, 'utf8')) as { model: { encoder_chars: string } };
    m.model.encoder_chars = 'HO?';
    writeFileSync(mPath, JSON.stringify(m));
    await rejectsWith(
      GlyphEngine.load(await packAt(copy)),
      'bad_pack',
      /encoder_chars \? are not in the charset/,
    );
  });
});
