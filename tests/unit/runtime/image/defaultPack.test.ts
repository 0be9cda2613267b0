/**
 * The default emoji pack (models/emoji), when it has been built: a trained VAE, so a dial's
 * effect survives the round trip through pixels. Skipped when the pack is not there.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeInputs } from '../../../../preload/contract';
import { readPack } from '../../../../main/packs/packReader';
import type { EngineContext } from '../../../../main/runtime/engine';
import { nchwToRows } from '../../../../main/sae';
import { ImageEngine } from '../../../../main/runtime/image/imageEngine';

const PACK = path.resolve(__dirname, '../../../../models/emoji');
const present = existsSync(path.join(PACK, 'manifest.json'));
const ctx: EngineContext = { signal: new AbortController().signal };

/** RGBA bytes (as the engine answers) → float [3, H, W] in 0…1. */
function rgbaChw(rgba: Uint8Array): Float32Array {
  const hw = rgba.length / 4;
  const chw = new Float32Array(3 * hw);
  for (let p = 0; p < hw; p++) {
    for (let c = 0; c < 3; c++) chw[c * hw + p] = (rgba[p * 4 + c] ?? 0) / 255;
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

  it('reproduces the recipe held-out reconstruction figures (parity by recomputation)', async () => {
    const metrics = JSON.parse(readFileSync(path.join(PACK, 'metrics.json'), 'utf8')) as {
      reconstruction: { val: { mse: number; psnr_db: number; images: number } };
    };
    const val = engine.info().examples.filter((x) => x.meta.split === 'val');
    const n = 3 * engine.geometry.size ** 2;
    const mse: number[] = [];
    for (let s = 0; s < val.length; s += 64) {
      const chunk = val.slice(s, s + 64);
      const x = new Float32Array(chunk.length * n);
      for (let k = 0; k < chunk.length; k++) {
        x.set(await engine.sourceImage({ example: chunk[k]?.index ?? 0 }), k * n);
      }
      const y = await engine.decode(await engine.encode(x, chunk.length), chunk.length);
      for (let k = 0; k < chunk.length; k++) {
        let q = 0;
        for (let i = k * n; i < (k + 1) * n; i++) q += ((x[i] ?? 0) - (y[i] ?? 0)) ** 2;
        mse.push(q / n);
      }
    }
    const ref = metrics.reconstruction.val;
    expect(mse.length).toBe(ref.images);
    expect(Math.abs(mse.reduce((a, b) => a + b, 0) / mse.length - ref.mse)).toBeLessThan(1e-5);
    const psnr = mse.reduce((a, v) => a + 10 * Math.log10(1 / v), 0) / mse.length;
    expect(Math.abs(psnr - ref.psnr_db)).toBeLessThan(1e-3);
  }, 180_000);

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
      const before = await engine.encode(rgbaChw(out.before), 1);
      const after = await engine.encode(rgbaChw(out.after), 1);
      const fb = latent.sae.encodeFeatures(before, 1, [t.feature]).values[0] ?? 0;
      const fa = latent.sae.encodeFeatures(after, 1, [t.feature]).values[0] ?? 0;
      if (fa > fb) up++;
    }
    expect(up / trials.length).toBeGreaterThanOrEqual(0.8);
  }, 60_000);

  it('a painted spatial feature grows where it was painted, read back from the image', async () => {
    const spatial = engine.saes.find((s) => s.hook !== 'latent');
    if (!spatial) throw new Error('no spatial SAE');
    const { channels: C, height: H, width: W } = engine.geometry.spatial;
    const mask = new Array<number>(H * W).fill(0);
    for (let y = 0; y < H / 2; y++) for (let x = 0; x < W / 2; x++) mask[y * W + x] = 1;
    const inMask = [...mask.keys()].filter((p) => mask[p]);
    /** Mean activation of feature f over the masked positions of an image's spatial map. */
    const readBack = async (rgba: Uint8Array, f: number) => {
      const mu = await engine.encode(rgbaChw(rgba), 1);
      const rows = nchwToRows(await engine.runHead(mu, 1), 1, C, H, W);
      const sub = new Float32Array(inMask.length * C);
      inMask.forEach((p, k) => sub.set(rows.subarray(p * C, (p + 1) * C), k * C));
      const v = spatial.sae.encodeFeatures(sub, inMask.length, [f]).values;
      return v.reduce((a, b) => a + b, 0) / inMask.length;
    };
    // features strongest somewhere in other examples, at that strength
    const trials: { feature: number; value: number }[] = [];
    for (let ex = 1; trials.length < 5 && ex < 200; ex += 7) {
      const act = await engine.active(
        runtimeInputs.imageActive.parse({
          packId: 'p',
          saeId: spatial.id,
          source: { example: ex },
          topK: 1,
        }),
        ctx,
      );
      const top = act.strongest[0];
      if (top && !trials.some((t) => t.feature === top.feature)) {
        trials.push({ feature: top.feature, value: 2 * top.value });
      }
    }
    let up = 0;
    for (const t of trials) {
      const out = await engine.steer(
        runtimeInputs.imageSteer.parse({
          packId: 'p',
          source: { example: 0 },
          dials: [{ saeId: spatial.id, feature: t.feature, method: 'add', value: t.value }],
          mask,
        }),
        ctx,
      );
      if ((await readBack(out.after, t.feature)) > (await readBack(out.before, t.feature))) up++;
    }
    expect(trials.length).toBe(5);
    expect(up).toBeGreaterThanOrEqual(4);
  }, 60_000);
});
