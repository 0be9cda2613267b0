import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrreryError, runtimeInputs } from '../../../../preload/contract';
import { readPack, type LoadedPack } from '../../../../main/packs/packReader';
import { ImageEngine } from '../../../../main/runtime/image/imageEngine';
import { BlobStore } from '../../../../main/blobs/blobStore';
import type { EngineContext } from '../../../../main/runtime/engine';

const FIXTURE = path.resolve(__dirname, '../../../fixtures/packs/emoji-tiny');
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

/** A contract input, parsed like the API parses it (defaults filled). */
function steerInput(x: Record<string, unknown>) {
  return runtimeInputs.imageSteer.parse({ packId: 'orrery-emoji-tiny', ...x });
}

/** RGBA bytes → float [3, H, W] in 0…1. */
function rgbaChw(rgba: Uint8Array): Float32Array {
  const hw = rgba.length / 4;
  const chw = new Float32Array(3 * hw);
  for (let p = 0; p < hw; p++) {
    for (let c = 0; c < 3; c++) chw[c * hw + p] = (rgba[p * 4 + c] ?? 0) / 255;
  }
  return chw;
}

function at<T>(list: readonly T[], i: number): T {
  const v = list[i];
  if (v === undefined) throw new Error(`no item ${i}`);
  return v;
}

