/**
 * Warming an index connection's search pages. Index connections read through a memory map
 * (INDEX_MMAP_BYTES); the first touch of each mapped page costs a page fault, and a search at
 * 1M labels touches a few hundred scattered pages (a rare word's ~500 matches: their FTS row
 * sizes for bm25, their features rows, the page's FTS text). Measured at 1M labels, load ~16:
 * rare words on a fresh connection p95 7.3 ms CPU, the same words again 2.7 ms; after reading
 * these tables through once, first-time words 3.5 ms. So a reader walks them in small slices
 * (a rowid range each) while it is otherwise idle, and searches run between slices.
 * The pages are the OS's file cache either way; warming maps them (they count in the process's
 * RSS as file pages, about 160 MB for an index of 1M labels).
 */
import type { Db } from '../db/connection';

/** The tables a search reads row by row: features (the join), the FTS row sizes (bm25) and
 * the FTS text (why a row matched). The doclists (feature_fts_data) are read a term at a time. */
export const WARM_TABLES = ['features', 'feature_fts_docsize', 'feature_fts_content'] as const;

/** Rows read per slice: about a thousand pages, a few ms of CPU. */
export const WARM_SLICE_ROWS = 50_000;

/**
 * A warmer for one connection: each call reads the next slice (every row of one rowid range
 * of one table, so every page holding them is touched) and returns the rows it read, or null
 * when every table has been read through. Tables the index lacks are skipped.
 */
export function pageWarmer(db: Db, sliceRows = WARM_SLICE_ROWS): () => number | null {
  const tables = WARM_TABLES.filter((t) =>
    db.prepare("select 1 from sqlite_schema where type = 'table' and name = ?").get(t),
  );
  let table = 0;
  let from = 0;
  let last: number | null = null;
  return () => {
    for (; table < tables.length; table++, from = 0, last = null) {
      const name = tables[table] as string;
      last ??=
        (db.prepare(`select max(rowid) as m from ${name}`).get() as { m: number | null }).m ?? 0;
      if (from >= last) continue;
      const to = Math.min(last, from + sliceRows);
      const rows = (
        db
          .prepare(`select count(*) as c from ${name} where rowid > ? and rowid <= ?`)
          .get(from, to) as { c: number }
      ).c;
      from = to;
      return rows;
    }
    return null;
  };
}

/**
 * Reads `db`'s search pages slice by slice, one slice per turn of the event loop (setImmediate),
 * so requests that arrive meanwhile are served between slices; stops when done, when the
 * connection closes, or on an error (warming is only ever a speed-up).
 */
export function warmInBackground(db: Db, sliceRows = WARM_SLICE_ROWS): void {
  let step: (() => number | null) | null = null;
  const tick = (): void => {
    if (!db.open) return;
    try {
      step ??= pageWarmer(db, sliceRows);
      if (step() !== null) setImmediate(tick);
    } catch {
      // a closed or replaced file: nothing to warm
    }
  };
  setImmediate(tick);
}
