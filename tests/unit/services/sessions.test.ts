/**
 * Sessions through the API with real runs: every run a step, undo/redo/branch, reopen after
 * a restart, a recipe that reproduces the same output when imported, presets.
 */
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeApp, type OrreryApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import { PNG } from 'pngjs';
import { openDatabase } from '../../../main/db/connection';
import { PREVIEW_CHARS, SessionStore } from '../../../main/sessions/sessionStore';
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

describe('sessions: a drag is one step because the page says so', () => {
  it('merges the runs of one gesture id, and only those; the reply carries the step', async () => {
    const { home, models } = setup();
    const call = caller(start(home, models));
    const s = await call('sessions.create', { packId });
    const gen = (value: number, gestureId?: string) =>
      call('text.generate', {
        packId,
        prompt: 'Amen',
        dials: dial(value),
        sampling: { maxTokens: 3 },
        sessionId: s.id,
        gestureId,
      });
    const ticks = [];
    for (const value of [5, 10, 15, 20]) ticks.push(await gen(value, 'drag-1'));
    // every tick's reply is the same step, holding that tick's dials and output
    const ids = new Set(ticks.map((t) => t.step?.id));
    expect(ids.size).toBe(1);
    expect(ticks[3]?.step?.dials[0]?.value).toBe(20);
    expect(ticks[3]?.step?.output).toMatchObject({ after: { tokenIds: ticks[3]?.after.tokenIds } });
    let d = await call('sessions.get', { sessionId: s.id });
    expect(d.steps).toHaveLength(1);
    expect(d.steps[0]).toEqual(ticks[3]?.step);

    // a new gesture, and runs with none (each its own step), however quick
    await gen(25, 'drag-2');
    await gen(30, 'drag-2');
    await gen(35);
    await gen(40);
    d = await call('sessions.get', { sessionId: s.id });
    expect(d.steps.map((x) => x.dials[0]?.value)).toEqual([20, 30, 35, 40]);
    expect(d.steps.map((x) => x.parentId)).toEqual([null, ...d.steps.slice(0, 3).map((x) => x.id)]);

    // after an undo, the same gesture id does not reach back into the undone step
    await call('sessions.undo', { sessionId: s.id });
    await gen(45, 'drag-2');
    d = await call('sessions.get', { sessionId: s.id });
    expect(d.steps).toHaveLength(5);
  });

  it('a run with no session answers step: null', async () => {
    const { home, models } = setup();
    const call = caller(start(home, models));
    const r = await call('text.generate', {
      packId,
      prompt: 'Amen',
      dials: dial(5),
      sampling: { maxTokens: 2 },
    });
    expect(r.step).toBeNull();
  });
});

