/**
 * Sessions through the API with real runs: every run a step, undo/redo/branch, reopen after
 * a restart, a recipe that reproduces the same output when imported, presets.
 */
import { cpSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeApp, type OrreryApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import type { CallName, CallOutput } from '../../../preload/contract';
import { cleanupTmp, fixturePacks, repoRoot, tmpDir } from '../../support/tmp';

const apps: OrreryApp[] = [];

function start(home: string, models: string): OrreryApp {
  const app = composeApp(resolveConfig('headless', repoRoot, { home, models }));
  apps.push(app);
  return app;
}

afterEach(async () => {
  for (const a of apps.splice(0)) await a.dispose();
  cleanupTmp();
});

function caller(app: OrreryApp) {
  return async <K extends CallName>(name: K, input: unknown): Promise<CallOutput<K>> => {
    const r = await app.dispatcher.dispatch(name, input);
    if (!r.ok) throw new Error(`${name}: ${r.error.code}: ${r.error.message}`);
    return r.value as CallOutput<K>;
  };
}

function setup() {
  const models = tmpDir();
  cpSync(path.join(fixturePacks, 'text-tiny'), path.join(models, 'text-tiny'), { recursive: true });
  return { home: tmpDir(), models };
}

const packId = 'orrery-text-tiny';
const dial = (value: number) => [{ saeId: 'res1-64', feature: 5, method: 'add' as const, value }];

describe('sessions', () => {
  it('saves runs as steps, undoes, redoes and branches, and reopens after a restart', async () => {
    const { home, models } = setup();
    const call = caller(start(home, models));
    const s = await call('sessions.create', { packId, name: 'Psalms' });
    const gen = (value: number, feature = 5) =>
      call('text.generate', {
        packId,
        prompt: 'The Lord',
        dials: value === 0 ? [] : [{ saeId: 'res1-64', feature, method: 'add' as const, value }],
        sampling: { maxTokens: 6 },
        sessionId: s.id,
      });
    await gen(0);
    const second = await gen(30);
    let d = await call('sessions.get', { sessionId: s.id });
    expect(d.steps).toHaveLength(2);
    expect(d.steps[1]?.parentId).toBe(d.steps[0]?.id);
    expect(d.session.headStepId).toBe(d.steps[1]?.id);
    expect(d.steps[1]?.output).toMatchObject({ after: { tokenIds: second.after.tokenIds } });
    expect(d.steps[1]?.input).toMatchObject({ prompt: 'The Lord' });

    d = await call('sessions.undo', { sessionId: s.id });
    expect(d.session.headStepId).toBe(d.steps[0]?.id);
    await gen(-30, 9); // a run after an undo branches from the current step
    d = await call('sessions.get', { sessionId: s.id });
    expect(d.steps).toHaveLength(3);
    expect(d.steps[2]?.parentId).toBe(d.steps[0]?.id);
    d = await call('sessions.undo', { sessionId: s.id });
    d = await call('sessions.redo', { sessionId: s.id });
    expect(d.session.headStepId).toBe(d.steps[2]?.id);
    await expect(
      caller(apps[0] as OrreryApp)('sessions.redo', { sessionId: s.id }),
    ).rejects.toThrow('nothing to redo');

    await (apps[0] as OrreryApp).dispose();
    apps.length = 0;
    const reopened = await caller(start(home, models))('sessions.get', { sessionId: s.id });
    expect(reopened).toEqual(d);
  });

  it('exports a recipe that reproduces the same output when imported', async () => {
    const { home, models } = setup();
    const call = caller(start(home, models));
    const s = await call('sessions.create', { packId });
    const out = await call('text.generate', {
      packId,
      prompt: 'Thou shalt',
      dials: dial(25),
      sampling: { maxTokens: 8, temperature: 0.8, seed: 11 },
      sessionId: s.id,
    });
    const recipe = await call('sessions.exportRecipe', { sessionId: s.id });
    const json = JSON.parse(JSON.stringify(recipe)) as unknown;
    const imported = await call('sessions.importRecipe', { recipe: json });
    const head = imported.steps.find((x) => x.id === imported.session.headStepId);
    expect(head).toBeDefined();
    const again = await call('text.generate', {
      packId,
      ...(head?.input ?? {}),
      dials: head?.dials ?? [],
    });
    expect(again.after.tokenIds).toEqual(out.after.tokenIds);
    expect(again.before.tokenIds).toEqual(out.before.tokenIds);
  });

  it('rejects a malformed recipe without touching saved sessions', async () => {
    const { home, models } = setup();
    const call = caller(start(home, models));
    await call('sessions.create', { packId });
    const bad = [
      { orrery: 'recipe', version: 2, name: 'x', packId, steps: [], head: null },
      {
        orrery: 'recipe',
        version: 1,
        name: 'x',
        packId,
        steps: [{ ref: 1, parent: 7, kind: 'text', input: {}, dials: [] }],
        head: 1,
      },
      { orrery: 'recipe', version: 1, name: 'x', packId, steps: [], head: 3 },
      'not even an object',
    ];
    for (const recipe of bad)
      await expect(call('sessions.importRecipe', { recipe })).rejects.toThrow(/bad_input/);
    expect(await call('sessions.list', { packId })).toHaveLength(1);
  });

  it('saves, lists and removes presets', async () => {
    const { home, models } = setup();
    const call = caller(start(home, models));
    await call('presets.save', { packId, name: 'Psalmist', dials: dial(12) });
    await call('presets.save', { packId, name: 'Psalmist', dials: dial(14) });
    expect(await call('presets.list', { packId })).toMatchObject([
      { name: 'Psalmist', dials: dial(14) },
    ]);
    expect(await call('presets.remove', { packId, name: 'Psalmist' })).toEqual({ removed: true });
    expect(await call('presets.list', { packId })).toEqual([]);
  });
});

describe('sessions: re-running the current step', () => {
  it('does not add a step when the input and dials equal the current step', async () => {
    const { home, models } = setup();
    const call = caller(start(home, models));
    const s = await call('sessions.create', { packId });
    const gen = (feature: number) =>
      call('text.generate', {
        packId,
        prompt: 'Amen',
        dials: [{ saeId: 'res1-64', feature, method: 'add' as const, value: 10 }],
        sampling: { maxTokens: 4 },
        sessionId: s.id,
      });
    await gen(1);
    await gen(2);
    await call('sessions.undo', { sessionId: s.id });
    await gen(1); // the UI re-runs the restored step
    const d = await call('sessions.get', { sessionId: s.id });
    expect(d.steps).toHaveLength(2);
    expect(d.session.headStepId).toBe(d.steps[0]?.id);
  });
});

describe('sessions: a drag is one step', () => {
  it('merges quick runs that differ only in dial values', async () => {
    const { home, models } = setup();
    const call = caller(start(home, models));
    const s = await call('sessions.create', { packId });
    for (const value of [5, 10, 15, 20]) {
      await call('text.generate', {
        packId,
        prompt: 'Amen',
        dials: dial(value),
        sampling: { maxTokens: 3 },
        sessionId: s.id,
      });
    }
    const d = await call('sessions.get', { sessionId: s.id });
    expect(d.steps).toHaveLength(1);
    expect(d.steps[0]?.dials[0]?.value).toBe(20);
  });
});
