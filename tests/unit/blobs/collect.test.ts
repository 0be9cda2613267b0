/**
 * Blob collection on real files and a real sessions database, with the clock injected: a blob
 * is "old" because its mtime says so, never because the test waited.
 */
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeApp, type OrreryApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import { BlobStore } from '../../../main/blobs/blobStore';
import { BlobCollector, collectBlobs } from '../../../main/blobs/collect';
import { SessionStore } from '../../../main/sessions/sessionStore';
import { cleanupTmp, repoRoot, tmpDir } from '../../support/tmp';

const HOUR = 60 * 60 * 1000;
const GRACE = 24 * HOUR;
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (hours: number): Date => new Date(T0.getTime() + hours * HOUR);

/** A blob store and a sessions database in one data folder, both on a clock the test moves. */
function world() {
  const home = tmpDir();
  let now = T0;
  const clock = () => now;
  const blobs = new BlobStore(path.join(home, 'blobs'), clock);
  const db = new SessionStore(path.join(home, 'sessions.sqlite'), undefined, clock);
  const collect = () =>
    collectBlobs(blobs, async () => db.blobHashes(), { graceMs: GRACE, now: clock });
  return { home, blobs, db, collect, setNow: (d: Date) => (now = d) };
}

const bytes = (s: string, n = 100): Uint8Array => new TextEncoder().encode(s.padEnd(n, '.'));
const dial = (value: number) => [{ saeId: 'latent-32', feature: 3, method: 'add' as const, value }];

afterEach(() => cleanupTmp());

describe('blob collection', () => {
  it('keeps what steps name (every branch), recent and pinned blobs; frees the rest', async () => {
    const w = world();
    const photo = w.blobs.put(bytes('photo', 300)).hash;
    const out = (tag: string) => ({
      beforeBlob: w.blobs.put(bytes(`${tag} before`)).hash,
      afterBlob: w.blobs.put(bytes(`${tag} after`)).hash,
    });
    const s = w.db.create('orrery-emoji-tiny');
    const input = { source: { blob: photo, name: 'me.png' } };
    const first = out('first');
    w.db.record(s.id, 'image', input, dial(1), first);
    const undone = out('undone');
    w.db.record(s.id, 'image', input, dial(2), undone);
    w.db.undo(s.id);
    const branch = out('branch');
    w.db.record(s.id, 'image', input, dial(3), branch);
    // a session that is removed frees its outputs
    const gone = w.db.create('orrery-emoji-tiny');
    const removedOut = out('removed session');
    w.db.record(gone.id, 'image', { source: { example: 0 } }, dial(1), removedOut);
    w.db.remove(gone.id);
    // never named by a step: an old upload, an old one a caller pins, and a crash's half write
    const orphan = w.blobs.put(bytes('orphan', 1000)).hash;
    const pinned = w.blobs.put(bytes('pinned')).hash;
    const half = `${w.blobs.pathOf(orphan)}.abcdef.tmp`;
    writeFileSync(half, bytes('half', 50));
    utimesSync(half, T0, T0);
    // a day and an hour later a fresh upload arrives, not yet run
    w.setNow(at(25));
    const fresh = w.blobs.put(bytes('fresh')).hash;
    const release = w.blobs.pin([pinned]);

    const r = await w.collect();
    const named = [photo, ...Object.values(first), ...Object.values(undone)];
    for (const h of [...named, ...Object.values(branch), fresh, pinned])
      expect(w.blobs.has(h)).toBe(true);
    for (const h of [orphan, ...Object.values(removedOut)]) expect(w.blobs.has(h)).toBe(false);
    expect(existsSync(half)).toBe(false);
    expect(r).toEqual({ kept: 9, keptBytes: 300 + 8 * 100, removed: 4, freedBytes: 1250 });

    // unpinned, the pinned one goes at the next collection; the fresh one stays until its day is up
    release();
    expect((await w.collect()).removed).toBe(1);
    expect(w.blobs.has(pinned)).toBe(false);
    w.setNow(at(50));
    expect((await w.collect()).removed).toBe(1);
    expect(w.blobs.has(fresh)).toBe(false);
    expect(w.blobs.has(photo)).toBe(true);
    w.db.close();
  });

  it('a run that names an old upload again, or bytes put again, make it recent', async () => {
    const w = world();
    const old = w.blobs.put(bytes('old upload')).hash;
    const again = bytes('put again');
    const reput = w.blobs.put(again).hash;
    w.setNow(at(30));
    w.blobs.require(old); // what a run does with its source before the step is saved
    w.blobs.put(again);
    expect(await w.collect()).toMatchObject({ kept: 2, removed: 0 });
    expect(w.blobs.has(old) && w.blobs.has(reput)).toBe(true);
    w.db.close();
  });

  it('a blob gone before its turn is no error, and a missing folder collects nothing', async () => {
    const w = world();
    const h = w.blobs.put(bytes('x')).hash;
    expect(w.blobs.removeUnused(h, at(1))).toBe(100);
    expect(w.blobs.removeUnused(h, at(1))).toBeNull();
    const empty = new BlobStore(path.join(tmpDir(), 'never-made'));
    expect(await collectBlobs(empty, async () => [])).toEqual({
      kept: 0,
      keptBytes: 0,
      removed: 0,
      freedBytes: 0,
    });
    w.db.close();
  });

  it('one collection at a time: a call during one gets its result', async () => {
    const w = world();
    w.blobs.put(bytes('orphan'));
    w.setNow(at(25));
    const c = new BlobCollector(w.blobs, async () => w.db.blobHashes(), {
      graceMs: GRACE,
      now: () => at(25),
    });
    const [a, b] = await Promise.all([c.collect(), c.collect()]);
    expect(a).toBe(b);
    expect(a.removed).toBe(1);
    await c.dispose();
    w.db.close();
  });

  it('blobs.collect asks the sessions worker which blobs its steps name', async () => {
    const home = tmpDir();
    const blobs = new BlobStore(path.join(home, 'blobs'));
    const named = blobs.put(bytes('named')).hash;
    const unnamed = blobs.put(bytes('unnamed')).hash;
    const db = new SessionStore(path.join(home, 'sessions.sqlite'));
    const s = db.create('orrery-emoji-tiny');
    db.record(s.id, 'image', { source: { blob: named } }, dial(1), {});
    db.close();
    const twoDaysAgo = new Date(Date.now() - 48 * HOUR);
    for (const h of [named, unnamed]) utimesSync(blobs.pathOf(h), twoDaysAgo, twoDaysAgo);

    const app: OrreryApp = composeApp(resolveConfig('headless', repoRoot, { home, models: home }));
    try {
      const r = await app.dispatcher.dispatch('blobs.collect', {});
      expect(r).toEqual({
        ok: true,
        value: { kept: 1, keptBytes: 100, removed: 1, freedBytes: 100 },
      });
      expect(blobs.has(named)).toBe(true);
      expect(blobs.has(unnamed)).toBe(false);
    } finally {
      await app.dispose();
    }
  });
});
