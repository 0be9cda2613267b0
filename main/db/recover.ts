/**
 * Opening a database the person cannot fix by hand. A file in the database's place that is not
 * a database (random bytes, a bad header, a folder, a truncated or damaged file) is moved aside
 * as `<name>.corrupt-<ISO time without colons>` with its -wal and -shm (never deleted), a fresh
 * database is created and migrated, and the caller is told which file, why, and where the old
 * one is, so the app starts and can say so. A file up to WHOLE_CHECK_BYTES is checked whole
 * (PRAGMA quick_check); a larger one by its structure, so opening it does not read every page.
 * A whole check that passed is remembered beside the file (`<name>.checked`: its size, mtime and
 * inode); while the file is unchanged since, later opens check it by its structure only.
 */
import {
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { OrreryError } from '../../preload/contract/errors';
import { migrate, openDatabase, type Db, type OpenOptions } from './connection';

/** What happened to a database that could not be used. */
export interface Recovery {
  /** The database's path (where a fresh one now is). */
  file: string;
  /** Where the old file was moved. */
  movedTo: string;
  /** Why it could not be used, in a person's words. */
  reason: string;
  /** When (ISO time). */
  at: string;
}

/** SQLite result codes that mean the bytes on disk are not a usable database. */
const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_VTAB']);

function sqliteCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True when an error says the file is not a database or is damaged. */
export function isCorruptionError(e: unknown): boolean {
  const code = sqliteCode(e);
  return code !== undefined && [...CORRUPT_CODES].some((c) => code.startsWith(c));
}

/** `2025-01-31T120501Z`: ISO 8601 without colons (they are not allowed in Windows names). */
export function stampNow(date = new Date()): string {
  return date
    .toISOString()
    .replace(/:/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Moves `file` (and its -wal, -shm) to a free `<file>.corrupt-<stamp>[-n]`; returns the new path. */
export function moveAside(file: string, date = new Date()): string {
  const base = `${file}.corrupt-${stampNow(date)}`;
  let target = base;
  for (let n = 2; existsSync(target); n++) target = `${base}-${n}`;
  renameSync(file, target);
  for (const ext of ['-wal', '-shm']) {
    if (existsSync(`${file}${ext}`)) renameSync(`${file}${ext}`, `${target}${ext}`);
  }
  return target;
}

/** Why the thing at `file` cannot be a database, before SQLite is asked (null: ask SQLite). */
function preflight(file: string): string | null {
  let st;
  try {
    st = lstatSync(file);
  } catch {
    return null; // nothing there: SQLite creates it
  }
  if (st.isDirectory()) return 'a folder is in the place of the database file';
  if (!st.isFile()) return 'something other than a file is in the place of the database';
  if (st.size === 0) return null; // an empty file is a new database
  // Checked here so that SQLite never touches the -wal of a file that is no database.
  const head = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, 'r');
  let read = 0;
  try {
    read = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (read < head.length || !head.equals(SQLITE_HEADER))
    return `it is not an SQLite database (its first bytes are not "SQLite format 3")`;
  if (st.size < 512) return `it is not an SQLite database (${st.size} bytes, shorter than a page)`;
  return null;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Files up to this size are checked whole at open: PRAGMA quick_check reads every page (15 s for
 * the 1.3 GB index of a synthetic 1M-feature SAE at load ~16 on 2 cores, on the thread that
 * serves calls, before the first map could be read). A larger file gets the structural check:
 * its header (preflight), every page its header counts present in the file and its -wal, and its
 * schema read (the migrations); damage inside its pages shows as an error when they are read.
 */
export const WHOLE_CHECK_BYTES = 256 * 2 ** 20;

function corrupt(message: string): Error {
  const e = new Error(message);
  (e as { code?: string }).code = 'SQLITE_CORRUPT';
  return e;
}

/**
 * Checks an open connection to `file`: whole (PRAGMA quick_check) up to `wholeCheckBytes`
 * unless a whole check passed on it unchanged since, else by its structure (schema read, every
 * page its header counts present in the file and its -wal). Throws an error with code
 * SQLITE_CORRUPT (or SQLite's own) when it is not usable.
 */
export function checkDatabase(db: Db, file: string, wholeCheckBytes = WHOLE_CHECK_BYTES): void {
  const bytes = existsSync(file) ? statSync(file).size : 0;
  if (bytes <= wholeCheckBytes && !checkedUnchanged(file)) {
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
    if (problems.length > 0)
      throw corrupt(`the integrity check failed: ${problems.slice(0, 3).join('; ')}`);
    rememberCheck(file);
    return;
  }
  db.prepare('select count(*) from sqlite_schema').get();
  const pages = Number(db.pragma('page_count', { simple: true }));
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  const wal = existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0;
  if (pages * pageSize > bytes + wal)
    throw corrupt(`the file holds ${bytes} bytes of its ${pages} pages of ${pageSize}`);
}

/**
 * How long before its whole check a file must have been last written for the check to be
 * remembered: a write right after the check may leave the mtime where it was (file systems keep
 * it at their clock's grain), and the record could not tell the two apart ("racily clean", as
 * git calls it). An mtime in whole seconds means a coarse file system (FAT: 2 s, HFS+: 1 s);
 * others keep nanoseconds, written at the kernel's tick (at most 10 ms).
 */
function settledMs(mtimeMs: number): number {
  return mtimeMs % 1000 === 0 ? 2_000 : 100;
}

/** What a remembered whole check is keyed by: the file as it was (no pending -wal). */
interface Checked {
  size: number;
  mtimeMs: number;
  ino: number;
}

/** The file's key, or null when it has a -wal with frames (its state is not the file alone). */
function checkedKey(file: string): Checked | null {
  try {
    const wal = `${file}-wal`;
    if (existsSync(wal) && statSync(wal).size > 0) return null;
    const st = statSync(file);
    return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
  } catch {
    return null;
  }
}

/** True when a whole check passed on this file and it has not changed since. */
function checkedUnchanged(file: string): boolean {
  const now = checkedKey(file);
  if (!now) return false;
  try {
    const was = JSON.parse(readFileSync(`${file}.checked`, 'utf8')) as Partial<Checked>;
    return was.size === now.size && was.mtimeMs === now.mtimeMs && was.ino === now.ino;
  } catch {
    return false; // none, or unreadable: check whole
  }
}

/** Remembers that `file` passed its whole check (a settled file only; best effort). */
function rememberCheck(file: string): void {
  const key = checkedKey(file);
  if (!key || Date.now() - key.mtimeMs < settledMs(key.mtimeMs)) return;
  writeChecked(file, key);
}

/**
 * Records `file` as whole-checked without checking it: for a copy the app has just written,
 * with no connection open on it yet, of bytes a whole check would not make better (a pack's
 * shipped index: an imported pack's passed one when it was imported, a bundled one comes with
 * the app, and a damaged copy would only be seeded again from the same bytes). Any later
 * change to the file brings the whole check back.
 */
export function trustAsChecked(file: string): void {
  const key = checkedKey(file);
  if (key) writeChecked(file, key);
}

function writeChecked(file: string, key: Checked): void {
  try {
    writeFileSync(`${file}.checked`, JSON.stringify(key));
  } catch {
    // a read-only folder: the next open checks whole again
  }
}

/** Opens, checks (whole, or by structure above `wholeCheckBytes`) and migrates; throws on anything wrong. */
function openChecked(file: string, options: OpenOptions, wholeCheckBytes: number): Db {
  const db = openDatabase(file, { ...options, migrations: undefined });
  try {
    checkDatabase(db, file, wholeCheckBytes);
    if (options.migrations) migrate(db, options.migrations);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** A person's words for an SQLite error about a damaged file. */
function describe(e: unknown): string {
  const code = sqliteCode(e);
  const message = (e as Error).message;
  if (code === 'SQLITE_NOTADB') return `it is not an SQLite database (${message})`;
  return `it is damaged (${message})`;
}

/**
 * Opens `file` read-write with `options` (WAL, migrations); if the file is not a usable
 * database, moves it aside, creates a fresh one and reports it through `onRecovered`.
 * Errors that are not about the file's contents (a folder that cannot be written, a
 * migration bug) are thrown as they are, as an `unavailable` OrreryError.
 */
export function openRecovering(
  file: string,
  options: OpenOptions,
  onRecovered: (r: Recovery) => void,
  wholeCheckBytes = WHOLE_CHECK_BYTES,
): Db {
  const at = new Date();
  let reason = preflight(file);
  if (reason === null) {
    try {
      return openChecked(file, options, wholeCheckBytes);
    } catch (e) {
      if (!isCorruptionError(e)) {
        throw new OrreryError(
          'unavailable',
          `${file}: cannot open the database (${(e as Error).message})`,
        );
      }
      reason = describe(e);
    }
  }
  const movedTo = moveAside(file, at);
  const db = openChecked(file, options, wholeCheckBytes);
  onRecovered({ file, movedTo, reason, at: at.toISOString() });
  return db;
}
