/**
 * The one module that owns SQLite connections (lint keeps better-sqlite3 out of every other
 * file). Every database is opened in WAL mode with foreign keys on, and brought up to date
 * by numbered migrations inside one transaction each.
 */
import Database from 'better-sqlite3';

export type Db = Database.Database;

export interface Migration {
  /** 1, 2, 3 … in order; applied once each, recorded in PRAGMA user_version. */
  version: number;
  name: string;
  up: (db: Db) => void;
}

export interface OpenOptions {
  readonly?: boolean;
  migrations?: readonly Migration[];
  /**
   * When a commit reaches the disk. NORMAL (the default) in WAL mode: a committed transaction
   * survives the process being killed; FULL also survives power loss (one fsync per commit),
   * for small databases whose every write was acknowledged to the person (sessions, presets).
   */
  synchronous?: 'NORMAL' | 'FULL';
}

/**
 * Inside Electron the addon must be the copy built against Electron's headers
 * (scripts/electron-sqlite.cjs hands its path over in ORRERY_SQLITE_BINDING).
 */
export function nativeBinding(): string | undefined {
  return process.versions.electron ? process.env.ORRERY_SQLITE_BINDING : undefined;
}

export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const binding = nativeBinding();
  const db = new Database(file, {
    readonly: options.readonly ?? false,
    ...(binding ? { nativeBinding: binding } : {}),
  });
  try {
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    }
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    if (options.migrations) migrate(db, options.migrations);
  } catch (e) {
    // A file that is not a database fails here, not in the constructor: leave no handle open.
    db.close();
    throw e;
  }
  return db;
}

export function migrate(db: Db, migrations: readonly Migration[]): number {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  let current = version();
  for (const m of sorted) {
    if (m.version <= current) continue;
    // The version is read again inside a write transaction (BEGIN IMMEDIATE takes the write
    // lock first): another connection (the index worker's, a reader thread's) may have opened
    // the same new file and run this migration since, and running it twice fails.
    current = db
      .transaction(() => {
        const now = version();
        if (m.version <= now) return now;
        m.up(db);
        db.pragma(`user_version = ${m.version}`);
        return m.version;
      })
      .immediate();
  }
  return current;
}

export interface SqliteFacts {
  version: string;
  fts5: boolean;
  journalMode: string;
  integrity: string;
}

/** Opens a real file database, checks WAL, FTS5 and integrity, and reports what it found. */
export function probeSqlite(file: string): SqliteFacts {
  const db = openDatabase(file);
  try {
    const version = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
    const journalMode = String(db.pragma('journal_mode', { simple: true }));
    let fts5 = false;
    db.exec('create virtual table if not exists probe_fts using fts5(label)');
    db.prepare('insert into probe_fts(label) values (?)').run('orrery health probe');
    const hit = db
      .prepare("select count(*) as n from probe_fts where probe_fts match 'heal*'")
      .get() as {
      n: number;
    };
    fts5 = hit.n > 0;
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    return { version, fts5, journalMode, integrity };
  } finally {
    db.close();
  }
}