function saeOf(id: string) {
  const s = engine.saes.find((x) => x.id === id);
  if (!s) throw new Error(`no SAE ${id}`);
  return s.sae;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
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

let engine: ImageEngine;
let metrics: {
  reconstruction: Record<'train' | 'val', { mse: number; psnr_db: number; images: number }>;
};

beforeAll(async () => {
  engine = await ImageEngine.load(await packAt(FIXTURE));
  metrics = JSON.parse(readFileSync(path.join(FIXTURE, 'metrics.json'), 'utf8')) as typeof metrics;
});
afterAll(async () => {
  await engine.dispose();
});

describe('ImageEngine on the emoji fixture', () => {
  it('describes the pack', () => {
    const info = engine.info();
    expect(info.kind).toBe('image-vae');
    expect(info.packId).toBe('orrery-emoji-tiny');
    expect(info.charset).toBeNull();
    expect(info.saes.map((s) => [s.id, s.hook, s.dIn])).toEqual([
      ['latent-32', 'latent', 8],
      ['spatial-32', 'decoder.hook_spatial', 8],
    ]);
    const lines = readFileSync(path.join(FIXTURE, 'examples.jsonl'), 'utf8').trim().split('\n');
    expect(info.examples).toHaveLength(lines.length);
    expect(info.examples[0]?.name).toBe((JSON.parse(lines[0] ?? '{}') as { name: string }).name);
    expect(info.loadMs).toBeGreaterThan(0);
  });

  it('reproduces the recipe reconstruction figures through ONNX (parity by recomputation)', async () => {
    // metrics.json holds the torch model's mean per-image MSE of decode(mu) on the same
    // 8-bit images as examples.png; the runtime path (sheet → tensor → encoder → head →
    // tail) must give the same numbers.
    const mse: Record<string, number[]> = { train: [], val: [] };
    for (const ex of engine.info().examples) {
      const x = await engine.sourceImage({ example: ex.index });
      const y = await engine.decode(await engine.encode(x, 1), 1);
      let s = 0;
      for (let i = 0; i < x.length; i++) s += ((x[i] ?? 0) - (y[i] ?? 0)) ** 2;
      mse[String(ex.meta.split)]?.push(s / x.length);
    }
    for (const split of ['train', 'val'] as const) {
      const list = mse[split] ?? [];
      const ref = metrics.reconstruction[split];
      expect(list).toHaveLength(ref.images);
      const mean = list.reduce((a, b) => a + b, 0) / list.length;
      expect(Math.abs(mean - ref.mse)).toBeLessThan(1e-5);
      const psnr = list.reduce((a, v) => a + 10 * Math.log10(1 / v), 0) / list.length;
      expect(Math.abs(psnr - ref.psnr_db)).toBeLessThan(1e-3);
    }
  });

  it('gives "before" as the plain decode, equal to a run with no dials', async () => {
    const none = await engine.steer(steerInput({ source: { example: 3 } }), ctx);
    expect(none.changed).toBe(false);
    expect(none.after).toEqual(none.before);
    expect(none.metrics).toEqual({ meanAbs: 0, changedShare: 0, ssim: 1, ssimOver: 'image' });
    expect([none.width, none.height]).toEqual([64, 64]);
    const mu = await engine.encode(await engine.sourceImage({ example: 3 }), 1);
    const plain = rgbaChw(none.before);
    const direct = (await engine.decode(mu, 1)).map(
      (v) => Math.round(Math.min(1, Math.max(0, v)) * 255) / 255,
    );
    expect(maxAbsDiff(plain, direct)).toBeLessThan(1e-6);
    const dialled = await engine.steer(
      steerInput({
        source: { example: 3 },
        dials: [{ saeId: 'latent-32', feature: 0, method: 'add', value: 4 }],
      }),
      ctx,
    );
    expect(dialled.before).toEqual(none.before);
    expect(dialled.changed).toBe(true);
    expect(dialled.after).not.toEqual(none.before);
    expect(dialled.metrics.meanAbs).toBeGreaterThan(0);
    expect(dialled.metrics.ssim).toBeLessThan(1);
    // dials at rest change nothing
    const rest = await engine.steer(
      steerInput({
        source: { example: 3 },
        dials: [
          { saeId: 'latent-32', feature: 0, method: 'add', value: 0 },
          { saeId: 'spatial-32', feature: 5, method: 'scale', value: 1 },
        ],
      }),
      ctx,
    );
    expect(rest.after).toEqual(none.before);
  });

  it('moves the latent and the image in the direction of a latent feature', async () => {
    const latent = saeOf('latent-32');
    const source = { example: 1 };
    const features = [0, 5, 11, 17];
    const deltas: Float32Array[] = [];
    const steps: Float32Array[] = [];
    let increased = 0;
    for (const f of features) {
      const dir = latent.decoderRow(f);
      const r = await engine.steerTensors(
        steerInput({
          source,
          dials: [{ saeId: 'latent-32', feature: f, method: 'add', value: 3 }],
        }),
        ctx,
      );
      expect(r.changed).toBe(true);
      // z = mu + 3 · W_dec[f]
      r.z.forEach((v, i) => expect(v).toBeCloseTo((r.mu[i] ?? 0) + 3 * (dir[i] ?? 0), 5));
      // the SAE reads at least as much of the feature in z as in mu
      const fMu = latent.encodeFeatures(r.mu, 1, [f]).values[0] ?? 0;
      const fZ = latent.encodeFeatures(r.z, 1, [f]).values[0] ?? 0;
      expect(fZ).toBeGreaterThanOrEqual(fMu);
      if (fZ > fMu) increased++;
      // after is decode(z)
      const dz = await engine.decode(r.z, 1);
      expect(maxAbsDiff(r.after, dz)).toBeLessThan(1e-5);
      deltas.push(r.after.map((v, i) => v - (r.before[i] ?? 0)));
      const step = await engine.decode(
        r.mu.map((v, i) => v + (dir[i] ?? 0)),
        1,
      );
      steps.push(step.map((v, i) => v - (r.before[i] ?? 0)));
    }
    expect(increased).toBeGreaterThan(0);
    // the image change of each dial points along that feature's own decoder response more
    // than along any other feature's
    const cos = (a: Float32Array, b: Float32Array) => {
      let d = 0;
      let na = 0;
      let nb = 0;
      a.forEach((v, i) => {
        d += v * (b[i] ?? 0);
        na += v * v;
        nb += (b[i] ?? 0) ** 2;
      });
      return d / Math.sqrt(na * nb);
    };
    features.forEach((_, k) => {
      const own = cos(at(deltas, k), at(steps, k));
      expect(own).toBeGreaterThan(0.5);
      features.forEach((__, j) => {
        if (j !== k) expect(own).toBeGreaterThan(cos(at(deltas, k), at(steps, j)));
      });
    });
  });

  it('confines a masked spatial dial to the painted positions and mostly to that region', async () => {
    const { height: H, width: W, channels: C } = engine.geometry.spatial;
    const mask = new Array<number>(H * W).fill(0);
    for (let y = 0; y < H / 2; y++) for (let x = 0; x < W / 2; x++) mask[y * W + x] = 1; // top-left
    const spatial = saeOf('spatial-32');
    const norms = spatial.decoderNorms();
    let f = 0;
    for (let j = 1; j < spatial.dSae; j++) if ((norms[j] ?? 0) > (norms[f] ?? 0)) f = j;
    const dial = { saeId: 'spatial-32', feature: f, method: 'add', value: 8 };
    const r = await engine.steerTensors(
      steerInput({ source: { example: 2 }, dials: [dial], mask }),
      ctx,
    );
    // in the map [C, H, W]: exactly the masked positions moved, by 8 · W_dec[f]
    const dir = spatial.decoderRow(f);
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < H * W; p++) {
        const d = (r.spatialAfter[c * H * W + p] ?? 0) - (r.spatialBefore[c * H * W + p] ?? 0);
        expect(d).toBeCloseTo(mask[p] ? 8 * (dir[c] ?? 0) : 0, 4);
      }
    }
    // a soft mask scales each position's change by its value
    const soft = mask.map((v, p) => (v ? 0.25 + 0.5 * (p % 2) : 0));
    const rs = await engine.steerTensors(
      steerInput({ source: { example: 2 }, dials: [dial], mask: soft }),
      ctx,
    );
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < H * W; p++) {
        const d = (rs.spatialAfter[c * H * W + p] ?? 0) - (rs.spatialBefore[c * H * W + p] ?? 0);
        expect(d).toBeCloseTo((soft[p] ?? 0) * 8 * (dir[c] ?? 0), 4);
      }
    }
    // in the image: the change sits in the top-left quarter, plus one map cell of the tail's reach
    const S = engine.geometry.size;
    const cell = S / H;
    const changeIn = (
      a: Float32Array,
      b: Float32Array,
      inRegion: (y: number, x: number) => boolean,
    ) => {
      let sum = 0;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < S; y++) {
          for (let x = 0; x < S; x++) {
            if (!inRegion(y, x)) continue;
            const i = c * S * S + y * S + x;
            sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
          }
        }
      }
      return sum;
    };
    const total = changeIn(r.before, r.after, () => true);
    expect(total).toBeGreaterThan(0);
    const quarter = (y: number, x: number) => y < S / 2 && x < S / 2;
    // the tail's convolutions reach about two map cells beyond a position
    const near = (y: number, x: number) => y < S / 2 + 2 * cell && x < S / 2 + 2 * cell;
    expect(changeIn(r.before, r.after, quarter) / total).toBeGreaterThan(0.6);
    expect(changeIn(r.before, r.after, near) / total).toBeGreaterThan(0.98);
    // beyond that reach nothing changes; without the mask, it does
    const far = (y: number, x: number) => y >= S / 2 + 3 * cell || x >= S / 2 + 3 * cell;
    expect(changeIn(r.before, r.after, far)).toBeLessThan(1e-4);
    const all = await engine.steerTensors(
      steerInput({ source: { example: 2 }, dials: [dial] }),
      ctx,
    );
    expect(changeIn(all.before, all.after, far)).toBeGreaterThan(0.1 * total);
  });

  it('steers with latent and spatial dials together (sum of both)', async () => {
    const both = await engine.steer(
      steerInput({
        source: { example: 0 },
        dials: [
          { saeId: 'latent-32', feature: 2, method: 'add', value: 2 },
          { saeId: 'spatial-32', feature: 1, method: 'pin', value: 3 },
        ],
      }),
      ctx,
    );
    const onlyLatent = await engine.steer(
      steerInput({
        source: { example: 0 },
        dials: [{ saeId: 'latent-32', feature: 2, method: 'add', value: 2 }],
      }),
      ctx,
    );
    expect(both.before).toEqual(onlyLatent.before);
    expect(both.after).not.toEqual(onlyLatent.after);
  });

  it('lists the active features of the latent and of every spatial position', async () => {
    const source = { example: 4 };
    const lat = await engine.active(
      runtimeInputs.imageActive.parse({ packId: 'p', saeId: 'latent-32', source, topK: 3 }),
      ctx,
    );
    expect(lat.rows).toHaveLength(1);
    const mu = await engine.encode(await engine.sourceImage(source), 1);
    const sae = saeOf('latent-32');
    const f = sae.encode(mu, 1);
    const want = [...f]
      .map((value, feature) => ({ feature, value }))
      .filter((x) => x.value > 0)
      .sort((a, b) => b.value - a.value)
      .slice(0, 3);
    expect(lat.rows[0]?.features.map((x) => x.feature)).toEqual(want.map((x) => x.feature));
    const sp = await engine.active(
      runtimeInputs.imageActive.parse({ packId: 'p', saeId: 'spatial-32', source, topK: 2 }),
      ctx,
    );
    const { height: H, width: W } = engine.geometry.spatial;
    expect(sp.rows).toHaveLength(H * W);
    expect(sp.rows[W + 2]?.label).toBe('y1 x2');
    for (const r of sp.rows) expect(r.features.length).toBeLessThanOrEqual(2);
    const strongest = sp.strongest;
    for (let i = 1; i < strongest.length; i++) {
      expect(at(strongest, i - 1).value).toBeGreaterThanOrEqual(at(strongest, i).value);
    }
    const maxOf = (feat: number) =>
      Math.max(
        ...sp.rows.flatMap((r) => r.features.filter((x) => x.feature === feat).map((x) => x.value)),
      );
    for (const s of strongest) expect(s.value).toBe(maxOf(s.feature));
  });

  it('reads a user image of another size and format', async () => {
    // a 100 × 60 PNG with a transparent border: pads, composites, shrinks
    const png = new PNG({ width: 100, height: 60 });
    for (let y = 0; y < 60; y++) {
      for (let x = 0; x < 100; x++) {
        const o = (y * 100 + x) * 4;
        const inside = x > 20 && x < 80 && y > 10 && y < 50;
        png.data.set(inside ? [250, 200, 0, 255] : [0, 0, 0, 0], o);
      }
    }
    const hash = blob(PNG.sync.write(png));
    const out = await engine.steer(steerInput({ source: { blob: hash, name: 'sun.png' } }), ctx);
    expect(out.width).toBe(64);
    const x = await engine.sourceImage({ blob: hash }, ctx);
    expect(x[0]).toBeCloseTo(0.5, 6); // top-left corner: padded background
    expect(x[32 * 64 + 32]).toBeCloseTo(250 / 255, 5); // centre: the yellow, red channel
  });

  it('reads an uploaded file once: later dial ticks on the same hash reuse its latent', async () => {
    const png = new PNG({ width: 40, height: 40 });
    png.data.fill(200);
    const hash = blob(PNG.sync.write(png));
    const reads: string[] = [];
    const counting: EngineContext = {
      signal: new AbortController().signal,
      blobFile: (h) => {
        reads.push(h);
        return blobs.require(h);
      },
    };
    const source = { blob: hash, name: 'grey.png' };
    const first = await engine.steer(steerInput({ source }), counting);
    for (const value of [0.5, 1, 1.5]) {
      const dials = [{ saeId: 'latent-32', feature: 3, method: 'add' as const, value }];
      await engine.steer(steerInput({ source, dials }), counting);
    }
    expect(reads).toEqual([hash]);
    // Another file is read (once), and coming back to the first reads it again.
    const other = blob(PNG.sync.write(new PNG({ width: 8, height: 8 })));
    await engine.steer(steerInput({ source: { blob: other } }), counting);
    const again = await engine.steer(steerInput({ source }), counting);
    expect(reads).toEqual([hash, other, hash]);
    expect(again.width).toBe(first.width);
  });

  it('rejects bad input clearly and keeps serving', async () => {
    const good = steerInput({ source: { example: 0 } });
    const ok = async () => {
      const r = await engine.steer(good, ctx);
      expect(r.before.length).toBe(64 * 64 * 4);
    };
    const notImage = blob(Buffer.from('just some text, not pixels'));
    await rejectsWith(
      engine.steer(steerInput({ source: { blob: notImage, name: 'notes.txt' } }), ctx),
      'bad_input',
      /"notes.txt": is not an image/,
    );
    await ok();
    const png = PNG.sync.write(new PNG({ width: 64, height: 64 }));
    const truncated = blob(png.subarray(0, png.length - 40));
    await rejectsWith(
      engine.steer(steerInput({ source: { blob: truncated } }), ctx),
      'bad_input',
      /PNG/,
    );
    await ok();
    await rejectsWith(
      engine.steer(
        steerInput({
          source: { example: 0 },
          dials: [{ saeId: 'nope', feature: 0, method: 'add', value: 1 }],
        }),
        ctx,
      ),
      'bad_input',
      /dial 0: no SAE "nope".*latent-32, spatial-32/,
    );
    await rejectsWith(
      engine.steer(
        steerInput({
          source: { example: 0 },
          dials: [
            { saeId: 'latent-32', feature: 0, method: 'add', value: 1 },
            { saeId: 'latent-32', feature: 99, method: 'add', value: 1 },
          ],
        }),
        ctx,
      ),
      'bad_input',
      /dial 1 \(SAE "latent-32"\): feature 99 is not in 0…31/,
    );
    await rejectsWith(
      engine.steer(
        steerInput({
          source: { example: 0 },
          dials: [
            { saeId: 'spatial-32', feature: 0, method: 'add', value: 500, maxActivation: 0.01 },
          ],
        }),
        ctx,
      ),
      'bad_input',
      /max activation/,
    );
    await rejectsWith(
      engine.steer(
        steerInput({
          source: { example: 0 },
          dials: [{ saeId: 'latent-32', feature: 0, method: 'scale', value: 50_000 }],
        }),
        ctx,
      ),
      'bad_input',
      /factor/,
    );
    await rejectsWith(
      engine.steer(
        steerInput({
          source: { example: 0 },
          dials: [{ saeId: 'spatial-32', feature: 0, method: 'add', value: 1 }],
          mask: [1, 0, 1],
        }),
        ctx,
      ),
      'bad_input',
      /mask has 3 entries.*8 × 8 = 64/,
    );
    await rejectsWith(
      engine.steer(steerInput({ source: { example: 999 } }), ctx),
      'not_found',
      /999/,
    );
    await rejectsWith(
      engine.active(
        runtimeInputs.imageActive.parse({ packId: 'p', saeId: 'nope', source: { example: 0 } }),
        ctx,
      ),
      'bad_input',
      /no SAE "nope"/,
    );
    // the largest value the contract lets through, without a max activation: a finite image
    const huge = await engine.steer(
      steerInput({
        source: { example: 0 },
        dials: [{ saeId: 'latent-32', feature: 0, method: 'add', value: 1e6 }],
      }),
      ctx,
    );
    expect(huge.after).not.toEqual(huge.before);
    await ok();
  });

  it('stops when the caller cancels', async () => {
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(
      engine.steer(steerInput({ source: { example: 5 } }), { signal: ac.signal }),
      'cancelled',
      /cancelled/,
    );
  });
});

