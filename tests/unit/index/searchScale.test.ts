// Search at scale on a real index file: prefix queries served from FTS5's prefix index find
// exactly the features with a word starting that way; the cheap first pass (bm25 over the FTS
// table alone, top N) gives the same page as ranking every match when nothing filters; a
// filter that empties the first pass falls back to the full ranking.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../main/db/connection';
import { openIndex, refreshLabels, renameFeature, searchFeatures } from '../../../main/index';
import { mulberry32 } from '../../../main/index/build/rng';
import { FIRST_PASS_MIN, RANK_ALL_MAX } from '../../../main/index/search';
import { pseudoWords } from '../../support/synthetic1m';
import { tempDir } from './helpers';

const SAE = 'big';
const N = 3000;
const tmp = tempDir();
let db: Db;
const labels: string[] = [];

beforeAll(() => {
  db = openIndex(join(tmp.dir, 'scale.sqlite'));
  db.prepare(
    `insert into saes (sae_id, hook, kind, d_sae, d_in, architecture)
     values (?, 'h', 'text-lm', ?, 4, 'topk')`,
  ).run(SAE, N);
  const add = db.prepare(
    `insert into features (sae_id, idx, auto_label, auto_source, density, max_act)
     values (?, ?, ?, 'top-tokens', ?, ?)`,
  );
  const vocab = pseudoWords(400);
  const rand = mulberry32(11);
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      // every 7th feature is about "river"; the rest are pseudo-words
      const w1 = vocab[Math.floor(rand() * vocab.length)] as string;
      const w2 = vocab[Math.floor(rand() * vocab.length)] as string;
      const label = i % 7 === 0 ? `river ${w1}` : `${w1} ${w2}`;
      labels.push(label);
      add.run(SAE, i, label, i % 2 === 0 ? 0.01 : 0.2, rand() * 10);
    }
  })();
  refreshLabels(db, SAE);
});
afterAll(() => {
  db.close();
  tmp.cleanup();
});

const wordsOf = (l: string): string[] => l.toLowerCase().split(/\s+/);

describe('search at scale', () => {
  it('keeps a 2, 3 and 4 letter prefix index on the labels', () => {
    const sql = (
      db.prepare("select sql from sqlite_master where name = 'feature_fts'").get() as {
        sql: string;
      }
    ).sql;
    expect(sql).toMatch(/prefix\s*=\s*'2 3 4'/);
  });

  it('finds exactly the features with a word starting with a prefix', () => {
    for (const prefix of ['ba', 'kel', 'mira', 'thex', 'riv']) {
      const want = labels
        .map((l, i) => [l, i] as const)
        .filter(([l]) => wordsOf(l).some((w) => w.startsWith(prefix)))
        .map(([, i]) => i)
        .sort((a, b) => a - b);
      const got = searchFeatures(db, { saeId: SAE, text: prefix, limit: 1000 })
        .map((h) => h.idx)
        .sort((a, b) => a - b);
      // top tokens are derived from the label here: the label decides
      expect(got.slice(0, want.length)).toEqual(want.slice(0, got.length));
      expect(got.length).toBe(Math.min(want.length, 1000));
    }
  });

  it('gives the scores that ranking every match gives (ties may differ in members)', () => {
    const full = (text: string, limit: number, offset = 0): number[] =>
      (
        db
          .prepare(
            `select bm25(feature_fts, 10.0, 5.0, 2.0, 4.0) as s
             from feature_fts cross join features f on f.id = feature_fts.rowid
             where feature_fts match ? and f.sae_id = ?
             order by s, f.max_act desc, f.idx limit ? offset ?`,
          )
          .all(`"${text}"*`, SAE, limit, offset) as { s: number }[]
      ).map((r) => r.s);
    const matches = labels.filter((l) => wordsOf(l).some((w) => w.startsWith('ri'))).length;
    expect(matches).toBeGreaterThan(FIRST_PASS_MIN); // the first pass is cut
    for (const [text, limit, offset] of [
      ['river', 50, 0],
      ['river', 20, 100],
      ['ri', 50, 0],
    ] as const) {
      const got = searchFeatures(db, { saeId: SAE, text, limit, offset });
      // every hit matches, in score order, with the scores of the full ranking's page
      for (const h of got)
        expect(wordsOf(labels[h.idx] ?? '').some((w) => w.startsWith(text))).toBe(true);
      expect(got.map((h) => h.score)).toEqual(full(text, limit, offset));
    }
  });

  it('falls back to ranking every match when a filter empties the cut first pass', () => {
    const want = labels
      .map((l, i) => [l, i] as const)
      .filter(([l, i]) => wordsOf(l).includes('river') && i % 2 === 1)
      .map(([, i]) => i);
    const got = searchFeatures(db, {
      saeId: SAE,
      text: 'river',
      densityMin: 0.1,
      limit: 1000,
    }).map((h) => h.idx);
    expect(got.sort((a, b) => a - b)).toEqual(want);
  });
});

