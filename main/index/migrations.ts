/**
 * The feature index schema (DESIGN.md §4), as numbered migrations for main/db's
 * openDatabase. One database per pack; every per-feature row is keyed by (sae_id, idx).
 *
 * Tables:
 * - saes: one row per indexed SAE (shape, corpus size, when built).
 * - examples: the corpus the index was built over (text, name, metadata, PNG thumbnail).
 * - features: stats, histogram, the effective label (with where it came from), map
 *   position and cluster. auto_label / auto_source keep what the build derived, so a user
 *   rename or an import can be undone.
 * - top_examples: the top activating examples per feature, with the window (tokens or
 *   spatial positions) and per-position activations.
 * - logit_lens, nearest, associations, clusters: the rest of a feature card.
 * - user_edits: renames and notes; never written by a build, so they survive rebuilds.
 * - imported_labels: labels from elsewhere (a Neuronpedia explanations export).
 * - build_state / build_acc / build_peaks: what a build has committed so far, so that a
 *   cancelled or crashed build resumes from its last chunk (build_peaks holds each chunk's
 *   per-example peaks as three packed arrays; migration 2 replaced example_acts, a row per
 *   peak, which made the text build spend most of its time in SQLite).
 * - map_blobs: packed positions for the galaxy (typed arrays, no JSON per point).
 * - feature_fts: FTS5 over label, notes, description and top tokens.
 * - label_values: the metadata values a build tested for labels (the label coverage's
 *   denominator).
 * - (5) features.auto_label is a plain title and auto_description its one-line description;
 *   evidence_label / evidence_source / evidence keep what the label rule found (key=value,
 *   AUC, chance); concept names what the title is about (for cluster badges); descriptors
 *   and calibration hold the measured effect and useful range (JSON, with their provenance);
 *   index_stages records which version of each later stage ran; feature_fts gains `words`
 *   (the effect's searchable words).
 * - map_quality: how the map was laid out (exact UMAP or landmarks) and its recall@10 (the
 *   share of each sampled feature's 10 nearest decoder directions among its 10 nearest on the
 *   map).
 * - (6) Neuronpedia dashboards imported as they were exported (main/index/dashboards): np_sources
 *   (which Neuronpedia model and source an SAE is, for round trips), np_features (density, max
 *   activation, the frequency histogram's bars, logit lens with values, nearest by cosine, UMAP),
 *   np_activations (top activation records: tokens and per-token values) and np_explanations
 *   (every explanation with its explainer model). Never written by a build, so they survive
 *   rebuilds, like imported_labels.
 * - (7) np_tokens: each SAE's imported token strings once, by id; np_activations keeps token ids
 *   (u32) instead of a JSON list of strings (a 24,576-feature export's records took 547 MB).
 *   Records imported under version 6 are dropped (import the export again).
 * - (8) features_user: a partial index of the features a person named (label_source 'user'), so
 *   a broad search finds them without joining every match to its feature.
 */
import type { Migration } from '../db/connection';