describe('sessions: the sessions worker', () => {
  /** The step with `id` as a fresh connection (another process, say) reads it now. */
  function onDisk(home: string, id: number): { dials: unknown; output: unknown } | undefined {
    const db = openDatabase(path.join(home, 'sessions.sqlite'), { readonly: true });
    try {
      const row = db.prepare('select dials_json, output_json from steps where id = ?').get(id) as
        { dials_json: string; output_json: string } | undefined;
      return row && { dials: JSON.parse(row.dials_json), output: JSON.parse(row.output_json) };
    } finally {
      db.close();
    }
  }

  it('a reply that carries a step means the step is committed (every tick of a drag)', async () => {
    const { home, models } = setup();
    const call = caller(start(home, models));
    const s = await call('sessions.create', { packId });
    for (const [value, gestureId] of [
      [5, undefined],
      [10, 'drag-1'],
      [15, 'drag-1'],
      [20, 'drag-1'],
    ] as const) {
      const r = await call('text.generate', {
        packId,
        prompt: 'Amen',
        dials: dial(value),
        sampling: { maxTokens: 3 },
        sessionId: s.id,
        gestureId,
      });
      // read at once, without letting the event loop turn
      const row = onDisk(home, r.step?.id ?? -1);
      expect(row?.dials).toEqual(dial(value));
      expect(row?.output).toMatchObject({ after: { tokenIds: r.after.tokenIds } });
    }
    const renamed = await call('sessions.rename', { sessionId: s.id, name: 'Kept' });
    const db = openDatabase(path.join(home, 'sessions.sqlite'), { readonly: true });
    try {
      expect(db.prepare('select name from sessions where id = ?').get(s.id)).toEqual({
        name: renamed.name,
      });
    } finally {
      db.close();
    }
  });

  it('the API thread answers other calls while a session write waits for the database', async () => {
    const { home, models } = setup();
    const call = caller(start(home, models));
    const s = await call('sessions.create', { packId, name: 'before' });
    // Another connection holds the write lock: the worker's rename waits in SQLite's busy
    // handler (a slow transaction) until this test lets go.
    const other = openDatabase(path.join(home, 'sessions.sqlite'));
    const order: string[] = [];
    try {
      other.exec('begin immediate');
      const rename = call('sessions.rename', { sessionId: s.id, name: 'after' }).then((r) => {
        order.push('rename');
        return r;
      });
      await call('app.health', {});
      order.push('health');
      await call('blobs.put', { bytes: new Uint8Array([1, 2, 3]) });
      order.push('blobs.put');
      expect(order).toEqual(['health', 'blobs.put']); // the rename is still waiting
      other.exec('commit');
      expect((await rename).name).toBe('after');
      expect(order).toEqual(['health', 'blobs.put', 'rename']);
    } finally {
      if (other.inTransaction) other.exec('rollback');
      other.close();
    }
  });

  it('a damaged sessions.sqlite is moved aside by the worker and reported as a notice', async () => {
    const { home, models } = setup();
    writeFileSync(path.join(home, 'sessions.sqlite'), 'not a database at all, '.repeat(100));
    const call = caller(start(home, models));
    const { notices } = await call('app.notices', {});
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({
      kind: 'database_recovered',
      file: path.join(home, 'sessions.sqlite'),
    });
    expect(existsSync(notices[0]?.movedTo ?? '?')).toBe(true);
    const s = await call('sessions.create', { packId, name: 'fresh' });
    expect((await call('sessions.list', { packId })).map((x) => x.id)).toEqual([s.id]);
  });
});

describe('sessions: the store takes its clock', () => {
  it('stamps steps with the injected time; merging needs no time to pass', () => {
    const home = tmpDir();
    let t = Date.UTC(2030, 0, 1);
    const store = new SessionStore(path.join(home, 's.sqlite'), undefined, () => new Date(t));
    try {
      const s = store.create('p');
      const a = store.record(s.id, 'text', { prompt: 'x' }, dial(1), {}, 'g');
      const b = store.record(s.id, 'text', { prompt: 'x' }, dial(2), {}, 'g');
      expect(b.id).toBe(a.id);
      const c = store.record(s.id, 'text', { prompt: 'x' }, dial(3), {}, null);
      expect(c.id).not.toBe(a.id);
      expect(c.createdAt).toBe('2030-01-01T00:00:00.000Z');
      t += 3_600_000; // an hour later, the same gesture still is one step
      const d1 = store.record(s.id, 'text', { prompt: 'x' }, dial(4), {}, 'h');
      const d2 = store.record(s.id, 'text', { prompt: 'x' }, dial(5), {}, 'h');
      expect(d2.id).toBe(d1.id);
      expect(d2.createdAt).toBe('2030-01-01T01:00:00.000Z');
      // a drag's later tick is committed when record returns
      expect(store.get(s.id).steps.find((x) => x.id === d1.id)?.dials[0]?.value).toBe(5);
      // within a gesture the input may change too (a paint stroke's mask): still one step
      const e = store.record(s.id, 'text', { prompt: 'y' }, dial(5), {}, 'h');
      expect(e.id).toBe(d2.id);
      expect(store.get(s.id).steps.find((x) => x.id === e.id)?.input).toEqual({ prompt: 'y' });
      // another kind is a new step even within a gesture
      const f = store.record(s.id, 'image', { prompt: 'y' }, dial(5), {}, 'h');
      expect(f.id).not.toBe(e.id);
    } finally {
      store.close();
    }
  });

  it('names steps, keeps the names in recipes, and gives every step a preview', () => {
    const store = new SessionStore(path.join(tmpDir(), 's.sqlite'));
    try {
      const s = store.create('p');
      const hash = 'c'.repeat(64);
      const img = store.record(s.id, 'image', { source: { example: 1 } }, dial(1), {
        afterBlob: hash,
        beforeBlob: 'd'.repeat(64),
      });
      const long = 'x'.repeat(500);
      const txt = store.record(s.id, 'text', { prompt: 'p' }, dial(2), {
        after: { text: long, tokens: [], tokenIds: [] },
      });
      expect(txt.name).toBeNull();
      expect(store.renameStep(s.id, img.id, '  red sky ').name).toBe('red sky');
      // only the current step keeps its output; every step keeps its preview
      const d = store.get(s.id);
      const first = d.steps.find((x) => x.id === img.id);
      expect(first?.output).toEqual({});
      expect(first?.preview).toEqual({ afterBlob: hash });
      expect(first?.name).toBe('red sky');
      expect(d.steps.find((x) => x.id === txt.id)?.preview).toEqual({
        text: long.slice(0, PREVIEW_CHARS),
      });
      const recipe = store.exportRecipe(s.id);
      expect(recipe.steps.map((x) => x.name ?? null)).toEqual(['red sky', null]);
      const copy = store.importRecipe(recipe);
      expect(copy.steps.map((x) => x.name)).toEqual(['red sky', null]);
      // an empty name takes it away; a step of another session is not found
      expect(store.renameStep(s.id, img.id, '').name).toBeNull();
      expect(() => store.renameStep(copy.session.id, img.id, 'x')).toThrow(/has no step/);
    } finally {
      store.close();
    }
  });
});