describe('ImageEngine.load on a broken pack', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orrery-image-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names an SAE whose d_in disagrees with the model', async () => {
    const copy = path.join(dir, 'wrong-din');
    cpSync(FIXTURE, copy, { recursive: true });
    const cfgPath = path.join(copy, 'sae/decoder.hook_spatial/cfg.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    cfg.d_in = 9;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    await rejectsWith(
      ImageEngine.load(await packAt(copy)),
      'bad_pack',
      /spatial-32.*d_in is 9.*width 8/,
    );
  });

  it('names an SAE on a hook the model does not have', async () => {
    const copy = path.join(dir, 'wrong-hook');
    cpSync(FIXTURE, copy, { recursive: true });
    const mPath = path.join(copy, 'manifest.json');
    const m = JSON.parse(readFileSync(mPath, 'utf8')) as { saes: { hook: string }[] };
    at(m.saes, 0).hook = 'encoder.hook_conv1';
    writeFileSync(mPath, JSON.stringify(m));
    await rejectsWith(ImageEngine.load(await packAt(copy)), 'bad_pack', /encoder.hook_conv1/);
  });

  it('names a graph that is not ONNX', async () => {
    const copy = path.join(dir, 'bad-onnx');
    cpSync(FIXTURE, copy, { recursive: true });
    writeFileSync(path.join(copy, 'decoder_tail.onnx'), 'not a model');
    await rejectsWith(ImageEngine.load(await packAt(copy)), 'bad_pack', /decoder_tail.onnx/);
  });
});
