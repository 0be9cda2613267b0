/**
 * The schema of one bridge file (a SQLite database of its own beside the indexes, one per pair
 * of SAEs), as numbered migrations for main/db's openDatabase.
 *
 * Tables:
 * - bridge: one row saying what the bridge is between (each side's pack, SAE, hook, width),
 *   how it is scored ('decoder': cosine of decoder directions; 'correlation': Pearson
 *   correlation of activations over a shared corpus; 'effect', from version 2: cosine of the
 *   features' effects on two text models' logits, effect.ts), the fingerprint of its inputs, and
 *   where its build stands (stage, chunks and blocks done), so a cancelled build resumes.
 * - bridge_codes: the corpus's aligned samples, one row per committed chunk: each side's SAE
 *   codes as packed CSR arrays (row starts, feature ids, values). Only correlation bridges
 *   write them; deleted when the build is done.
 * - bridge_side_top: B's running top matches (packed), rewritten with each committed block of
 *   A's features, so a resumed build goes on from the last block.
 * - bridge_features: per side and feature, how many samples it fired on (correlation) —
 *   a feature that never fired is neither shared nor specific; an effect bridge writes 1 for a
 *   feature with a direction (0 for a zero decoder row) and, from version 2, `gain`: the length
 *   of the feature's effect on the logits per unit of activation (null for other methods).
 * - bridge_matches: each feature's best matches on the other side, best first, with scores.
 */
import type { Migration } from '../db/connection';

/** The description table (its method check changed in version 2: SQLite cannot alter a check). */
const bridgeTable = (name: string, methods: string): string => `
        create table ${name} (
          id integer primary key check (id = 1),
          method text not null check (method in (${methods})),
          a_pack text not null, a_sae text not null, a_hook text not null, a_d_sae integer not null,
          b_pack text not null, b_sae text not null, b_hook text not null, b_d_sae integer not null,
          top_k integer not null,
          shared_at real not null,
          unit text not null,
          fingerprint text not null,
          stage text not null check (stage in ('codes', 'match', 'done')),
          chunks_done integer not null default 0,
          chunks_total integer not null default 0,
          samples integer not null default 0,
          blocks_done integer not null default 0,
          blocks_total integer not null default 0,
          started_at text not null,
          finished_at text
        );
`;

export const bridgeMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'bridge between two SAEs',
    up: (db) => {
      db.exec(`
        ${bridgeTable('bridge', "'decoder', 'correlation'")}
        create table bridge_codes (
          chunk integer primary key,
          samples integer not null,
          a_start blob not null, a_feature blob not null, a_value blob not null,
          b_start blob not null, b_feature blob not null, b_value blob not null
        );
        create table bridge_side_top (
          id integer primary key check (id = 1),
          idx blob not null,
          score blob not null
        );
        create table bridge_features (
          side text not null check (side in ('a', 'b')),
          idx integer not null,
          n_active integer not null,
          primary key (side, idx)
        ) without rowid;
        create table bridge_matches (
          side text not null check (side in ('a', 'b')),
          idx integer not null,
          rank integer not null,
          other integer not null,
          score real not null,
          primary key (side, idx, rank)
        ) without rowid;
        create index bridge_matches_best on bridge_matches(side, rank, score);
      `);
    },
  },
  {
    version: 2,
    name: "effect bridges: method 'effect' and each feature's gain",
    up: (db) => {
      // the description table is copied into one with the new check
      db.exec(`
        ${bridgeTable('bridge_v2', "'decoder', 'correlation', 'effect'")}
        insert into bridge_v2 select * from bridge;
        drop table bridge;
        alter table bridge_v2 rename to bridge;
        alter table bridge_features add column gain real;
      `);
    },
  },
];