describe('search over more matches than it scores', () => {
  // its own index: 1,500 features, every one about "alpha", density alternating, no clusters
  const M = 1500;
  const mine = tempDir();
  let big: Db;
  beforeAll(() => {
    big = openIndex(join(mine.dir, 'broad.sqlite'));
    big
      .prepare(
        `insert into saes (sae_id, hook, kind, d_sae, d_in, architecture)
         values (?, 'h', 'text-lm', ?, 4, 'topk')`,
      )
      .run(SAE, M);
    const add = big.prepare(
      `insert into features (sae_id, idx, auto_label, auto_source, density, max_act)
       values (?, ?, ?, 'top-tokens', ?, ?)`,
    );
    const vocab = pseudoWords(400);
    big.transaction(() => {
      for (let i = 0; i < M; i++) {
        // some labels longer than others, so bm25 tells them apart
        const extra = i % 3 === 0 ? ` ${vocab[(i * 13) % 400] as string}` : '';
        add.run(SAE, i, `alpha ${vocab[i % 400] as string}${extra}`, i % 2 ? 0.2 : 0.01, i / M);
      }
    })();
    refreshLabels(big, SAE);
  });
  afterAll(() => {
    big.close();
    mine.cleanup();
  });

  it('ranks a sample spread over every matching feature, each hit a match, in score order', () => {
    expect(M).toBeGreaterThan(RANK_ALL_MAX);
    const got = searchFeatures(big, { saeId: SAE, text: 'alp', limit: 200 });
    expect(got.length).toBe(200);
    const scores = got.map((h) => h.score ?? 0);
    expect(scores).toEqual([...scores].sort((a, b) => a - b));
    // the best scores are the short labels (no third word), as ranking every match would say
    for (const h of got) expect(h.idx % 3).not.toBe(0);
    // the sample reaches the last features, not only the first RANK_ALL_MAX in id order
    expect(got.some((h) => h.idx >= RANK_ALL_MAX)).toBe(true);
    expect(got.some((h) => h.idx >= M - 100)).toBe(true);
    // each hit says why, from its own columns
    for (const h of got.slice(0, 5)) expect(h.why).toBe('‘alpha’ in its title');
    // a filter holds
    const dense = searchFeatures(big, { saeId: SAE, text: 'alpha', densityMin: 0.1, limit: 50 });
    expect(dense.length).toBe(50);
    for (const h of dense) expect(h.idx % 2).toBe(1);
    // a filter the spread sample misses falls back to every match in id order
    const one = searchFeatures(big, { saeId: SAE, text: 'alpha', densityMin: 0.1, limit: 700 });
    expect(one.length).toBe(700);
    for (const h of one) expect(h.idx % 2).toBe(1);
    expect(searchFeatures(big, { saeId: SAE, text: 'alpha', cluster: 5 })).toEqual([]);
  });

  it('never leaves a feature a person named to the sample: it joins it and ranks first', () => {
    const stride = Math.ceil(M / RANK_ALL_MAX);
    // a feature the spread sample skips (its row id is not a multiple of the stride)
    const named = Array.from({ length: M }, (_, i) => i).find(
      (i) => (i + 1) % stride !== 0 && i % stride !== 0 && i % 3 !== 0,
    ) as number;
    renameFeature(big, SAE, named, 'alpha of mine');
    try {
      const page = searchFeatures(big, { saeId: SAE, text: 'alpha', limit: 10 });
      expect(page[0]?.idx).toBe(named);
      expect(page[0]?.labelSource).toBe('user');
      // a later page does not show it again
      const next = searchFeatures(big, { saeId: SAE, text: 'alpha', limit: 10, offset: 10 });
      expect(next.map((h) => h.idx)).not.toContain(named);
      expect(next.length).toBe(10);
      // the filters hold for it too: a density range it is outside leaves it out
      const dense = named % 2 === 1;
      const inside = searchFeatures(big, {
        saeId: SAE,
        text: 'alpha',
        limit: 10,
        ...(dense ? { densityMin: 0.1 } : { densityMax: 0.1 }),
      });
      expect(inside[0]?.idx).toBe(named);
      const outside = searchFeatures(big, {
        saeId: SAE,
        text: 'alpha',
        limit: 10,
        ...(dense ? { densityMax: 0.1 } : { densityMin: 0.1 }),
      });
      expect(outside.map((h) => h.idx)).not.toContain(named);
      // they are found through their own partial index, not by joining every match
      const plan = (
        big
          .prepare(
            "explain query plan select id from features where sae_id = ? and label_source = 'user'",
          )
          .all(SAE) as { detail: string }[]
      ).map((r) => r.detail);
      expect(plan.join(' ')).toContain('features_user');
    } finally {
      renameFeature(big, SAE, named, null);
    }
  });
});
