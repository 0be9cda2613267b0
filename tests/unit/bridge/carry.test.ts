/**
 * Carry across: the strength rule (calibrated 1× on both sides, else max activation; a scale
 * dial keeps its factor; a negative match turns an add dial), then through the composed app on
 * the emoji fixture with real indexes and a real bridge (latent ↔ spatial, by example):
 * bridge.carry maps each dial to the best match bridge.matches gives, at the strength the two
 * feature cards' ranges give; the carried dials steer the spatial side (after ≠ before), and the
 * session step keeps the mapping and its scores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OrreryApp } from '../../../main/app/compose';
import { rescale } from '../../../main/bridge/carry';
import type { CallOutput, DialInput } from '../../../preload/contract';
import { cleanupTmp } from '../../support/tmp';
import { callOk, composeTestApp, modelsWith } from '../../support/composed';

describe('rescale', () => {
  const a = { maxAct: 10, typical: 2, label: null };
  const b = { maxAct: 4, typical: 0.5, label: null };
  it('keeps the strength relative to each feature’s calibrated 1× when both have one', () => {
    expect(rescale({ method: 'add', value: 3 }, a, b, 0.9)).toEqual({
      value: 0.75,
      scaledBy: 'typical',
    });
  });
  it('falls back to max activations when a side has no calibration', () => {
    expect(rescale({ method: 'pin', value: 5 }, a, { ...b, typical: null }, 0.9)).toEqual({
      value: 2,
      scaledBy: 'max',
    });
  });
  it('keeps a scale dial’s factor and turns an add dial for a negative match', () => {
    expect(rescale({ method: 'scale', value: 3 }, a, b, -0.8)).toEqual({
      value: 3,
      scaledBy: 'factor',
    });
    expect(rescale({ method: 'add', value: 2 }, a, b, -0.8).value).toBeCloseTo(-0.5, 12);
  });
});

let app: OrreryApp;
const latent = { packId: 'orrery-emoji-tiny', saeId: 'latent-32' };
const spatial = { packId: 'orrery-emoji-tiny', saeId: 'spatial-32' };

beforeAll(() => {
  app = composeTestApp(modelsWith(['emoji-tiny']));
});

afterAll(async () => {
  await app.dispose();
  cleanupTmp();
});

const call = <T>(name: string, input: unknown): Promise<T> => callOk<T>(app, name, input);

describe('bridge.carry through the API (emoji fixture, latent → spatial)', () => {
  it('is not_found before the bridge is built', async () => {
    const r = await app.dispatcher.dispatch('bridge.carry', {
      a: latent,
      b: spatial,
      from: 'a',
      dials: [{ saeId: 'latent-32', feature: 0, method: 'add', value: 1 }],
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('maps dials to their best matches at rescaled strengths; the carried dials steer the other side and the step keeps the mapping', async () => {
    await call('index.build', latent);
    await call('index.build', spatial);
    await call('bridge.build', { a: latent, b: spatial });
    // latent features that fired, each with its best spatial match
    const fired: number[] = [];
    const silent: number[] = [];
    for (let f = 0; f < 32; f++) {
      const m = await call<CallOutput<'bridge.matches'>>('bridge.matches', {
        a: latent,
        b: spatial,
        side: 'a',
        feature: f,
      });
      (m.status === 'silent' ? silent : fired).push(f);
    }
    expect(fired.length).toBeGreaterThanOrEqual(2);
    const chosen = fired.slice(0, 2);
    const dials: DialInput[] = [
      ...chosen.map((feature, i) => ({
        saeId: 'latent-32',
        feature,
        method: i === 1 ? ('scale' as const) : ('add' as const),
        value: i === 1 ? 1.5 : 2,
      })),
      {
        saeId: 'latent-32',
        feature: 0,
        method: 'add',
        value: 1,
        members: [{ feature: 0, weight: 1 }],
      },
    ];
    if (silent[0] !== undefined)
      dials.push({ saeId: 'latent-32', feature: silent[0], method: 'add', value: 1 });
    const draft = await call<CallOutput<'bridge.carry'>>('bridge.carry', {
      a: latent,
      b: spatial,
      from: 'a',
      dials,
    });
    expect(draft.from).toEqual(latent);
    expect(draft.to).toEqual(spatial);
    expect(draft.method).toBe('correlation');
    expect(draft.rows.map((r) => r.source.feature)).toEqual(chosen);
    expect(draft.unmatched.length).toBe(silent[0] === undefined ? 1 : 2);
    expect(draft.unmatched[0]?.reason).toMatch(/composite/);
    for (const row of draft.rows) {
      const m = await call<CallOutput<'bridge.matches'>>('bridge.matches', {
        a: latent,
        b: spatial,
        side: 'a',
        feature: row.source.feature,
      });
      expect(row.feature).toBe(m.matches[0]?.feature);
      expect(row.score).toBeCloseTo(m.matches[0]?.score ?? NaN, 6);
      expect(row.status).toBe(m.status);
      const src = await call<CallOutput<'index.feature'>>('index.feature', {
        ...latent,
        feature: row.source.feature,
      });
      const dst = await call<CallOutput<'index.feature'>>('index.feature', {
        ...spatial,
        feature: row.feature,
      });
      const want = rescale(
        row.source,
        { maxAct: src.maxActivation, typical: src.calibration?.typical ?? null, label: null },
        { maxAct: dst.maxActivation, typical: dst.calibration?.typical ?? null, label: null },
        row.score,
      );
      expect(row.dial).toMatchObject({
        saeId: 'spatial-32',
        feature: row.feature,
        method: row.source.method,
        label: dst.label,
      });
      expect(row.dial.value).toBeCloseTo(want.value, 9);
      expect(row.scaledBy).toBe(want.scaledBy);
    }
    // the draft's dials, run on the spatial side in a session: the picture changes and the
    // step keeps the mapping with its scores
    const session = await call<{ id: string }>('sessions.create', { packId: latent.packId });
    const carried = {
      from: latent,
      to: spatial,
      method: draft.method,
      rows: draft.rows.map((r) => ({
        sourceFeature: r.source.feature,
        sourceValue: r.source.value,
        sourceLabel: r.sourceLabel,
        feature: r.feature,
        label: r.label,
        score: r.score,
        value: r.dial.value,
      })),
    };
    const run = await call<CallOutput<'image.steer'>>('image.steer', {
      packId: spatial.packId,
      source: { example: 1 },
      dials: draft.rows.map((r) => r.dial),
      sessionId: session.id,
      carried,
    });
    if (!('before' in run)) throw new Error('expected pixels in the reply');
    expect(run.changed).toBe(true);
    expect(Buffer.from(run.after).equals(Buffer.from(run.before))).toBe(false);
    expect(run.step?.input.carried).toEqual(carried);
    const detail = await call<CallOutput<'sessions.get'>>('sessions.get', {
      sessionId: session.id,
    });
    expect(detail.steps.at(-1)?.input.carried).toEqual(carried);
    expect(detail.steps.at(-1)?.dials.map((d) => d.feature)).toEqual(
      draft.rows.map((r) => r.feature),
    );
  }, 120_000);

  it('refuses dials of another SAE than the side they are carried from', async () => {
    const r = await app.dispatcher.dispatch('bridge.carry', {
      a: latent,
      b: spatial,
      from: 'b',
      dials: [{ saeId: 'latent-32', feature: 0, method: 'add', value: 1 }],
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'bad_input' } });
  });
});
