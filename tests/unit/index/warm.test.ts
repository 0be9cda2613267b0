// Warming an index connection's search pages (main/index/warm.ts) on a real index file: the
// warmer reads every row of the features, FTS row-size and FTS text tables, a slice of rowids
// at a time, then says it is done; the background warmer stops when the connection closes, and
// searches on the warmed connection give the same hits.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIndex, refreshLabels, searchFeatures } from '../../../main/index';
import { pageWarmer, WARM_TABLES, warmInBackground } from '../../../main/index/warm';
import { tempDir } from './helpers';

const SAE = 'w';
const N = 1234;
const tmp = tempDir();
const file = join(tmp.dir, 'warm.sqlite');

beforeAll(() => {
  const db = openIndex(file);
  db.prepare(
    `insert into saes (sae_id, hook, kind, d_sae, d_in, architecture)
     values (?, 'h', 'text-lm', ?, 4, 'topk')`,
  ).run(SAE, N);
  const add = db.prepare(
    `insert into features (sae_id, idx, auto_label, auto_source, density, max_act)
     values (?, ?, ?, 'top-tokens', 0.01, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < N; i++) add.run(SAE, i, i % 5 === 0 ? `river ${i}` : `stone ${i}`, i);
  })();
  refreshLabels(db, SAE);
  db.close();
});
afterAll(() => tmp.cleanup());

describe('index page warmer', () => {
  it('reads every row of each search table in slices, then says it is done', () => {
    const db = openIndex(file, { readonly: true });
    try {
      const rows = WARM_TABLES.map(
        (t) => (db.prepare(`select count(*) as c from ${t}`).get() as { c: number }).c,
      );
      expect(rows.every((r) => r === N)).toBe(true);
      const step = pageWarmer(db, 100);
      const slices: number[] = [];
      for (let r = step(); r !== null; r = step()) slices.push(r);
      expect(slices.reduce((a, b) => a + b, 0)).toBe(3 * N);
      expect(slices.length).toBe(3 * Math.ceil(N / 100));
      expect(Math.max(...slices)).toBeLessThanOrEqual(100);
      expect(step()).toBeNull();
    } finally {
      db.close();
    }
  });

  it('warms in the background without changing what a search finds, and stops on close', async () => {
    const db = openIndex(file, { readonly: true });
    const before = searchFeatures(db, { saeId: SAE, text: 'river', limit: 20 });
    warmInBackground(db, 50);
    const during = searchFeatures(db, { saeId: SAE, text: 'river', limit: 20 });
    await new Promise((r) => setTimeout(r, 50));
    expect(during).toEqual(before);
    expect(before.length).toBe(20);
    db.close();
    // a tick after close finds the connection closed and ends quietly
    await new Promise((r) => setImmediate(r));
    expect(db.open).toBe(false);
  });
});
