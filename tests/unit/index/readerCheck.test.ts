/**
 * The first-use check a reader thread runs for the API thread (reader request 'check') follows
 * the same rule as opening with recovery (main/db/recover.ts checkDatabase): a file up to the
 * whole-check size is checked page by page (quick_check), a larger one by its structure, so a
 * large index is not read whole before the first map. Real index files, a real reader thread.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../main/app/config';
import { openIndex } from '../../../main/index';
import { ReaderPool } from '../../../main/services/index/readers';
import { cleanupTmp, repoRoot, tmpDir } from '../../support/tmp';

afterEach(() => cleanupTmp());

/** An index of a few hundred pages (feature rows with long labels), folded out of its WAL. */
function makeIndex(file: string): void {
  const db = openIndex(file);
  db.prepare(
    `insert into saes(sae_id, hook, kind, d_sae, d_in, architecture, n_examples, n_positions, built_at)
     values ('s', 'h', 'text-lm', 4000, 8, 'topk', 0, 0, null)`,
  ).run();
  const ins = db.prepare(
    `insert into features(id, sae_id, idx, label, label_source, density, n_active, max_act, mean_act)
     values (?, 's', ?, ?, 'neuronpedia', 0.01, 1, 1, 1)`,
  );
  db.transaction(() => {
    for (let i = 0; i < 4000; i++) ins.run(i + 1, i, `feature ${i} ${'x'.repeat(200)}`);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

describe('reader first-use check', () => {
  it('checks a small file whole and a large one by its structure', async () => {
    const config = resolveConfig('headless', repoRoot, { home: tmpDir(), models: tmpDir() });
    const pool = new ReaderPool(config.workers.reader, 1);
    try {
      const good = path.join(tmpDir(), 'good.sqlite');
      makeIndex(good);
      expect(statSync(good).size).toBeGreaterThan(4096 * 40);
      expect(await pool.run<boolean>({ type: 'check', file: good })).toBe(true);
      expect(await pool.run<boolean>({ type: 'check', file: good, wholeCheckBytes: 0 })).toBe(true);

      // Pages inside overwritten (the last feature rows' pages), header and schema intact: the
      // whole check reads them and fails; the structural one (every file is large at 0 bytes)
      // does not read them.
      const hurt = path.join(tmpDir(), 'hurt.sqlite');
      const bytes = readFileSync(good);
      randomBytes(4096 * 8).copy(bytes, bytes.length - 4096 * 10);
      writeFileSync(hurt, bytes);
      expect(await pool.run<boolean>({ type: 'check', file: hurt })).toBe(false);
      expect(await pool.run<boolean>({ type: 'check', file: hurt, wholeCheckBytes: 0 })).toBe(true);

      // A truncated file fails both: its header counts pages the file does not hold.
      const cut = path.join(tmpDir(), 'cut.sqlite');
      writeFileSync(cut, readFileSync(good));
      truncateSync(cut, Math.floor(statSync(cut).size / 2));
      expect(await pool.run<boolean>({ type: 'check', file: cut })).toBe(false);
      expect(await pool.run<boolean>({ type: 'check', file: cut, wholeCheckBytes: 0 })).toBe(false);

      // Not a database at all.
      const junk = path.join(tmpDir(), 'junk.sqlite');
      writeFileSync(junk, 'not a database');
      expect(await pool.run<boolean>({ type: 'check', file: junk, wholeCheckBytes: 0 })).toBe(
        false,
      );
    } finally {
      await pool.close();
    }
  });
});
