/**
 * The blob hashes the sessions database names, for the blob collector (main/blobs/collect.ts).
 * Today they sit in steps: `input_json` (an uploaded image's or font's `source.blob`) and
 * `output_json` (`beforeBlob`, `afterBlob`: the PNGs of an image or specimen run, whose
 * `afterBlob` is the history's preview). Presets, saved selections and the sessions' dial
 * lists hold none. Rather than trust that list, every text column of every table is read and
 * every 64-hex-digit run in it counts: a column added later that names a blob keeps it without
 * a change here, and a hash-shaped string that is not one only keeps a file a little longer.
 */
import type { Db } from '../db/connection';

const HASHES = /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/g;

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export function blobHashes(db: Db): string[] {
  const tables = db
    .prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`)
    .pluck()
    .all() as string[];
  const found = new Set<string>();
  for (const table of tables) {
    const columns = (
      db.prepare(`select name, type from pragma_table_info(?)`).all(table) as {
        name: string;
        type: string;
      }[]
    ).filter((c) => /text/i.test(c.type));
    for (const c of columns) {
      const rows = db
        .prepare(`select ${quote(c.name)} from ${quote(table)} where ${quote(c.name)} is not null`)
        .pluck()
        .iterate() as IterableIterator<unknown>;
      for (const v of rows) {
        if (typeof v !== 'string') continue;
        for (const m of v.matchAll(HASHES)) found.add(m[0]);
      }
    }
  }
  return [...found];
}