export const HISTOGRAM_BINS = 64;
/** Bin b holds activations in [2^((b + HISTOGRAM_LOW) / 4), 2^((b + 1 + HISTOGRAM_LOW) / 4)). */
export const HISTOGRAM_LOW = -40;

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'feature index',
    up: (db) => {
      db.exec(`
        create table saes (
          sae_id text primary key,
          hook text not null,
          kind text not null,
          d_sae integer not null,
          d_in integer not null,
          architecture text not null,
          n_examples integer not null default 0,
          n_positions integer not null default 0,
          built_at text
        );
        create table examples (
          id integer primary key,
          name text not null,
          body text,
          meta text not null,
          split text,
          thumb blob
        );
        create table features (
          id integer primary key,
          sae_id text not null references saes(sae_id) on delete cascade,
          idx integer not null,
          label text,
          label_source text check (label_source in
            ('metadata', 'top-tokens', 'top-examples', 'user', 'neuronpedia')),
          auto_label text,
          auto_source text,
          auto_description text,
          description text,
          top_tokens text,
          density real not null default 0,
          n_active integer not null default 0,
          max_act real not null default 0,
          mean_act real not null default 0,
          histogram blob,
          x real, y real, z real,
          cluster integer,
          unique (sae_id, idx)
        );
        create index features_density on features(sae_id, density);
        create index features_cluster on features(sae_id, cluster);
        create table clusters (
          sae_id text not null references saes(sae_id) on delete cascade,
          id integer not null,
          label text not null,
          size integer not null,
          cx real not null, cy real not null, cz real not null,
          primary key (sae_id, id)
        );
        create table top_examples (
          sae_id text not null,
          idx integer not null,
          rank integer not null,
          example_id integer not null references examples(id),
          activation real not null,
          position integer not null,
          window text not null,
          primary key (sae_id, idx, rank)
        );
        create table logit_lens (
          sae_id text not null,
          idx integer not null,
          top text not null,
          bottom text not null,
          primary key (sae_id, idx)
        );
        create table nearest (
          sae_id text not null,
          idx integer not null,
          neighbours blob not null,
          cosines blob not null,
          primary key (sae_id, idx)
        );
        create table associations (
          sae_id text not null,
          idx integer not null,
          key text not null,
          value text not null,
          auc real not null,
          precision_top real not null,
          n_positive integer not null,
          primary key (sae_id, idx, key, value)
        );
        create index associations_value on associations(sae_id, key, value, auc);
        create table user_edits (
          sae_id text not null,
          idx integer not null,
          label text,
          notes text,
          updated_at text not null,
          primary key (sae_id, idx)
        );
        create table imported_labels (
          sae_id text not null,
          idx integer not null,
          source text not null,
          description text not null,
          primary key (sae_id, idx, source)
        );
        create table build_state (
          sae_id text primary key,
          fingerprint text not null,
          stage text not null,
          chunks_done integer not null,
          chunks_total integer not null,
          n_positions integer not null,
          started_at text not null,
          finished_at text
        );
        create table build_acc (
          sae_id text not null,
          idx integer not null,
          n_active integer not null,
          sum real not null,
          max real not null,
          histogram blob not null,
          primary key (sae_id, idx)
        );
        create table example_acts (
          sae_id text not null,
          example_id integer not null,
          idx integer not null,
          activation real not null,
          primary key (sae_id, idx, example_id)
        ) without rowid;
        create table map_blobs (
          sae_id text primary key,
          count integer not null,
          idx blob not null,
          xyz blob not null,
          cluster blob not null,
          density blob not null
        );
        create virtual table feature_fts using fts5(
          label, notes, description, top_tokens,
          tokenize = 'unicode61 remove_diacritics 2'
        );
      `);
    },
  },
  {
    version: 2,
    name: 'per-chunk packed peaks',
    up: (db) => {
      db.exec(`
        create table build_peaks (
          sae_id text not null,
          chunk integer not null,
          example blob not null,
          feature blob not null,
          activation blob not null,
          primary key (sae_id, chunk)
        ) without rowid;
        drop table example_acts;
        update build_state set fingerprint = 'migrated' where stage <> 'done';
      `);
    },
  },
  {
    version: 3,
    name: 'metadata values tested for labels; chance of each association',
    up: (db) => {
      db.exec(`
        alter table associations add column log10_p real not null default 0;
        create table label_values (
          sae_id text not null,
          key text not null,
          value text not null,
          n_positive integer not null,
          primary key (sae_id, key, value)
        ) without rowid;
      `);
    },
  },
  {
    version: 4,
    name: 'prefix index for 2-4 letter searches; the map layout and its quality figure',
    up: (db) => {
      // FTS5 keeps extra index entries for every 2, 3 and 4 letter prefix of a token, so a
      // prefix query reads one doclist instead of merging the doclists of every word it covers.
      db.exec(`
        create virtual table feature_fts_p using fts5(
          label, notes, description, top_tokens,
          tokenize = 'unicode61 remove_diacritics 2',
          prefix = '2 3 4'
        );
        insert into feature_fts_p(rowid, label, notes, description, top_tokens)
          select rowid, label, notes, description, top_tokens from feature_fts;
        drop table feature_fts;
        alter table feature_fts_p rename to feature_fts;
        create table map_quality (
          sae_id text primary key,
          method text not null,
          n integer not null,
          landmarks integer not null,
          recall10 real,
          sample integer not null,
          seconds real not null
        );
      `);
    },
  },
  {
    version: 5,
    name: 'plain titles, descriptions, visual descriptors and calibrated ranges, with provenance',
    up: (db) => {
      // label_source may now say 'visual' (a title from the measured effect): SQLite cannot
      // alter a check, so the table is copied under the same columns (ids kept: the FTS rows
      // point at them).
      const row = db
        .prepare("select sql from sqlite_master where type = 'table' and name = 'features'")
        .get() as { sql: string };
      const sql = row.sql
        .replace(/create table features/i, 'create table features_v5')
        .replace("'user', 'neuronpedia')", "'user', 'neuronpedia', 'visual')");
      db.exec(`
        ${sql};
        insert into features_v5 select * from features;
        drop table features;
        alter table features_v5 rename to features;
        create index features_density on features(sae_id, density);
        create index features_cluster on features(sae_id, cluster);
        alter table features add column evidence_label text;
        alter table features add column evidence_source text;
        alter table features add column evidence text;
        alter table features add column concept text;
        alter table features add column descriptors text;
        alter table features add column calibration text;
        alter table clusters add column concept text;
        create table index_stages (
          sae_id text not null,
          stage text not null,
          version integer not null,
          finished_at text not null,
          detail text,
          primary key (sae_id, stage)
        ) without rowid;
        create virtual table feature_fts_w using fts5(
          label, notes, description, top_tokens, words,
          tokenize = 'unicode61 remove_diacritics 2',
          prefix = '2 3 4'
        );
        insert into feature_fts_w(rowid, label, notes, description, top_tokens, words)
          select rowid, label, notes, description, top_tokens, '' from feature_fts;
        drop table feature_fts;
        alter table feature_fts_w rename to feature_fts;
      `);
    },
  },
  {
    version: 6,
    name: 'Neuronpedia dashboards',
    up: (db) => {
      db.exec(`
        create table np_sources (
          sae_id text primary key,
          model_id text not null,
          source_id text not null,
          hook_name text,
          info text
        );
        create table np_features (
          sae_id text not null,
          idx integer not null,
          density real,
          max_act real,
          mean_act real,
          bar_values blob,
          bar_heights blob,
          pos text,
          neg text,
          near_idx blob,
          near_cos blob,
          umap_x real,
          umap_y real,
          umap_cluster integer,
          primary key (sae_id, idx)
        ) without rowid;
        create table np_activations (
          sae_id text not null,
          idx integer not null,
          rank integer not null,
          activation real not null,
          max_token integer not null,
          tokens text not null,
          acts blob not null,
          data_source text,
          bin_min real,
          bin_max real,
          bin_contains real,
          primary key (sae_id, idx, rank)
        ) without rowid;
        create table np_explanations (
          sae_id text not null,
          idx integer not null,
          rank integer not null,
          description text not null,
          model_name text,
          type_name text,
          author text,
          primary key (sae_id, idx, rank)
        ) without rowid;
      `);
    },
  },
  {
    version: 7,
    name: 'imported activation records keep token ids',
    up: (db) => {
      db.exec(`
        create table np_tokens (
          sae_id text not null,
          id integer not null,
          text text not null,
          primary key (sae_id, id)
        ) without rowid;
        drop table np_activations;
        create table np_activations (
          sae_id text not null,
          idx integer not null,
          rank integer not null,
          activation real not null,
          max_token integer not null,
          token_ids blob not null,
          acts blob not null,
          data_source text,
          bin_min real,
          bin_max real,
          bin_contains real,
          primary key (sae_id, idx, rank)
        ) without rowid;
      `);
    },
  },
  {
    version: 8,
    name: 'an index of the features a person named',
    up: (db) => {
      db.exec(`create index features_user on features(sae_id, id) where label_source = 'user';`);
    },
  },
];
