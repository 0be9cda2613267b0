/**
 * Opening an index file: its own module, so that the reader threads (reader.ts) open files
 * without loading the build pipeline that the index barrel (index.ts) re-exports.
 */
import { openDatabase, type Db } from '../db/connection';
import { openRecovering, type Recovery } from '../db/recover';
import { migrations } from './migrations';

/**
 * Bytes of an index file read through a memory map rather than read() calls. A search at 1M
 * labels touches a few hundred scattered pages of the FTS and features tables: through the
 * page cache's read() each costs a system call (a 3-letter prefix: 5.2 ms CPU median, 2.6 ms
 * mapped). Address space only; pages stay the OS's file cache.
 */
export const INDEX_MMAP_BYTES = 1 << 30;

/**
 * Opens (creating and migrating if needed) a feature index database. With `onRecovered`, a
 * file that is not a usable database is checked (PRAGMA quick_check), moved aside and replaced
 * by a fresh one, and reported (see main/db/recover.ts).
 */
export function openIndex(
  file: string,
  options: { readonly?: boolean; onRecovered?: (r: Recovery) => void } = {},
): Db {
  const db = options.readonly
    ? openDatabase(file, { readonly: true })
    : options.onRecovered
      ? openRecovering(file, { migrations }, options.onRecovered)
      : openDatabase(file, { migrations });
  db.pragma(`mmap_size = ${INDEX_MMAP_BYTES}`);
  return db;
}
