/**
 * A feature index in the data folder that is no longer a database: the next start checks it
 * on first use, moves it aside (never deleted), says so through app.notices, and seeds a
 * fresh copy from the pack's shipped index, so the galaxy is back without a rebuild.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeApp, type OrreryApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import type { NoticeList } from '../../../preload/contract';
import { cleanupTmp, repoRoot, tmpDir } from '../../support/tmp';

const apps: OrreryApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.dispose();
  cleanupTmp();
});

const glyphs = path.join(repoRoot, 'models', 'glyphs');

function start(home: string): OrreryApp {
  // The shipped typeface pack, read where it is (bundled), with its features.sqlite.br.
  const app = composeApp(
    resolveConfig('headless', repoRoot, { home, models: path.dirname(glyphs) }),
  );
  apps.push(app);
  return app;
}

async function call<T>(app: OrreryApp, name: string, input: unknown): Promise<T> {
  const r = await app.dispatcher.dispatch(name, input);
  if (!r.ok) throw new Error(`${name}: ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}

describe.skipIf(!existsSync(path.join(glyphs, 'features.sqlite.br')))(
  'feature index recovery',
  () => {
    it('moves a damaged index copy aside, says so, and seeds it again from the pack', async () => {
      const home = tmpDir();
      const ref = { packId: 'orrery-glyphs', saeId: 'style-512' };
      const first = start(home);
      expect(await call(first, 'index.status', ref)).toMatchObject({ built: true });
      // a search needs the copy (status alone may come from the maps shipped beside it)
      await call(first, 'index.search', { ...ref, query: 'bold' });
      expect(await call<NoticeList>(first, 'app.notices', {})).toEqual({ notices: [] });
      await first.dispose();
      apps.splice(0);

      const file = path.join(home, 'index', 'orrery-glyphs.sqlite');
      const bytes = readFileSync(file);
      bytes.write('garbage, not SQL', 0, 'latin1'); // the header gone
      writeFileSync(file, bytes);

      const second = start(home);
      expect(await call(second, 'index.status', ref)).toMatchObject({ built: true });
      const { notices } = await call<NoticeList>(second, 'app.notices', {});
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatchObject({ kind: 'database_recovered', file });
      expect(notices[0]?.title).toContain('orrery-glyphs.sqlite');
      const kept = readdirSync(path.dirname(file)).filter((n) => n.includes('.corrupt-'));
      expect(kept.some((n) => /^orrery-glyphs\.sqlite\.corrupt-[\dT-]+Z$/.test(n))).toBe(true);
      expect(readFileSync(notices[0]?.movedTo ?? '').equals(bytes)).toBe(true);
      // The fresh copy is the shipped one again: a search finds features.
      const hits = await call<{ hits: unknown[] }>(second, 'index.search', {
        ...ref,
        query: 'bold',
      });
      expect(hits.hits.length).toBeGreaterThan(0);
    }, 120_000);
  },
);
