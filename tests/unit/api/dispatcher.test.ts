import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import { limits, type Progress } from '../../../preload/contract';
import { cleanupTmp, repoRoot, testAllow, tmpDir } from '../../support/tmp';

function app() {
  const home = tmpDir();
  return composeApp(
    resolveConfig('headless', repoRoot, { home, models: tmpDir(), allow: testAllow }),
  );
}

afterEach(cleanupTmp);

describe('dispatcher', () => {
  it('starts on a fresh machine whose data folder does not exist yet', async () => {
    const home = path.join(tmpDir(), 'not', 'yet', 'there');
    const a = composeApp(resolveConfig('headless', repoRoot, { home, models: tmpDir() }));
    expect(await a.dispatcher.dispatch('sessions.list', {})).toEqual({ ok: true, value: [] });
    await a.dispose();
  });

  it('answers a good call', async () => {
    const r = await app().dispatcher.dispatch('packs.list', {});
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value).toMatchObject({ packs: [], problems: [] });
  });

  it('names unknown calls', async () => {
    const r = await app().dispatcher.dispatch('packs.explode', {});
    expect(r).toEqual({
      ok: false,
      error: { code: 'unknown_call', message: 'there is no call named "packs.explode"' },
    });
  });

  it('rejects bad input with the field named, then keeps serving', async () => {
    const a = app();
    const bad = await a.dispatcher.dispatch('packs.import', { from: 3 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('bad_input');
      expect(bad.error.message).toContain('from');
    }
    expect((await a.dispatcher.dispatch('packs.list', {})).ok).toBe(true);
  });

  it('turns malformed text and binary messages into invalid_request replies', async () => {
    const a = app();
    const notJson = await a.dispatcher.handleMessage('{oops');
    expect(notJson).toMatchObject({
      id: null,
      result: { ok: false, error: { code: 'invalid_request' } },
    });
    const noCall = await a.dispatcher.handleMessage(JSON.stringify({ type: 'call', id: 4 }));
    expect(noCall).toMatchObject({
      id: 4,
      result: { ok: false, error: { code: 'invalid_request' } },
    });
    const huge = await a.dispatcher.handleMessage('x'.repeat(limits.messageBytes + 1));
    expect(huge).toMatchObject({ result: { ok: false, error: { code: 'too_large' } } });
    const notFrame = await a.dispatcher.handleMessage(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect(notFrame).toMatchObject({ result: { ok: false, error: { code: 'invalid_request' } } });
    const polluted = await a.dispatcher.handleMessage(
      '{"type":"call","id":5,"call":"app.health","input":{"__proto__":{"x":1}}}',
    );
    expect(polluted).toMatchObject({ id: 5, result: { ok: false, error: { code: 'bad_input' } } });
    const good = await a.dispatcher.handleMessage(
      JSON.stringify({ type: 'call', id: 6, call: 'packs.list', input: {} }),
    );
    expect(good).toMatchObject({ id: 6, result: { ok: true } });
  });

  it('reports bad packs on import as bad_pack naming the file', async () => {
    const a = app();
    const r = await a.dispatcher.dispatch('packs.import', { from: tmpDir() });
    expect(r).toMatchObject({ ok: false, error: { code: 'bad_pack' } });
    if (!r.ok) expect(r.error.message).toContain('manifest.json');
  });

  it('cancelling a job that is not running says so and emits nothing', async () => {
    const a = app();
    const seen: Progress[] = [];
    a.events.subscribe((m) => {
      if (m.event === 'job.progress') seen.push(m.payload);
    });
    const cancel = await a.dispatcher.dispatch('jobs.cancel', { jobId: 'nothing-running' });
    expect(cancel).toEqual({ ok: true, value: { cancelled: false } });
    expect(seen).toEqual([]);
  });
});
