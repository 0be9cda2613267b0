/**
 * Selections that act, with real parts: the fixture packs' ONNX graphs and SAEs in the
 * inference worker, the sessions database in its worker. Ranking and separation are checked
 * against the activations the worker reports feature by feature; the composite dial against
 * its definition; saved selections across a restart.
 */
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { composeApp, type OrreryApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import { compositeDirection, loadSae, steer, SteeringError, type Sae } from '../../../main/sae';
import { spreadIndices } from '../../../main/runtime/selectionMath';
import type { CallName, CallOutput } from '../../../preload/contract';
import { cleanupTmp, fixturePacks, repoRoot, tmpDir } from '../../support/tmp';

const apps: OrreryApp[] = [];
const TEXT = 'orrery-text-tiny';
const EMOJI = 'orrery-emoji-tiny';

function start(home: string): OrreryApp {
  const app = composeApp(resolveConfig('headless', repoRoot, { home, models: fixturePacks }));
  apps.push(app);
  return app;
}

function caller(app: OrreryApp) {
  return async <K extends CallName>(name: K, input: unknown): Promise<CallOutput<K>> => {
    const r = await app.dispatcher.dispatch(name, input);
    if (!r.ok) throw new Error(`${name}: ${r.error.code}: ${r.error.message}`);
    return r.value as CallOutput<K>;
  };
}

afterEach(async () => {
  for (const a of apps.splice(0)) await a.dispose();
});

describe('composite direction', () => {
  let sae: Sae;
  beforeAll(async () => {
    sae = await loadSae(path.join(fixturePacks, 'text-tiny', 'sae', 'blocks.1.hook_resid_post'));
  });

  it('is the weighted sum of member rows, as long as their weighted mean length', () => {
    const members = [
      { feature: 3, weight: 2 },
      { feature: 9, weight: 1 },
      { feature: 20, weight: -0.5 },
    ];
    const u = compositeDirection(sae, members);
    const norms = sae.decoderNorms();
    const sum = new Float64Array(sae.dIn);
    for (const m of members) {
      const row = sae.decoderRow(m.feature);
      for (let c = 0; c < sae.dIn; c++) sum[c] = (sum[c] ?? 0) + m.weight * (row[c] ?? 0);
    }
    const len = Math.hypot(...sum);
    const want = (2 * (norms[3] ?? 0) + (norms[9] ?? 0) + 0.5 * (norms[20] ?? 0)) / 3.5;
    expect(Math.hypot(...u)).toBeCloseTo(want, 5);
    for (let c = 0; c < sae.dIn; c++) expect(u[c]).toBeCloseTo(((sum[c] ?? 0) / len) * want, 5);
  });

  it('with one member steers as that feature alone; only as an add', () => {
    const h = new Float32Array(sae.dIn * 2).map((_, i) => Math.sin(i));
    const plain = steer(sae, h, 2, [{ feature: 7, method: 'add', value: 3 }]);
    const one = steer(sae, h, 2, [
      { feature: 7, method: 'add', value: 3, members: [{ feature: 7, weight: 0.4 }] },
    ]);
    for (let i = 0; i < h.length; i++)
      expect(one.steered[i]).toBeCloseTo(plain.steered[i] ?? NaN, 5);
    expect(() =>
      steer(sae, h, 2, [
        { feature: 7, method: 'pin', value: 3, members: [{ feature: 7, weight: 1 }] },
      ]),
    ).toThrow(SteeringError);
    expect(() =>
      steer(sae, h, 2, [
        { feature: 7, method: 'add', value: 3, members: [{ feature: 99, weight: 1 }] },
      ]),
    ).toThrow(/not in 0…63/);
  });
});

describe('selections through the API', () => {
  afterEach(() => cleanupTmp());

  it('ranks a selection by its activation on the input, as each feature reads there', async () => {
    const call = caller(start(tmpDir()));
    const features = Array.from({ length: 32 }, (_, i) => i);
    const out = await call('selection.activations', {
      packId: EMOJI,
      saeId: 'spatial-32',
      input: { source: { example: 3 } },
      features,
    });
    expect(out.total).toBe(32);
    expect(out.rows).toBe(64); // 8 × 8 positions
    // each feature's strongest value is the strongest image.active reports for it
    const active = await call('image.active', {
      packId: EMOJI,
      saeId: 'spatial-32',
      source: { example: 3 },
      topK: 32,
    });
    const strongest = new Map(active.strongest.map((s) => [s.feature, s.value]));
    for (const r of out.ranked) expect(r.max).toBeCloseTo(strongest.get(r.feature) ?? 0, 5);
    expect(out.active).toBe(strongest.size);
    const maxes = out.ranked.map((r) => r.max);
    expect(maxes).toEqual([...maxes].sort((a, b) => b - a));
    expect(out.ranked[0]?.max).toBeGreaterThan(0);
  });

  it('separates examples by mean activation, like minus away, each example once', async () => {
    const call = caller(start(tmpDir()));
    const all = Array.from({ length: 64 }, (_, i) => i);
    const means = async (text: string) => {
      const r = await call('selection.activations', {
        packId: TEXT,
        saeId: 'res1-64',
        input: { text },
        features: all,
        limit: 64,
      });
      return new Map(r.ranked.map((x) => [x.feature, x.mean]));
    };
    const like = ['And the LORD said unto Moses, Go in', 'Thou shalt not bear false witness'];
    const away = ['A hacker is a person who enjoys the intellectual challenge'];
    const sep = await call('selection.separate', {
      packId: TEXT,
      saeId: 'res1-64',
      like: like.map((text) => ({ text })),
      away: away.map((text) => ({ text })),
      top: 64,
    });
    expect(sep.baseline).toBe('away');
    const [l0, l1, a0] = await Promise.all([
      means(like[0] ?? ''),
      means(like[1] ?? ''),
      means(away[0] ?? ''),
    ]);
    for (const f of sep.features) {
      const want =
        ((l0.get(f.feature) ?? 0) + (l1.get(f.feature) ?? 0)) / 2 - (a0.get(f.feature) ?? 0);
      expect(f.score).toBeCloseTo(want, 5);
      expect(f.score).toBeGreaterThan(0);
    }
    const scores = sep.features.map((f) => f.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    // every feature with a positive difference is listed
    const positive = all.filter((j) => {
      const d = ((l0.get(j) ?? 0) + (l1.get(j) ?? 0)) / 2 - (a0.get(j) ?? 0);
      return d > 1e-6;
    });
    expect(new Set(sep.features.map((f) => f.feature))).toEqual(new Set(positive));
  });

  it('without away examples compares with an evenly spread sample of the pack', async () => {
    const call = caller(start(tmpDir()));
    const sep = await call('selection.separate', {
      packId: EMOJI,
      saeId: 'latent-32',
      like: [{ source: { example: 2 } }],
      top: 4,
    });
    expect(sep.baseline).toBe('corpus');
    expect(sep.baselineExamples).toBe(24); // the fixture has 24 examples, fewer than the sample
    expect(sep.features.length).toBeGreaterThan(0);
    expect(sep.typical).toBeGreaterThan(0);
    expect(spreadIndices(100, 4)).toEqual([12, 37, 62, 87]);
  });

  it('reads a person’s uploaded picture among the examples', async () => {
    const call = caller(start(tmpDir()));
    const png = new PNG({ width: 32, height: 32 });
    for (let i = 0; i < 32 * 32; i++) png.data.set([230, 20, 30, 255], i * 4);
    const { hash } = await call('blobs.put', { bytes: new Uint8Array(PNG.sync.write(png)) });
    const sep = await call('selection.separate', {
      packId: EMOJI,
      saeId: 'latent-32',
      like: [{ source: { blob: hash, name: 'red.png' } }],
      away: [{ source: { example: 0 } }],
      top: 32,
    });
    const own = await call('selection.activations', {
      packId: EMOJI,
      saeId: 'latent-32',
      input: { source: { blob: hash } },
      features: sep.features.map((f) => f.feature),
      limit: 32,
    });
    // the latent is one row: its mean is its value, which is what `like` averaged
    const byFeature = new Map(own.ranked.map((r) => [r.feature, r.mean]));
    for (const f of sep.features) expect(f.like).toBeCloseTo(byFeature.get(f.feature) ?? -1, 5);
  });

  it('ranks and separates on a typeface pack (its style)', async () => {
    const call = caller(start(tmpDir()));
    const ranked = await call('selection.activations', {
      packId: 'orrery-glyphs-tiny',
      saeId: 'style-64',
      input: { source: { example: 1 } },
      features: [0, 1, 2, 3, 4, 5, 6, 7],
    });
    expect(ranked.rows).toBe(1);
    expect(ranked.total).toBe(8);
    const sep = await call('selection.separate', {
      packId: 'orrery-glyphs-tiny',
      saeId: 'style-64',
      like: [{ source: { example: 1 } }],
      away: [{ source: { example: 2 } }],
    });
    expect(sep.baseline).toBe('away');
    expect(sep.features.every((f) => f.score > 0)).toBe(true);
    await expect(
      call('selection.activations', {
        packId: 'orrery-glyphs-tiny',
        saeId: 'style-64',
        input: { text: 'Ab' },
        features: [1],
      }),
    ).rejects.toThrow(/bad_input: a glyph-cvae pack reads pictures or faces, not text/);
  });

  it('steers with a composite dial on image and text packs', async () => {
    const call = caller(start(tmpDir()));
    const members = [
      { feature: 5, weight: 1 },
      { feature: 9, weight: 2 },
    ];
    const img = await call('image.steer', {
      packId: EMOJI,
      source: { example: 0 },
      dials: [{ saeId: 'latent-32', feature: 9, method: 'add', value: 6, members }],
    });
    expect(img.changed).toBe(true);
    expect(img.metrics.meanAbs).toBeGreaterThan(0);
    const text = await call('text.generate', {
      packId: TEXT,
      prompt: 'The Lord',
      dials: [{ saeId: 'res1-64', feature: 9, method: 'add', value: 30, members }],
      sampling: { maxTokens: 8 },
    });
    expect(text.after.tokenIds).not.toEqual(text.before.tokenIds);
  });

  it('keeps saved selections across a restart, by pack and name', async () => {
    const home = tmpDir();
    let call = caller(start(home));
    const members = [{ feature: 5, weight: 0.5 }];
    await call('selection.save', {
      packId: TEXT,
      saeId: 'res1-64',
      name: 'Psalms',
      features: [5, 9, 12],
      members,
      origin: 'lasso',
    });
    await call('selection.save', {
      packId: TEXT,
      saeId: 'res1-64',
      name: 'Temp',
      features: [1],
      origin: 'search',
    });
    expect(await call('selection.remove', { packId: TEXT, name: 'Temp' })).toEqual({
      removed: true,
    });
    for (const a of apps.splice(0)) await a.dispose();
    call = caller(start(home));
    const list = await call('selection.list', { packId: TEXT });
    expect(list.map((s) => [s.name, s.features, s.members, s.origin])).toEqual([
      ['Psalms', [5, 9, 12], members, 'lasso'],
    ]);
    expect(await call('selection.list', { packId: EMOJI })).toEqual([]);
  });
});
