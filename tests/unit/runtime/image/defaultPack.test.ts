/**
 * The default emoji pack (models/emoji), when it has been built: a trained VAE, so a dial's
 * effect survives the round trip through pixels. Skipped when the pack is not there.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeInputs } from '../../../../preload/contract';
import { readPack } from '../../../../main/packs/packReader';
import type { EngineContext } from '../../../../main/runtime/engine';
import { ImageEngine } from '../../../../main/runtime/image/imageEngine';

const PACK = path.resolve(__dirname, '../../../../models/emoji');
const present = existsSync(path.join(PACK, 'manifest.json'));
const ctx: EngineContext = { signal: new AbortController().signal };

function pngChw(b64: string): Float32Array {
  const png = PNG.sync.read(Buffer.from(b64, 'base64'));
  const hw = png.width * png.height;
  const chw = new Float32Array(3 * hw);
  for (let p = 0; p < hw; p++) {
    for (let c = 0; c < 3; c++) chw[c * hw + p] = (png.data[p * 4 + c] ?? 0) / 255;
  }
  return chw;
}

describe.skipIf(!present)('ImageEngine on the default emoji pack', () => {
  let engine: ImageEngine;
  beforeAll(async () => {
    const r = await readPack(PACK);
    if (!r.ok) throw new Error(`${r.problem.file}: ${r.problem.message}`);
    engine = await ImageEngine.load(r.pack);
  }, 120_000);
  afterAll(async () => {
    await engine.dispose();
  });

  it('adding a latent feature raises that feature in the re-encoded image', async () => {
    const latent = engine.saes.find((s) => s.hook === 'latent');
    if (!latent) throw new Error('no latent SAE');
    const target = { example: 0 };
    // features taken from other examples, each at the strength it has there
    const trials: { feature: number; value: number }[] = [];
    for (let ex = 1; trials.length < 6 && ex < engine.info().examples.length; ex++) {
      const mu = await engine.encode(await engine.sourceImage({ example: ex }), 1);
      const codes = latent.sae.encodeSparse(mu, 1, 1);
      const feature = codes.indices[0] ?? -1;
      if (feature >= 0 && !trials.some((t) => t.feature === feature)) {
        trials.push({ feature, value: 2 * (codes.values[0] ?? 0) });
      }
    }
    expect(trials.length).toBeGreaterThanOrEqual(3);
    let up = 0;
    for (const t of trials) {
      const out = await engine.steer(
        runtimeInputs.imageSteer.parse({
          packId: 'p',
          source: target,
          dials: [{ saeId: latent.id, feature: t.feature, method: 'add', value: t.value }],
        }),
        ctx,
      );
      const before = await engine.encode(pngChw(out.beforePng), 1);
      const after = await engine.encode(pngChw(out.afterPng), 1);
      const fb = latent.sae.encodeFeatures(before, 1, [t.feature]).values[0] ?? 0;
      const fa = latent.sae.encodeFeatures(after, 1, [t.feature]).values[0] ?? 0;
      if (fa > fb) up++;
    }
    expect(up / trials.length).toBeGreaterThanOrEqual(0.8);
  });
});
