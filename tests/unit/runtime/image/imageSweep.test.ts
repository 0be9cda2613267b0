/**
 * A drag sweep (image.sweep) through the dispatcher, the real inference worker and real ONNX
 * sessions: each frame is the live image.steer run of the same dials (the page draws one in
 * place of the other), on the emoji fixture and, when it has been built, the default emoji
 * pack. The sweep decodes up to 4 values in one head and one tail run where a live run
 * decodes one; on these packs onnxruntime gives the same bytes either way, so the frames are compared
 * byte for byte and the metrics exactly.
 */
import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeApp, type OrreryApp } from '../../../../main/app/compose';
import { resolveConfig } from '../../../../main/app/config';
import {
  sweepDials,
  type DialInput,
  type ImageFrameEvent,
  type ImageSweepEvent,
  type SweptDial,
} from '../../../../preload/contract';
import { cleanupTmp, fixturePacks, repoRoot, tmpDir } from '../../../support/tmp';

const shipped = path.join(repoRoot, 'models', 'emoji');
const packs = [
  { dir: path.join(fixturePacks, 'emoji-tiny'), id: 'orrery-emoji-tiny', latent: 'latent-32' },
  ...(existsSync(path.join(shipped, 'manifest.json'))
    ? [{ dir: shipped, id: 'orrery-emoji', latent: 'latent-1024' }]
    : []),
];

let app: OrreryApp;
const sweeps: ImageSweepEvent[] = [];
const frames: ImageFrameEvent[] = [];

beforeAll(() => {
  const models = tmpDir();
  for (const p of packs)
    cpSync(p.dir, path.join(models, path.basename(p.dir)), { recursive: true });
  app = composeApp(resolveConfig('headless', repoRoot, { home: tmpDir(), models }));
  app.events.subscribe((m) => {
    if (m.event === 'image.sweep') sweeps.push(m.payload);
    if (m.event === 'image.frame') frames.push(m.payload);
  });
});

afterAll(async () => {
  await app.dispose();
  cleanupTmp();
});

/** The live run of these dials, as the page gets it (its image.frame event). */
async function live(packId: string, dials: DialInput[], jobId: string): Promise<ImageFrameEvent> {
  const r = await app.dispatcher.dispatch('image.steer', {
    packId,
    source: { example: 1 },
    dials,
    jobId,
  });
  expect(r.ok).toBe(true);
  const f = frames.find((x) => x.jobId === jobId);
  if (!f) throw new Error(`no image.frame for ${jobId}`);
  return f;
}

describe.each(packs)('image.sweep on $id', ({ id, latent }) => {
  // a latent dial turning between two fixed ones (one before it, one on the spatial map after)
  const swept: SweptDial = {
    others: [
      { saeId: latent, feature: 2, method: 'add', value: 1.5 },
      {
        saeId: id === 'orrery-emoji' ? 'spatial-2048' : 'spatial-32',
        feature: 4,
        method: 'add',
        value: 2,
      },
    ],
    at: 1,
    dial: { saeId: latent, feature: 3, method: 'add', value: 0 },
  };
  const step = 0.25;
  // nearest to the start (0) first, as the page asks: 0, +1, −1, +2, … whole pixels
  const values = [
    0,
    ...Array.from({ length: 20 }, (_, k) => (k % 2 ? -1 : 1) * Math.ceil((k + 1) / 2) * step),
  ];

  it('streams one frame per value, each the live run of its dials', async () => {
    const jobId = `sweep-${id}`;
    const r = await app.dispatcher.dispatch('image.sweep', {
      packId: id,
      source: { example: 1 },
      swept,
      values,
      jobId,
    });
    expect(r).toMatchObject({ ok: true, value: { frames: values.length } });
    const mine = sweeps.filter((s) => s.jobId === jobId);
    // batches of 1, 2, then up to 4: the frames nearest the start come first and soonest
    expect(mine.map((s) => s.index.length)).toEqual([1, 2, 4, 4, 4, 4, 2]);
    const got = mine.flatMap((s) => s.index);
    expect(got).toEqual(values.map((_, k) => k));
    let turned = 0;
    for (const batch of mine) {
      const bytes = batch.width * batch.height * 4;
      for (let k = 0; k < batch.index.length; k++) {
        const i = batch.index[k] ?? -1;
        const v = values[i] ?? NaN;
        const ref = await live(id, sweepDials(swept, v), `live-${id}-${i}`);
        const after = batch.after.subarray(k * bytes, (k + 1) * bytes);
        const heat = batch.heatmap.subarray(k * bytes, (k + 1) * bytes);
        expect(Buffer.from(after).equals(Buffer.from(ref.after)), `after at ${v}`).toBe(true);
        expect(Buffer.from(heat).equals(Buffer.from(ref.heatmap)), `heatmap at ${v}`).toBe(true);
        expect(batch.metrics[k]).toEqual(ref.metrics);
        expect(batch.changed[k]).toBe(ref.changed);
        if (ref.metrics.meanAbs > 0) turned += 1;
      }
    }
    // the frames do differ from each other (a sweep of one picture would prove nothing)
    const first = mine[0]?.after.subarray(0, 64 * 64 * 4);
    const last = mine.at(-1)?.after.subarray(0, 64 * 64 * 4);
    expect(first && last && Buffer.from(first).equals(Buffer.from(last))).toBe(false);
    expect(turned).toBe(values.length);
  }, 120_000);

  it('leaves the turning dial out at rest, as the page does', () => {
    expect(sweepDials(swept, 0)).toEqual(swept.others);
    expect(sweepDials(swept, 0.5).map((d) => [d.feature, d.value])).toEqual([
      [2, 1.5],
      [3, 0.5],
      [4, 2],
    ]);
  });
});

describe('image.sweep limits', () => {
  it('refuses more frames than the sweep budget', async () => {
    const r = await app.dispatcher.dispatch('image.sweep', {
      packId: 'orrery-emoji-tiny',
      source: { example: 0 },
      swept: {
        others: [],
        at: 0,
        dial: { saeId: 'latent-32', feature: 3, method: 'add', value: 0 },
      },
      values: Array.from({ length: 2049 }, (_, k) => k / 100),
      jobId: 'sweep-big',
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'too_large' } });
  });
});