describe('sessions: the list of dials', () => {
  it('keeps the page’s dials (one never moved included) with the session, not as a step, across a reopen', () => {
    const file = path.join(tmpDir(), 's.sqlite');
    const at = (feature: number, value: number, label: string) => ({
      saeId: 'sae',
      feature,
      method: 'add' as const,
      value,
      label,
    });
    let store = new SessionStore(file, undefined, () => new Date(1000));
    let id = '';
    try {
      const s = store.create('p');
      id = s.id;
      expect(store.get(id).dials).toBeNull();
      store.record(id, 'text', { prompt: 'x' }, [at(1, 2, 'rivers')], {});
      // the page's list: the turned dial and one added but never moved, both at rest
      expect(store.setDials(id, [at(1, 0, 'rivers'), at(9, 0, 'mountains')])).toBe(true);
      expect(() => store.setDials('ses-none', [])).toThrow(/no session/);
    } finally {
      store.close();
    }
    store = new SessionStore(file, undefined, () => new Date(5000));
    try {
      const d = store.get(id);
      expect(d.dials?.map((x) => [x.feature, x.value, x.label])).toEqual([
        [1, 0, 'rivers'],
        [9, 0, 'mountains'],
      ]);
      // no step was made and the session's time stands (setDials is not an edit of the history)
      expect(d.steps).toHaveLength(1);
      expect(d.session.updatedAt).toBe(new Date(1000).toISOString());
      // the moves answer with the list too (the page reads it only when a session is reopened)
      expect(store.undo(id).dials).toHaveLength(2);
    } finally {
      store.close();
    }
  });
});

describe('sessions: image steps keep PNGs as blobs', () => {
  it('the reply carries raw pixels and the step; the step names PNG blobs by hash', async () => {
    const { home, models } = setup();
    cpSync(path.join(fixturePacks, 'emoji-tiny'), path.join(models, 'emoji-tiny'), {
      recursive: true,
    });
    const call = caller(start(home, models));
    const s = await call('sessions.create', { packId: 'orrery-emoji-tiny' });
    const run = (value: number) =>
      call('image.steer', {
        packId: 'orrery-emoji-tiny',
        source: { example: 1 },
        dials: [{ saeId: 'latent-32', feature: 2, method: 'add' as const, value }],
        sessionId: s.id,
        gestureId: 'drag-img',
      });
    await run(2);
    const r = await run(4);
    if ('framed' in r) throw new Error('a call without a job id gets its pixels in the reply');
    expect(r.before).toBeInstanceOf(Uint8Array);
    expect(r.after.length).toBe(r.width * r.height * 4);
    expect(r).not.toHaveProperty('png');
    const out = r.step?.output as { beforeBlob: string; afterBlob: string; metrics: unknown };
    expect(out.beforeBlob).toMatch(/^[0-9a-f]{64}$/);
    expect(out.metrics).toEqual(r.metrics);
    const png = PNG.sync.read(
      Buffer.from((await call('blobs.get', { hash: out.afterBlob })).bytes),
    );
    expect(new Uint8Array(png.data)).toEqual(r.after);
    const d = await call('sessions.get', { sessionId: s.id });
    expect(d.steps).toHaveLength(1);
    expect(JSON.stringify(d).length).toBeLessThan(2000); // hashes, no pixels
  });
});
