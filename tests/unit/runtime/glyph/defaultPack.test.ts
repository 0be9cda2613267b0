/**
 * The default typeface pack (models/glyphs), when it has been built: a trained model, so a
 * style dial's effect survives the round trip through the drawn glyphs. Skipped when the
 * pack is not there.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeInputs } from '../../../../preload/contract';
import { readPack } from '../../../../main/packs/packReader';
import type { EngineContext } from '../../../../main/runtime/engine';
import { GlyphEngine } from '../../../../main/runtime/glyph/glyphEngine';

const PACK = path.resolve(__dirname, '../../../../models/glyphs');
const present = existsSync(path.join(PACK, 'manifest.json'));
const ctx: EngineContext = { signal: new AbortController().signal };

/** A specimen strip (paper light) → the model's input [1, cells, S, S] with ink = 1. */
function stripToGlyphs(png: { data: Uint8Array; width: number }, size: number): Float32Array {
  const cells = png.width / size;
  const out = new Float32Array(cells * size * size);
  for (let k = 0; k < cells; k++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = png.data[(y * png.width + k * size + x) * 4] ?? 255;
        out[k * size * size + y * size + x] = 1 - v / 255;
      }
    }
  }
  return out;
}

describe.skipIf(!present)('GlyphEngine on the default typeface pack', () => {
  let engine: GlyphEngine;
  beforeAll(async () => {
    const r = await readPack(PACK);
    if (!r.ok) throw new Error(`${r.problem.file}: ${r.problem.message}`);
    engine = await GlyphEngine.load(r.pack);
  }, 120_000);
  afterAll(async () => {
    await engine.dispose();
  });

  it('adding a style feature moves the style read back from the drawn glyphs along it', async () => {
    const sae = engine.saes.find((s) => s.hook === 'style');
    if (!sae) throw new Error('no style SAE');
    const text = engine.encoderChars.join('');
    const source = { example: 0 };
    const trials: { feature: number; value: number }[] = [];
    const faces = engine.info().examples.length;
    for (let ex = 1; trials.length < 6 && ex < faces; ex++) {
      const style = await engine.styleOf({ example: ex }, ctx);
      const codes = sae.sae.encodeSparse(style, 1, 1);
      const feature = codes.indices[0] ?? -1;
      if (feature >= 0 && !trials.some((t) => t.feature === feature)) {
        trials.push({ feature, value: 2 * (codes.values[0] ?? 0) });
      }
    }
    expect(trials.length).toBeGreaterThanOrEqual(3);
    let up = 0;
    for (const t of trials) {
      const out = await engine.specimen(
        runtimeInputs.glyphSpecimen.parse({
          packId: 'p',
          source,
          text,
          dials: [{ saeId: sae.id, feature: t.feature, method: 'add', value: t.value }],
        }),
        ctx,
      );
      const before = await engine.encode(
        stripToGlyphs({ data: out.before, width: out.width }, engine.size),
        1,
      );
      const after = await engine.encode(
        stripToGlyphs({ data: out.after, width: out.width }, engine.size),
        1,
      );
      // a TopK code may still leave f out of the top k, so read the move along W_dec[f]
      const dir = sae.sae.decoderRow(t.feature);
      const along = after.reduce((a, v, i) => a + (v - (before[i] ?? 0)) * (dir[i] ?? 0), 0);
      if (along > 0) up++;
    }
    expect(up / trials.length).toBeGreaterThanOrEqual(0.8);
  });
});
