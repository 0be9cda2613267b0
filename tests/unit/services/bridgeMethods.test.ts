/**
 * A pair's two bridges through the API (real index worker, real SQLite): the fixture text pack's
 * SAE and the two-hook fixture's layer-0 SAE (two text models with one tokenizer) get an effect
 * bridge, then the default one (correlation); each has its own file and building the second
 * keeps the first. bridge.status lists both and says which it read; reads with a method read
 * that bridge, reads without one the default bridge (the effect one while it is the only one);
 * carry follows the method asked. Emoji SAEs are not offered the effect method.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OrreryApp } from '../../../main/app/compose';
import type { CallOutput } from '../../../preload/contract';
import { callOk, composeTestApp, modelsWith } from '../../support/composed';
import { cleanupTmp } from '../../support/tmp';

let app: OrreryApp;
const one = { packId: 'orrery-text-tiny', saeId: 'res1-64' };
const two = { packId: 'orrery-text-tiny-hooks', saeId: 'res0-64' };
const pair = { a: one, b: two };

beforeAll(() => {
  app = composeTestApp(modelsWith(['emoji-tiny', 'text-tiny', 'text-tiny-hooks']));
});

afterAll(async () => {
  await app.dispose();
  cleanupTmp();
});

const call = <T>(name: string, input: unknown): Promise<T> => callOk<T>(app, name, input);
const status = (method?: string) =>
  call<CallOutput<'bridge.status'>>('bridge.status', { ...pair, ...(method ? { method } : {}) });
const matches = (method?: string, feature = 3) =>
  call<CallOutput<'bridge.matches'>>('bridge.matches', {
    ...pair,
    ...(method ? { method } : {}),
    side: 'a',
    feature,
  });

describe('a pair’s effect and default bridges', () => {
  it('offers the effect method for two text models with one tokenizer only', async () => {
    expect(await status()).toMatchObject({
      built: false,
      method: null,
      builtMethods: [],
      methods: ['correlation', 'effect'],
    });
    const emoji = await call<CallOutput<'bridge.status'>>('bridge.status', {
      a: { packId: 'orrery-emoji-tiny', saeId: 'latent-32' },
      b: { packId: 'orrery-emoji-tiny', saeId: 'spatial-32' },
    });
    expect(emoji.methods).toEqual(['correlation']);
    const self = await call<CallOutput<'bridge.status'>>('bridge.status', { a: one, b: one });
    expect(self.methods).toEqual(['decoder', 'effect']);
  });

  it('builds the effect bridge into its own file; a read without a method finds it', async () => {
    const built = await call<CallOutput<'bridge.build'>>('bridge.build', {
      ...pair,
      method: 'effect',
    });
    expect(built).toMatchObject({ built: true, method: 'effect', builtMethods: ['effect'] });
    expect(path.basename(built.file)).toBe(
      'orrery-text-tiny.res1-64__orrery-text-tiny-hooks.res0-64.effect.sqlite',
    );
    expect(await status()).toMatchObject({ built: true, method: 'effect', file: built.file });
    expect((await matches()).method).toBe('effect');
    const none = await app.dispatcher.dispatch('bridge.matches', {
      ...pair,
      method: 'correlation',
      side: 'a',
      feature: 3,
    });
    expect(none).toMatchObject({ ok: false, error: { code: 'not_found' } });
  }, 120_000);

  it('builds the default bridge beside it, keeping both; each read picks its file', async () => {
    const effectFile = (await status('effect')).file;
    const built = await call<CallOutput<'bridge.build'>>('bridge.build', pair);
    expect(built).toMatchObject({
      built: true,
      method: 'correlation',
      builtMethods: ['correlation', 'effect'],
    });
    expect(path.basename(built.file)).toBe(
      'orrery-text-tiny.res1-64__orrery-text-tiny-hooks.res0-64.sqlite',
    );
    expect(existsSync(effectFile)).toBe(true);
    expect(await status('effect')).toMatchObject({
      built: true,
      method: 'effect',
      unit: 'output effect',
      file: effectFile,
    });
    expect(await status()).toMatchObject({ method: 'correlation', unit: 'token span' });
    expect(await status('correlation')).toMatchObject({ method: 'correlation', file: built.file });
    // decoder would share the default file, which holds the correlation bridge
    expect(await status('decoder')).toMatchObject({ built: false, method: null });

    const [plain, effect] = [await matches(), await matches('effect')];
    expect(plain.method).toBe('correlation');
    expect(effect.method).toBe('effect');
    expect(plain.sharedAt).not.toBe(effect.sharedAt);
    for (const [method, want] of [
      [undefined, 'correlation'],
      ['effect', 'effect'],
    ] as const) {
      const best = await call<CallOutput<'bridge.best'>>('bridge.best', {
        ...pair,
        ...(method ? { method } : {}),
        side: 'a',
      });
      expect(best.method).toBe(want);
      const m = method === 'effect' ? effect : plain;
      expect(best.best[3]).toBe(m.matches[0]?.feature ?? -1);
    }
  }, 120_000);

  it('carries dials across the bridge asked for', async () => {
    await call('index.build', one);
    await call('index.build', two);
    // a feature whose best match differs between the two bridges
    let feature = -1;
    for (let f = 0; f < 64 && feature < 0; f++) {
      const [p, e] = [await matches(undefined, f), await matches('effect', f)];
      const [bp, be] = [p.matches[0]?.feature, e.matches[0]?.feature];
      if (p.status !== 'silent' && e.status !== 'silent' && bp !== undefined && bp !== be)
        feature = f;
    }
    expect(feature).toBeGreaterThanOrEqual(0);
    const dial = { saeId: one.saeId, feature, method: 'add', value: 1 };
    for (const method of [undefined, 'effect'] as const) {
      const draft = await call<CallOutput<'bridge.carry'>>('bridge.carry', {
        ...pair,
        ...(method ? { method } : {}),
        from: 'a',
        dials: [dial],
      });
      expect(draft.method).toBe(method ?? 'correlation');
      expect(draft.rows[0]?.feature).toBe((await matches(method, feature)).matches[0]?.feature);
    }
  }, 120_000);
});
