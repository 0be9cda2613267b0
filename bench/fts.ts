/**
 * Search at scale (issue 19): full-text search over 1M labels in a real index file, CPU time
 * per query (process.cpuUsage: the figure that says what a query costs on a shared machine),
 * p50/p95 over 200 queries of each kind: a whole word (rare: ~100 matches; common: a metadata
 * key in a twelfth of the rows), a 3 and a 4 letter prefix of a word, a key and a prefix, a
 * prefix with a density filter, a very common 3 letter prefix. Wall times and the load average
 * are printed beside them. Queries run on a fresh read-only connection, as a reader thread opens
 * it: rare words first while nothing is mapped yet (first touch of every page: what a search
 * meets before the reader's warm-up has run), then the reader's warm-up (warm.ts, its CPU and
 * wall time printed), then every kind.
 *
 *   npx tsx bench/fts.ts [--rows 1000000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../main/db/connection';
import { openIndex, searchFeatures, type SearchQuery } from '../main/index';
import { mulberry32 } from '../main/index/build/rng';
import { pageWarmer } from '../main/index/warm';
import { pseudoWords, THEME_WORDS } from '../tests/support/synthetic1m';
import { percentile } from './stats';

export interface FtsBenchOptions {
  rows?: number;
  queries?: number;
  log?: (s: string) => void;
}

export interface FtsFigure {
  /** CPU milliseconds per query */
  cpuP50: number;
  cpuP95: number;
  /** wall milliseconds per query */
  wallP95: number;
  /** mean hits returned (at most the limit, 50) */
  hits: number;
}

export async function benchFts(o: FtsBenchOptions = {}): Promise<Record<string, unknown>> {
  const rows = o.rows ?? 1_000_000;
  const count = o.queries ?? 200;
  const log = o.log ?? ((s: string) => console.log(`search: ${s}`));
  const tmp = mkdtempSync(join(tmpdir(), 'orrery-bench-fts-'));
  const file = join(tmp, 'fts.sqlite');
  let db: Db = openIndex(file);
  try {
    const rand = mulberry32(5);
    // Labels like the build writes ("key=value", top tokens): 12 metadata keys, 20k
    // pseudo-word values (syllables), so a typed prefix matches a realistic share of rows.
    const vocab = pseudoWords();
    const keys = THEME_WORDS.slice(0, 12);
    const word = (): string => vocab[Math.floor(rand() * vocab.length)] as string;
    const common = (): string => THEME_WORDS[Math.floor(rand() * 60)] as string;
    const c0 = process.cpuUsage();
    db.prepare(
      "insert into saes(sae_id, hook, kind, d_sae, d_in, architecture) values ('s', 'h', 'text-lm', ?, 1, 'topk')",
    ).run(rows);
    const f = db.prepare(
      "insert into features(id, sae_id, idx, label, label_source, density, max_act) values (?, 's', ?, ?, 'metadata', ?, ?)",
    );
    const t = db.prepare(
      'insert into feature_fts(rowid, label, notes, description, top_tokens) values (?, ?, ?, ?, ?)',
    );
    db.transaction(() => {
      for (let i = 0; i < rows; i++) {
        const label = `${keys[i % keys.length] as string}=${word()}`;
        f.run(i + 1, i, label, rand() * 0.1, rand() * 10);
        t.run(i + 1, label, '', `AUC 0.9 for ${label}`, `${common()} ${word()}`);
      }
    })();
    const fill = process.cpuUsage(c0);
    log(`${rows} labels written in ${((fill.user + fill.system) / 1e6).toFixed(1)} s cpu`);
    // read as a reader thread does: a fresh read-only connection to the folded file
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    db = openIndex(file, { readonly: true });

    const run = (make: () => string, extra: Partial<SearchQuery> = {}): FtsFigure => {
      const wall: number[] = [];
      const cpu: number[] = [];
      let hits = 0;
      // one untimed query first: statements prepared, pages warm
      searchFeatures(db, { saeId: 's', text: make(), limit: 50, ...extra });
      for (let q = 0; q < count; q++) {
        const text = make();
        const u0 = process.cpuUsage();
        const t0 = performance.now();
        hits += searchFeatures(db, { saeId: 's', text, limit: 50, ...extra }).length;
        wall.push(performance.now() - t0);
        const u = process.cpuUsage(u0);
        cpu.push((u.user + u.system) / 1000);
      }
      return {
        cpuP50: percentile(cpu, 50),
        cpuP95: percentile(cpu, 95),
        wallP95: percentile(wall, 95),
        hits: hits / count,
      };
    };
    const prefix = (len: number) => (): string => word().slice(0, len);
    const kinds: [string, () => string, Partial<SearchQuery>?][] = [
      ['a whole word (rare)', word],
      [
        'a whole word (a metadata key, 1/12 of rows)',
        () => keys[Math.floor(rand() * 12)] as string,
      ],
      ['a 3 letter prefix', prefix(3)],
      ['a 4 letter prefix', prefix(4)],
      [
        'a key and a 4 letter prefix',
        () => `${keys[Math.floor(rand() * 12)] as string} ${word().slice(0, 4)}`,
      ],
      ['a 4 letter prefix, density filter', prefix(4), { densityMin: 0.05 }],
      ['a very common 3 letter prefix', () => common().slice(0, 3)],
    ];
    const figures: Record<string, FtsFigure> = {};
    const cold = run(word);
    figures['a whole word (rare), before the warm-up'] = cold;
    log(
      `a whole word (rare), fresh connection before the reader's warm-up (first touch of its pages): ` +
        `cpu p50 ${cold.cpuP50.toFixed(1)} ms, p95 ${cold.cpuP95.toFixed(1)} ms (wall p95 ${cold.wallP95.toFixed(1)} ms); ` +
        `load ${(loadavg()[0] ?? 0).toFixed(1)}`,
    );
    const w0 = process.cpuUsage();
    const t0 = performance.now();
    const step = pageWarmer(db);
    let warmed = 0;
    let slices = 0;
    for (let r = step(); r !== null; r = step(), slices++) warmed += r;
    const wc = process.cpuUsage(w0);
    log(
      `the reader's warm-up: ${warmed} rows in ${slices} slices, ${((wc.user + wc.system) / 1000).toFixed(0)} ms cpu, ` +
        `${(performance.now() - t0).toFixed(0)} ms wall`,
    );
    for (const [name, make, extra] of kinds) {
      const r = run(make, extra);
      figures[name] = r;
      log(
        `${name}: cpu p50 ${r.cpuP50.toFixed(1)} ms, p95 ${r.cpuP95.toFixed(1)} ms ` +
          `(wall p95 ${r.wallP95.toFixed(1)} ms), ${r.hits.toFixed(0)} hits; load ${(loadavg()[0] ?? 0).toFixed(1)}`,
      );
    }
    log(
      `goals (after the warm-up): words p95 ≤ 5 ms cpu, 3–4 letter prefixes p95 ≤ 10 ms cpu (${count} queries each, top 50)`,
    );
    return { rows, ...figures, load: loadavg()[0] ?? 0 };
  } finally {
    db.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function arg(flag: string): number | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (process.argv[1]?.replace(/\\/g, '/').endsWith('bench/fts.ts')) {
  benchFts({ rows: arg('--rows') }).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
