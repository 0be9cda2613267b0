import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NoticeBoard } from '../../../main/app/notices';
import { openDatabase, type Migration } from '../../../main/db/connection';
import {
  checkDatabase,
  openRecovering,
  stampNow,
  WHOLE_CHECK_BYTES,
  type Recovery,
} from '../../../main/db/recover';
import { openIndex } from '../../../main/index/index';
import { SessionStore } from '../../../main/sessions/sessionStore';
import { cleanupTmp, tmpDir } from '../../support/tmp';

afterEach(cleanupTmp);

const migrations: Migration[] = [
  {
    version: 1,
    name: 'notes',
    up: (db) => db.exec('create table notes (id integer primary key, body text not null)'),
  },
];

/** A real database of several pages, closed and checkpointed. */
function makeDb(file: string, rows = 2000): void {
  const db = openDatabase(file, { migrations });
  const ins = db.prepare('insert into notes (body) values (?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) ins.run(`note ${i} ${'x'.repeat(200)}`);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

function open(file: string): { recoveries: Recovery[]; rows: number } {
  const recoveries: Recovery[] = [];
  const db = openRecovering(file, { migrations }, (r) => recoveries.push(r));
  const rows = (db.prepare('select count(*) as n from notes').get() as { n: number }).n;
  db.close();
  return { recoveries, rows };
}

/** The damaged file is kept, byte for byte, under `<name>.corrupt-<time>`. */
function expectMovedAside(file: string, r: Recovery | undefined, before: Buffer | null): void {
  expect(r?.file).toBe(file);
  expect(r?.movedTo).toMatch(/sessions\.sqlite\.corrupt-\d{4}-\d\d-\d\dT\d{6}Z(-\d+)?$/);
  expect(r?.movedTo).not.toContain(':');
  expect(existsSync(r?.movedTo ?? '')).toBe(true);
  if (before) expect(readFileSync(r?.movedTo ?? '').equals(before)).toBe(true);
}

describe('database recovery', () => {
  it('opens a healthy database as it is, in WAL mode', () => {
    const file = path.join(tmpDir(), 'sessions.sqlite');
    makeDb(file, 10);
    const r = open(file);
    expect(r).toEqual({ recoveries: [], rows: 10 });
    expect(readdirSync(path.dirname(file)).filter((n) => n.includes('corrupt'))).toEqual([]);
  });

  it('moves aside a file with a bad header (random bytes) and starts afresh', () => {
    const file = path.join(tmpDir(), 'sessions.sqlite');
    writeFileSync(file, randomBytes(8192));
    const before = readFileSync(file);
    const r = open(file);
    expect(r.rows).toBe(0);
    expect(r.recoveries).toHaveLength(1);
    expect(r.recoveries[0]?.reason).toContain('not an SQLite database');
    expectMovedAside(file, r.recoveries[0], before);
  });

  it('moves aside a database whose header was overwritten', () => {
    const file = path.join(tmpDir(), 'sessions.sqlite');
    makeDb(file, 50);
    const bytes = readFileSync(file);
    bytes.write('Not a database!!', 0, 'latin1');
    writeFileSync(file, bytes);
    const r = open(file);
    expect(r.recoveries).toHaveLength(1);
    expectMovedAside(file, r.recoveries[0], bytes);
  });

  it('moves aside a truncated database (quick_check)', () => {
    const file = path.join(tmpDir(), 'sessions.sqlite');
    makeDb(file);
    const size = statSync(file).size;
    truncateSync(file, Math.floor(size / 2));
    const before = readFileSync(file);
    const r = open(file);
    expect(r.rows).toBe(0);
    expect(r.recoveries).toHaveLength(1);
    expect(r.recoveries[0]?.reason).toMatch(/damaged|not an SQLite/);
    expectMovedAside(file, r.recoveries[0], before);
  });

  it('moves aside a database with damaged pages inside (quick_check)', () => {
    const file = path.join(tmpDir(), 'sessions.sqlite');
    makeDb(file);
    const bytes = readFileSync(file);
    // Scribble over the middle pages, leaving the header and schema page intact.
    randomBytes(4096 * 8).copy(bytes, 4096 * 4);
    writeFileSync(file, bytes);
    const r = open(file);
    expect(r.recoveries).toHaveLength(1);
    expect(r.recoveries[0]?.reason).toContain('damaged');
    expectMovedAside(file, r.recoveries[0], bytes);
  });

  it('above the whole-check size: a truncated file is still moved aside, damage inside shows when read', () => {
    const openBig = (
      file: string,
    ): { recoveries: Recovery[]; db: ReturnType<typeof openDatabase> } => {
      const recoveries: Recovery[] = [];
      // Every file counts as large here (the app's threshold is WHOLE_CHECK_BYTES, 256 MiB).
      const db = openRecovering(file, { migrations }, (r) => recoveries.push(r), 0);
      return { recoveries, db };
    };
    const cut = path.join(tmpDir(), 'sessions.sqlite');
    makeDb(cut);
    truncateSync(cut, Math.floor(statSync(cut).size / 2));
    const before = readFileSync(cut);
    const t = openBig(cut);
    expect(t.recoveries).toHaveLength(1);
    expect(t.recoveries[0]?.reason).toMatch(/damaged/);
    expectMovedAside(cut, t.recoveries[0], before);
    t.db.close();

    const hurt = path.join(tmpDir(), 'sessions.sqlite');
    makeDb(hurt);
    const bytes = readFileSync(hurt);
    randomBytes(4096 * 8).copy(bytes, 4096 * 4);
    writeFileSync(hurt, bytes);
    const h = openBig(hurt);
    // Opened without reading every page: the damage is not seen at open…
    expect(h.recoveries).toHaveLength(0);
    // …but as SQLite's own corruption error when the damaged pages are read.
    expect(() => h.db.prepare('select count(*), sum(length(body)) from notes').get()).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^SQLITE_CORRUPT/) }),
    );
    h.db.close();
    expect(WHOLE_CHECK_BYTES).toBe(256 * 2 ** 20);
  });

  it('remembers a whole check: the same file unchanged is checked by its structure next time', () => {
    const file = path.join(tmpDir(), 'index.sqlite');
    makeDb(file);
    const check = (): void => {
      const db = openDatabase(file, { readonly: true });
      try {
        checkDatabase(db, file);
      } finally {
        db.close();
      }
    };
    // Not settled (its mtime not before the check by the file system's grain; here a minute
    // ahead): a write right after the check could keep that mtime, so no record.
    const ahead = new Date(Date.now() + 60_000);
    utimesSync(file, ahead, ahead);
    check();
    expect(existsSync(`${file}.checked`)).toBe(false);
    // Settled (last written a minute ago): checked whole, and remembered.
    const past = new Date(Date.now() - 60_000);
    utimesSync(file, past, past);
    check();
    expect(existsSync(`${file}.checked`)).toBe(true);
    // Pages inside damaged, the same size, the mtime put back: the record still matches, so
    // only the structure is checked and the damage is not seen at open.
    const bytes = readFileSync(file);
    randomBytes(4096 * 8).copy(bytes, 4096 * 4);
    writeFileSync(file, bytes);
    utimesSync(file, past, past);
    expect(check).not.toThrow();
    // Any write moves the mtime: checked whole again, and the damage is found.
    const later = new Date(Date.now() - 30_000);
    utimesSync(file, later, later);
    expect(check).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^SQLITE_CORRUPT/) }),
    );
  });

  it('moves aside a folder in the place of the database, with what is inside it', () => {
    const file = path.join(tmpDir(), 'sessions.sqlite');
    mkdirSync(file);
    writeFileSync(path.join(file, 'kept.txt'), 'mine');
    const r = open(file);
    expect(r.rows).toBe(0);
    expect(r.recoveries[0]?.reason).toContain('folder');
    expectMovedAside(file, r.recoveries[0], null);
    expect(readFileSync(path.join(r.recoveries[0]?.movedTo ?? '', 'kept.txt'), 'utf8')).toBe(
      'mine',
    );
    expect(statSync(file).isFile()).toBe(true);
  });

  it('keeps the -wal and -shm beside the moved file, and never overwrites an earlier one', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'sessions.sqlite');
    writeFileSync(file, 'garbage');
    writeFileSync(`${file}-wal`, 'wal bytes');
    const first = open(file).recoveries[0];
    expect(readFileSync(`${first?.movedTo}-wal`, 'utf8')).toBe('wal bytes');
    // The fresh database is damaged in turn within the same second: a second name is chosen.
    const db = openDatabase(file);
    db.close();
    writeFileSync(file, 'garbage again');
    for (const ext of ['-wal', '-shm']) writeFileSync(`${file}${ext}`, '');
    const second = open(file).recoveries[0];
    expect(second?.movedTo).not.toBe(first?.movedTo);
    expect(readFileSync(first?.movedTo ?? '', 'utf8')).toBe('garbage');
    expect(readFileSync(second?.movedTo ?? '', 'utf8')).toBe('garbage again');
  });

  it('an empty file is a fresh database, not a damaged one', () => {
    const file = path.join(tmpDir(), 'sessions.sqlite');
    writeFileSync(file, '');
    expect(open(file)).toEqual({ recoveries: [], rows: 0 });
  });

  it('stamps without colons', () => {
    expect(stampNow(new Date('2025-03-04T05:06:07.891Z'))).toBe('2025-03-04T050607Z');
  });
});

