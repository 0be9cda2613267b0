// bm25() computed in JavaScript against FTS5 itself, on a real index file: the tokenizer makes
// the tokens feature_fts stores, the averages record gives FTS5's row count and mean length,
// and every row's score equals FTS5's bm25() for one word, a prefix, a two-word phrase, words
// that must all match and alternatives of which any may.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../main/db/connection';
import { openIndex } from '../../../main/index';
import {
  bm25,
  frequencies,
  ftsTokenize,
  ftsTotals,
  idf,
  phrase,
  phraseSql,
  type Phrase,
} from '../../../main/index/bm25';
import { mulberry32 } from '../../../main/index/build/rng';
import { pseudoWords } from '../../support/synthetic1m';
import { tempDir } from './helpers';

const tmp = tempDir();
let db: Db;

const TRICKY = [
  'weight_class=bold',
  'Café Crème NAÏVE',
  'e\u0301te\u0301 x\u0301',
  'Straße ΣΊΣΥΦΟΣ İstanbul',
  "don't co-op 3.14 ½ ²",
  '日本語テキスト hindi हिन्दी',
  'ﬁne Ⅻ ø ł đ ǖ Ắ',
  '\tTabs\nand  spaces ',
];

beforeAll(() => {
  db = openIndex(join(tmp.dir, 'bm25.sqlite'));
  const add = db.prepare(
    `insert into feature_fts(rowid, label, notes, description, top_tokens, words)
     values (?, ?, ?, ?, ?, ?)`,
  );
  const vocab = pseudoWords(60);
  const rand = mulberry32(3);
  const words = (n: number): string =>
    Array.from({ length: n }, () => vocab[Math.floor(rand() * vocab.length)] as string).join(' ');
  db.transaction(() => {
    TRICKY.forEach((t, i) => add.run(i + 1, t, '', '', '', ''));
    for (let i = 0; i < 400; i++) {
      // the words land in every column, some rows twice, lengths vary
      const red = i % 3 === 0 ? 'red ' : '';
      add.run(
        100 + i,
        `${red}${words(1 + (i % 4))}`,
        i % 5 === 0 ? `red light ${words(2)}` : '',
        i % 2 === 0 ? `${words(3)} red light red` : words(6),
        words(2 + (i % 3)),
        i % 7 === 0 ? 'crimson scarlet' : '',
      );
    }
  })();
});
afterAll(() => {
  db.close();
  tmp.cleanup();
});

describe('bm25 in JavaScript', () => {
  it("tokenises as feature_fts's tokenizer does", () => {
    db.exec(`create virtual table temp.terms using fts5vocab(main, 'feature_fts', 'instance')`);
    const stored = db
      .prepare('select term from temp.terms where doc = ? and col = ? order by offset')
      .pluck();
    TRICKY.forEach((t, i) => expect(ftsTokenize(t)).toEqual(stored.all(i + 1, 'label')));
    const some = db.prepare(
      'select rowid, description from feature_fts where rowid >= 100 limit 20',
    );
    for (const r of some.all() as { rowid: number; description: string }[])
      expect(ftsTokenize(r.description)).toEqual(stored.all(r.rowid, 'description'));
    expect(ftsTokenize('weight_class')).toEqual(['weight', 'class']);
  });

  it("reads FTS5's row count and mean row length from its averages record", () => {
    const rows = (db.prepare('select count(*) as n from feature_fts').get() as { n: number }).n;
    const tokens = db
      .prepare('select sz from feature_fts_docsize')
      .pluck()
      .all()
      .reduce<number>((a, sz) => a + sizes(sz as Buffer), 0);
    expect(ftsTotals(db)).toEqual({ rows, avgdl: tokens / rows });
  });

  it("gives every matching row FTS5's bm25() score", () => {
    const { rows, avgdl } = ftsTotals(db);
    const some = pseudoWords(60)[4] as string;
    // each case: its phrase groups (all required, any of a group) and their FTS5 expression
    const cases: [Phrase[][], string][] = [
      [[[phrase('red', false)]], '"red"'],
      [[[phrase('re', true)]], '"re"*'],
      [[[phrase('red light', false)]], '"red light"'],
      [[[phrase('red', true)], [phrase(some, true)]], `"red"* AND "${some}"*`],
      [[[phrase('crimson', false), phrase('light', false)]], '("crimson" OR "light")'],
    ];
    const count = db.prepare('select count(*) as n from feature_fts where feature_fts match ?');
    // the weights written out: search.ts's column weights (label 10, notes 5, description 2,
    // top tokens 4, words 1)
    const scored = db.prepare(
      `select bm25(feature_fts, 10.0, 5.0, 2.0, 4.0, 1.0) as b, c.c0, c.c1, c.c2, c.c3, c.c4, d.sz
       from feature_fts cross join feature_fts_content c on c.id = feature_fts.rowid
       cross join feature_fts_docsize d on d.id = feature_fts.rowid
       where feature_fts match ?`,
    );
    for (const [groups, expr] of cases) {
      const phrases = groups.flat();
      const idfs = phrases.map((p) => idf(rows, (count.get(phraseSql(p)) as { n: number }).n));
      const found = scored.all(expr) as ({ b: number; sz: Buffer } & Record<string, string>)[];
      expect(found.length).toBeGreaterThan(5);
      for (const r of found) {
        const row = { cols: [r.c0, r.c1, r.c2, r.c3, r.c4].map((c) => c ?? null), sz: r.sz };
        expect(bm25(row, frequencies(row, phrases), idfs, avgdl)).toBeCloseTo(r.b, 10);
      }
      // the scores differ between rows, so equal scores are not an accident of a constant
      expect(new Set(found.map((r) => r.b.toFixed(9))).size).toBeGreaterThan(2);
    }
  });
});

/** A docsize record's total tokens (one SQLite varint a column, each below 128 here). */
function sizes(sz: Buffer): number {
  expect([...sz].every((b) => b < 128)).toBe(true);
  return [...sz].reduce((a, b) => a + b, 0);
}
