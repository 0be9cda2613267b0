// Search at scale on a real index file: prefix queries served from FTS5's prefix index find
// exactly the features with a word starting that way; up to RANK_ALL_MAX matches the page is
// FTS5's own ranking (bm25 over every match), with or without filters; past it the first
// matches in id order are ranked as FTS5's bm25 would rank them.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../main/db/connection';
import { openIndex, refreshLabels, renameFeature, searchFeatures } from '../../../main/index';
import { mulberry32 } from '../../../main/index/build/rng';
import { RANK_ALL_MAX } from '../../../main/index/search';
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
      // every 13th feature is about "river" (fewer than RANK_ALL_MAX); the rest are pseudo-words
      const w1 = vocab[Math.floor(rand() * vocab.length)] as string;
      const w2 = vocab[Math.floor(rand() * vocab.length)] as string;
      const label = i % 13 === 0 ? `river ${w1}` : `${w1} ${w2}`;
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
    const matches = labels.filter((l) => wordsOf(l).some((w) => w.startsWith('river'))).length;
    expect(matches).toBeLessThanOrEqual(RANK_ALL_MAX); // every match is ranked
    expect(matches).toBeGreaterThan(150);
    for (const [text, limit, offset] of [
      ['river', 50, 0],
      ['river', 20, 100],
    ] as const) {
      const got = searchFeatures(db, { saeId: SAE, text, limit, offset });
      // every hit matches, in score order, with the scores of the full ranking's page
      for (const h of got)
        expect(wordsOf(labels[h.idx] ?? '').some((w) => w.startsWith(text))).toBe(true);
      const want = full(text, limit, offset);
      expect(got.length).toBe(want.length);
      got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i] ?? 0, 9));
    }
  });

  it('ranks every match that passes a filter', () => {
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
  // its own index: 1,500 features, nearly every one matching "alpha": most in their title,
  // every 4th only in its top tokens; every 5th labelled by metadata; density alternating; no
  // clusters
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
      `insert into features (sae_id, idx, auto_label, auto_source, top_tokens, density, max_act)
       values (?, ?, ?, ?, ?, ?, ?)`,
    );
    const vocab = pseudoWords(400);
    const w = (i: number): string => vocab[i % 400] as string;
    big.transaction(() => {
      for (let i = 0; i < M; i++) {
        // some labels longer than others, so bm25 tells them apart
        const extra = i % 3 === 0 ? ` ${w(i * 13)}` : '';
        const titled = i % 4 !== 1;
        // every 10th titled one about an "alphorn": a word "alph" finds and "alpha" does not
        const title = i % 10 === 7 ? 'alphorn' : 'alpha';
        add.run(
          SAE,
          i,
          `${titled ? title : w(i * 7)} ${w(i)}${extra}`,
          i % 5 === 0 ? 'metadata' : 'top-tokens',
          JSON.stringify(titled ? [w(i * 3), w(i * 11)] : ['alpha', w(i * 11)]),
          i % 2 ? 0.2 : 0.01,
          i / M,
        );
      }
    })();
    refreshLabels(big, SAE);
  });
  afterAll(() => {
    big.close();
    mine.cleanup();
  });

  /** FTS5's own ranking (bm25 × the source weight, written out here) of the first `cap`
   * matches in id order that pass `filter`: what the search must rank its sample as. */
  const fts5Ranking = (
    expr: string,
    filter: string,
    limit: number,
    cap = RANK_ALL_MAX,
  ): { idx: number; s: number }[] =>
    big
      .prepare(
        `select f.idx, bm25(feature_fts, 10.0, 5.0, 2.0, 4.0, 1.0) *
           case f.label_source when 'metadata' then 1.5 else 1.0 end as s
         from feature_fts cross join features f on f.id = feature_fts.rowid
         where feature_fts match @expr and f.id in (
           select f.id from feature_fts cross join features f on f.id = feature_fts.rowid
           where feature_fts match @expr and f.sae_id = @sae ${filter}
           order by f.id limit @cap)
         order by s, f.max_act desc, f.idx limit @limit`,
      )
      .all({ expr, sae: SAE, cap, limit }) as { idx: number; s: number }[];

  it("ranks the first matches in id order as FTS5's bm25 × the source weight does", () => {
    expect(M).toBeGreaterThan(RANK_ALL_MAX);
    for (const text of ['alp', 'alpha']) {
      const got = searchFeatures(big, { saeId: SAE, text, limit: 200 });
      const want = fts5Ranking(`"${text}"*`, '', 200);
      expect(got.length).toBe(200);
      expect(got.map((h) => h.idx)).toEqual(want.map((r) => r.idx));
      // one phrase: its IDF (estimated past the cap) scales every score alike
      const ratio = (got[0]?.score ?? 0) / (want[0]?.s ?? 1);
      expect(ratio).toBeGreaterThan(0);
      got.forEach((h, i) => expect((h.score ?? 0) / (want[i]?.s ?? 1)).toBeCloseTo(ratio, 9));
      // the scores differ: a constant score would order by max_act and fail above
      expect(new Set(got.map((h) => h.score)).size).toBeGreaterThan(3);
      // the sample is the first matches in id order: none past them
      const next = big
        .prepare(
          `select f.idx from feature_fts cross join features f on f.id = feature_fts.rowid
           where feature_fts match ? order by f.id limit 1 offset ?`,
        )
        .pluck()
        .get(`"${text}"*`, RANK_ALL_MAX) as number;
      expect(Math.max(...got.map((h) => h.idx))).toBeLessThan(next);
    }
    // "alpha", longer than the indexed prefixes and common, is searched as "alph" and each
    // row checked: an "alphorn" is not an alpha, but is an "alph"
    const alpha = searchFeatures(big, { saeId: SAE, text: 'alpha', limit: RANK_ALL_MAX });
    expect(alpha.some((h) => h.label?.startsWith('alphorn'))).toBe(false);
    const alph = searchFeatures(big, { saeId: SAE, text: 'alph', limit: RANK_ALL_MAX });
    expect(alph.some((h) => h.label?.startsWith('alphorn'))).toBe(true);
    // each hit says why, from its own columns
    const page = searchFeatures(big, { saeId: SAE, text: 'alpha', limit: 5 });
    for (const h of page) expect(h.why).toBe('‘alpha’ in its title');
  });

  it('ranks a title match above a match in the top tokens alone', () => {
    const got = searchFeatures(big, { saeId: SAE, text: 'alpha', limit: RANK_ALL_MAX });
    for (const source of ['metadata', 'top-tokens'] as const) {
      const mine = got.filter((h) => h.labelSource === source);
      const last = mine.map((h) => h.label?.startsWith('alpha') ?? false).lastIndexOf(true);
      const first = mine.findIndex((h) => !(h.label?.startsWith('alpha') ?? false));
      expect(first).toBeGreaterThan(0); // both kinds are on the page
      expect(last).toBeLessThan(first);
      expect(mine[first]?.why).toBe('‘alpha’ in its top tokens');
    }
  });

  it('keeps to the filters, taking the first matches that pass them', () => {
    const dense = searchFeatures(big, { saeId: SAE, text: 'alpha', densityMin: 0.1, limit: 50 });
    expect(dense.map((h) => h.idx)).toEqual(
      fts5Ranking('"alpha"*', 'and f.density >= 0.1', 50).map((r) => r.idx),
    );
    for (const h of dense) expect(h.idx % 2).toBe(1);
    // a page larger than the sample takes as many matches as it asks for
    const many = searchFeatures(big, { saeId: SAE, text: 'alpha', densityMin: 0.1, limit: 650 });
    expect(many.length).toBe(650);
    for (const h of many) expect(h.idx % 2).toBe(1);
    expect(many.map((h) => h.idx)).toEqual(
      fts5Ranking('"alpha"*', 'and f.density >= 0.1', 650, 650).map((r) => r.idx),
    );
    expect(searchFeatures(big, { saeId: SAE, text: 'alpha', cluster: 5 })).toEqual([]);
  });

  it('never leaves a feature a person named to the sample: it joins it and ranks first', () => {
    // a feature past the first RANK_ALL_MAX matches, so outside the sample
    const named = M - 7;
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
