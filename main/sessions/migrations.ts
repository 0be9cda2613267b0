/** The sessions database, by numbered migrations. */
import type { Migration } from '../db/connection';

export const sessionMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions, steps, presets',
    up: (db) =>
      db.exec(`
        create table sessions (
          id text primary key,
          name text not null,
          pack_id text not null,
          created_at text not null,
          updated_at text not null,
          head_step integer
        );
        create table steps (
          id integer primary key autoincrement,
          session_id text not null references sessions(id) on delete cascade,
          parent_id integer references steps(id) on delete cascade,
          kind text not null check (kind in ('text', 'image', 'glyph')),
          created_at text not null,
          input_json text not null,
          dials_json text not null,
          output_json text not null
        );
        create index steps_by_session on steps(session_id, id);
        create table presets (
          pack_id text not null,
          name text not null,
          dials_json text not null,
          created_at text not null,
          primary key (pack_id, name)
        );
      `),
  },
  {
    version: 2,
    name: 'steps remember the gesture (a dial drag) they were made by',
    up: (db) => db.exec('alter table steps add column gesture_id text'),
  },
  {
    version: 3,
    // Here, not in a pack's feature index: a selection is the person's own work, like a preset;
    // an index may be shipped read-only with a pack, replaced by a rebuild, or moved aside.
    name: 'saved selections of features',
    up: (db) =>
      db.exec(`
        create table selections (
          pack_id text not null,
          name text not null,
          sae_id text not null,
          features_json text not null,
          members_json text,
          origin text not null,
          created_at text not null,
          primary key (pack_id, name)
        );
      `),
  },
  {
    version: 4,
    name: 'steps can be named',
    up: (db) => db.exec('alter table steps add column name text'),
  },
  {
    version: 5,
    // A step keeps only the dials that ran (turned and not muted): a dial added and not yet
    // moved is in no step, so the session keeps its list of dials as the page last had it.
    name: 'sessions keep their list of dials',
    up: (db) => db.exec('alter table sessions add column dials_json text'),
  },
];
