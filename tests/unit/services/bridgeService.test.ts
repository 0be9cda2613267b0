/**
 * Bridges through the API: bridge.build as a job in an index worker thread with progress, then
 * bridge.status, bridge.matches and bridge.best on the emoji fixture's latent and spatial SAEs (by example),
 * and a text SAE against itself (decoder cosine: every feature its own best match; then, when
 * asked, by the effect on the logits, kept beside it: a read names it, a read without a method
 * stays on the decoder bridge); reading an unbuilt bridge is not_found, an unknown SAE too.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OrreryApp } from '../../../main/app/compose';
import type { CallOutput, Progress } from '../../../preload/contract';
import { cleanupTmp } from '../../support/tmp';
import { callOk, composeTestApp, modelsWith } from '../../support/composed';

let app: OrreryApp;
const latent = { packId: 'orrery-emoji-tiny', saeId: 'latent-32' };
const spatial = { packId: 'orrery-emoji-tiny', saeId: 'spatial-32' };
const text = { packId: 'orrery-text-tiny', saeId: 'res1-64' };

beforeAll(() => {
  app = composeTestApp(modelsWith(['emoji-tiny', 'text-tiny']));
});

afterAll(async () => {
  await app.dispose();
  cleanupTmp();
});

const call = <T>(name: string, input: unknown): Promise<T> => callOk<T>(app, name, input);

describe('bridges through the API', () => {
  it('says an unbuilt bridge is not built and refuses its matches', async () => {
    expect(await call('bridge.status', { a: latent, b: spatial })).toMatchObject({
      built: false,
      method: null,
    });
    const r = await app.dispatcher.dispatch('bridge.matches', {
      a: latent,
      b: spatial,
      side: 'a',
      feature: 0,
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const bad = await app.dispatcher.dispatch('bridge.build', {
      a: latent,
      b: { ...spatial, saeId: 'nope' },
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('builds a bridge as a job with progress, then reads a feature’s matches', async () => {
    const progress: Progress[] = [];
    app.events.subscribe((m) => {
      if (m.event === 'job.progress') progress.push(m.payload);
    });
    const status = await call<CallOutput<'bridge.build'>>('bridge.build', {
      a: latent,
      b: spatial,
      jobId: 'bridge-1',
    });
    expect(status).toMatchObject({
      built: true,
      method: 'correlation',
      unit: 'example',
      samples: 24,
      featuresA: 32,
      featuresB: 32,
    });
    expect(path.dirname(status.file)).toMatch(/index[/\\]bridges$/);
    const stages = new Set(progress.filter((p) => p.jobId === 'bridge-1').map((p) => p.stage));
    expect(stages).toEqual(new Set(['codes', 'match']));
    // a feature of B with matches: its best is the first, scores descending
    let seen = 0;
    for (let f = 0; f < 32; f++) {
      const m = await call<CallOutput<'bridge.matches'>>('bridge.matches', {
        a: latent,
        b: spatial,
        side: 'b',
        feature: f,
      });
      expect(m.other).toEqual(latent);
      if (m.status === 'silent') continue;
      seen++;
      const scores = m.matches.map((x) => x.score);
      expect(scores).toEqual([...scores].sort((x, y) => y - x));
      expect(m.status).toBe((scores[0] ?? -1) >= m.sharedAt ? 'shared' : 'specific');
    }
    expect(seen).toBeGreaterThan(0);
  }, 60_000);

  it('gives every feature of a side its best match at once, as bridge.matches does one by one', async () => {
    for (const side of ['a', 'b'] as const) {
      const all = await call<CallOutput<'bridge.best'>>('bridge.best', {
        a: latent,
        b: spatial,
        side,
      });
      expect(all.other).toEqual(side === 'a' ? spatial : latent);
      expect(all.best).toBeInstanceOf(Int32Array);
      expect(all.best.length).toBe(32);
      const code = { specific: 0, shared: 1, silent: 2 } as const;
      const seen = new Set<number>();
      for (let f = 0; f < 32; f++) {
        const m = await call<CallOutput<'bridge.matches'>>('bridge.matches', {
          a: latent,
          b: spatial,
          side,
          feature: f,
        });
        expect(all.status[f]).toBe(code[m.status]);
        seen.add(code[m.status]);
        const top = m.matches[0];
        expect(all.best[f]).toBe(top ? top.feature : -1);
        if (top) expect(all.score[f]).toBeCloseTo(top.score, 5);
        else expect(all.score[f]).toBeNaN();
      }
      expect(seen.size).toBeGreaterThan(1);
    }
    const none = await app.dispatcher.dispatch('bridge.best', { a: latent, b: text, side: 'a' });
    expect(none).toMatchObject({ ok: false, error: { code: 'not_found' } });
  }, 60_000);

  it('matches each text feature to itself by decoder cosine', async () => {
    const status = await call<CallOutput<'bridge.build'>>('bridge.build', { a: text, b: text });
    expect(status).toMatchObject({ built: true, method: 'decoder', sharedA: 1, sharedB: 1 });
    const m = await call<CallOutput<'bridge.matches'>>('bridge.matches', {
      a: text,
      b: text,
      side: 'a',
      feature: 5,
    });
    expect(m.matches[0]?.feature).toBe(5);
    expect(m.matches[0]?.score).toBeCloseTo(1, 5);
    const out = await app.dispatcher.dispatch('bridge.matches', {
      a: text,
      b: text,
      side: 'a',
      feature: 64,
    });
    expect(out).toMatchObject({ ok: false, error: { code: 'not_found' } });
  }, 60_000);

  it('builds an effect bridge as a job when asked, measuring effects before matching', async () => {
    const progress: Progress[] = [];
    app.events.subscribe((m) => {
      if (m.event === 'job.progress') progress.push(m.payload);
    });
    const status = await call<CallOutput<'bridge.build'>>('bridge.build', {
      a: text,
      b: text,
      method: 'effect',
      jobId: 'bridge-effect',
    });
    expect(status).toMatchObject({
      built: true,
      method: 'effect',
      unit: 'output effect',
      sharedAt: 0.8,
      sharedA: 1,
      builtMethods: ['decoder', 'effect'],
    });
    const stages = new Set(progress.filter((p) => p.jobId === 'bridge-effect').map((p) => p.stage));
    expect(stages).toEqual(new Set(['effects', 'match']));
    const m = await call<CallOutput<'bridge.matches'>>('bridge.matches', {
      a: text,
      b: text,
      method: 'effect',
      side: 'b',
      feature: 7,
    });
    expect(m).toMatchObject({ method: 'effect', status: 'shared' });
    expect(m.matches[0]?.feature).toBe(7);
    expect(await call('bridge.status', { a: text, b: text })).toMatchObject({ method: 'decoder' });
  }, 60_000);
});
