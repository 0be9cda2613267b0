import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Migration } from '../../../main/db/connection';
import { cleanupTmp, tmpDir } from '../../support/tmp';

afterEach(cleanupTmp);

const migrations: Migration[] = [
  {
    version: 1,
    name: 'notes',
    up: (db) => db.exec('create table notes (id integer primary key, body text not null)'),
  },
  {
    version: 2,
    name: 'notes.tag',
    up: (db) => db.exec("alter table notes add column tag text not null default ''"),
  },
];

describe('database connection', () => {
  it('opens in WAL mode and applies numbered migrations once', () => {
    const file = path.join(tmpDir(), 'a.sqlite');
    const db = openDatabase(file, { migrations: migrations.slice(0, 1) });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.prepare('insert into notes (body) values (?)').run('kept');
    db.close();
    const db2 = openDatabase(file, { migrations });
    expect(db2.pragma('user_version', { simple: true })).toBe(2);
    expect(db2.prepare('select body, tag from notes').all()).toEqual([{ body: 'kept', tag: '' }]);
    db2.close();
  });

  it('rolls back a failing migration and leaves the version alone', () => {
    const file = path.join(tmpDir(), 'b.sqlite');
    const bad: Migration[] = [
      ...migrations,
      {
        version: 3,
        name: 'broken',
        up: (db) => {
          db.exec('create table t (x)');
          throw new Error('boom');
        },
      },
    ];
    expect(() => openDatabase(file, { migrations: bad })).toThrow('boom');
    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare("select count(*) as n from sqlite_master where name = 't'").get()).toEqual({
      n: 0,
    });
    db.close();
  });

  it('two connections opening the same new file run each migration once', () => {
    // The index worker and the API thread may open a new index together: here the second
    // reads the version (0), then the first migrates, then the second goes on from its stale
    // read; it must see the version again under the write lock and skip what is done.
    const file = path.join(tmpDir(), 'd.sqlite');
    const first = openDatabase(file);
    const second = openDatabase(file);
    const pragma = second.pragma.bind(second);
    let reads = 0;
    second.pragma = ((source: string, options?: { simple?: boolean }) => {
      const value: unknown = pragma(source, options);
      if (source === 'user_version' && reads++ === 0) migrate(first, migrations);
      return value;
    }) as typeof second.pragma;
    expect(migrate(second, migrations)).toBe(2);
    expect(first.pragma('user_version', { simple: true })).toBe(2);
    expect(first.prepare('select count(*) as n from notes').get()).toEqual({ n: 0 });
    first.close();
    second.close();
  });

  it('refuses migrations out of order', () => {
    expect(() =>
      openDatabase(path.join(tmpDir(), 'c.sqlite'), { migrations: [migrations[1] as Migration] }),
    ).toThrow(/expected 1/);
  });
});