describe('sessions store and feature index on a damaged file', () => {
  it('the sessions store starts on a fresh database, says so, and commits durably', () => {
    const file = path.join(tmpDir(), 'sessions.sqlite');
    writeFileSync(file, randomBytes(3000));
    const board = new NoticeBoard();
    const store = new SessionStore(file, (r) =>
      board.databaseRecovered(r, 'The sessions database'),
    );
    expect(store.list()).toEqual([]);
    const s = store.create('orrery-text-tiny', 'after recovery');
    store.close();
    const notices = board.list();
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ kind: 'database_recovered', file });
    expect(notices[0]?.message).toContain('sessions.sqlite could not be used');
    expect(existsSync(notices[0]?.movedTo ?? '?')).toBe(true);
    expect(notices[0]?.title).toContain('sessions database');
    // Reopened: the session written after recovery is there, nothing else is moved.
    const again = new SessionStore(file, () => {
      throw new Error('not damaged');
    });
    expect(again.list().map((x) => x.id)).toEqual([s.id]);
    again.close();
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('the sessions database commits in WAL with synchronous=NORMAL (durable across a kill)', () => {
    const file = path.join(tmpDir(), 'sessions.sqlite');
    const store = new SessionStore(file);
    const db = (store as unknown as { db: ReturnType<typeof openDatabase> }).db;
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    store.close();
  });

  it('a feature index opened with recovery is moved aside and recreated', () => {
    const file = path.join(tmpDir(), 'orrery-text-tiny.sqlite');
    writeFileSync(file, randomBytes(5000));
    const seen: Recovery[] = [];
    const db = openIndex(file, { onRecovered: (r) => seen.push(r) });
    expect(
      db.prepare("select count(*) as n from sqlite_master where name = 'features'").get(),
    ).toEqual({
      n: 1,
    });
    db.close();
    expect(seen).toHaveLength(1);
    expect(existsSync(seen[0]?.movedTo ?? '')).toBe(true);
  });
});
