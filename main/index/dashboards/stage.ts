/**
 * Where an import of Neuronpedia dashboards waits until it is whole: temporary tables of this
 * connection (no lock on the index while the files stream in, in batched transactions), then
 * one transaction that moves them into np_features / np_activations / np_explanations, fills the
 * features rows the card and search read (density, max and mean activation, histogram, top
 * tokens), the 'neuronpedia' label (the first explanation) and, when the export has UMAP
 * positions, the map. A cancelled import drops the temporary tables: the index is untouched.
 */
import { OrreryError } from '../../../preload/contract/errors';
import type { Db } from '../../db/connection';
import { histogramBin } from '../build/accumulate';
import { HISTOGRAM_BINS } from '../migrations';
import { refreshLabels } from '../store';
import type { NpActivation, NpExplanation, NpFeature } from './rows';
import { writeUmapMap } from './umapMap';

/** Activation records kept per feature (the strongest); the card shows the first 20. */
export const MAX_RECORDS = 128;
const BATCH = 512;

const f64 = (a: readonly number[]): Buffer => Buffer.from(new Float64Array(a).buffer);
const f32 = (a: readonly number[]): Buffer => Buffer.from(new Float32Array(a).buffer);
const i32 = (a: readonly number[]): Buffer => Buffer.from(new Int32Array(a).buffer);

/** Neuronpedia's bars (centre value, token count) into the index's quarter-octave bins. */
export function rebin(values: readonly number[], heights: readonly number[]): Buffer {
  const counts = new Uint32Array(HISTOGRAM_BINS);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    const h = Math.round(heights[i] as number);
    if (v > 0 && h > 0) counts[histogramBin(v)] = (counts[histogramBin(v)] ?? 0) + h;
  }
  return Buffer.from(counts.buffer);
}

export interface SourceInfo {
  saeId: string;
  modelId: string;
  sourceId: string;
  hook: string | null;
  /** source.jsonl's row, kept as JSON for the export. */
  info: string | null;
  /** Token positions the dashboards were computed over (num_prompts × num_tokens_in_prompt). */
  positions: number | null;
}

export interface StageCounts {
  features: number;
  activations: number;
  explanations: number;
  umap: boolean;
}

export class Stage {
  private pending = 0;
  private readonly insFeature;
  private readonly insAct;
  private readonly insExpl;
  private seq = 0;
  private open = false;
  /** Rows staged so far, of every kind. */
  rows = 0;
  /** The SAE's token strings by id (those already in np_tokens, then this import's new ones). */
  private tokens: { saeId: string; ids: Map<string, number>; fresh: [number, string][] } | null =
    null;

  constructor(private readonly db: Db) {
    this.drop();
    db.exec(`
      create temp table np_stage_features (
        idx integer primary key, density real, max_act real, mean_act real, n_active integer,
        hist blob, bar_values blob, bar_heights blob, pos text, neg text, near_idx blob,
        near_cos blob, umap_x real, umap_y real, umap_cluster integer);
      create temp table np_stage_acts (
        seq integer primary key, idx integer not null, activation real not null,
        max_token integer not null, token_ids blob not null, acts blob not null, data_source text,
        bin_min real, bin_max real, bin_contains real, peak text not null);
      create index temp.np_stage_acts_idx on np_stage_acts(idx, activation);
      create temp table np_stage_expl (
        seq integer primary key, idx integer not null, description text not null,
        model_name text, type_name text, author text, umap_x real, umap_y real,
        umap_cluster integer);
      create index temp.np_stage_expl_idx on np_stage_expl(idx, seq);
    `);
    this.insFeature = db.prepare(
      `insert or replace into temp.np_stage_features values
       (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insAct = db.prepare(
      'insert into temp.np_stage_acts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.insExpl = db.prepare('insert into temp.np_stage_expl values (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  }

  /** Drops the temporary tables (after a commit, a cancel or a failure). */
  drop(): void {
    if (this.open) this.db.exec('commit');
    this.open = false;
    this.tokens = null;
    for (const t of ['np_stage_features', 'np_stage_acts', 'np_stage_expl'])
      this.db.exec(`drop table if exists temp.${t}`);
  }

  /** Rows go in batches of BATCH per transaction (on the temporary tables only). */
  private tick(): void {
    if (!this.open) {
      this.db.exec('begin');
      this.open = true;
    }
    this.rows++;
    if (++this.pending >= BATCH) this.flush();
  }

  flush(): void {
    if (this.open) this.db.exec('commit');
    this.open = false;
    this.pending = 0;
  }

  feature(f: NpFeature): void {
    this.tick();
    let mean: number | null = null;
    let nActive: number | null = null;
    if (f.bars) {
      let n = 0;
      let s = 0;
      f.bars.values.forEach((v, i) => {
        const h = f.bars?.heights[i] ?? 0;
        n += h;
        s += v * h;
      });
      mean = n > 0 ? s / n : null;
      nActive = Math.round(n);
    }
    this.insFeature.run(
      f.idx,
      f.density,
      f.maxAct,
      mean,
      nActive,
      f.bars ? rebin(f.bars.values, f.bars.heights) : null,
      f.bars ? f64(f.bars.values) : null,
      f.bars ? f64(f.bars.heights) : null,
      f.pos ? JSON.stringify(f.pos) : null,
      f.neg ? JSON.stringify(f.neg) : null,
      f.near ? i32(f.near.idx) : null,
      f.near ? f32(f.near.cos) : null,
      f.umap?.x ?? null,
      f.umap?.y ?? null,
      f.umap?.cluster ?? null,
    );
  }

  /** Token ids of `saeId`'s dictionary: the same string keeps its id across imports. */
  private tokenIds(saeId: string, tokens: readonly string[]): Buffer {
    if (!this.tokens) {
      const ids = new Map<string, number>();
      for (const r of this.db
        .prepare('select id, text from np_tokens where sae_id = ?')
        .all(saeId) as { id: number; text: string }[])
        ids.set(r.text, r.id);
      this.tokens = { saeId, ids, fresh: [] };
    } else if (this.tokens.saeId !== saeId) {
      throw new OrreryError(
        'bad_input',
        `activation rows name two sources (${this.tokens.saeId}, ${saeId}); import one at a time`,
      );
    }
    const t = this.tokens;
    const out = new Uint32Array(tokens.length);
    tokens.forEach((s, i) => {
      let id = t.ids.get(s);
      if (id === undefined) {
        id = t.ids.size;
        t.ids.set(s, id);
        t.fresh.push([id, s]);
      }
      out[i] = id;
    });
    return Buffer.from(out.buffer);
  }

  activation(a: NpActivation, saeId: string): void {
    this.tick();
    this.insAct.run(
      ++this.seq,
      a.idx,
      a.maxValue,
      a.maxToken,
      this.tokenIds(saeId, a.tokens),
      f32(a.values),
      a.dataSource,
      a.binMin,
      a.binMax,
      a.binContains,
      (a.tokens[a.maxToken] ?? '').trim(),
    );
  }

  explanation(e: NpExplanation): void {
    this.tick();
    this.insExpl.run(
      ++this.seq,
      e.idx,
      e.description,
      e.modelName,
      e.typeName,
      e.author,
      e.umap?.x ?? null,
      e.umap?.y ?? null,
      e.umap?.cluster ?? null,
    );
  }

  /** Moves everything staged into the index in one transaction. */
  commit(src: SourceInfo): StageCounts {
    this.flush();
    const db = this.db;
    const sae = src.saeId;
    if (this.tokens && this.tokens.saeId !== sae)
      throw new OrreryError(
        'bad_input',
        `activation rows came before their source was known (${this.tokens.saeId}, then ${sae})`,
      );
    const touched = (
      db
        .prepare(
          `select idx from temp.np_stage_features union select idx from temp.np_stage_acts
           union select idx from temp.np_stage_expl order by 1`,
        )
        .pluck()
        .all() as number[]
    ).map(Number);
    let umap = false;
    const counts = db.transaction((): StageCounts => {
      ensureSae(db, src, touched.at(-1) ?? -1);
      db.prepare(
        `insert into np_sources(sae_id, model_id, source_id, hook_name, info) values (?, ?, ?, ?, ?)
         on conflict(sae_id) do update set model_id = excluded.model_id,
           source_id = excluded.source_id, hook_name = coalesce(excluded.hook_name, hook_name),
           info = coalesce(excluded.info, info)`,
      ).run(sae, src.modelId, src.sourceId, src.hook, src.info);
      db.prepare(
        `insert into features(sae_id, idx) select ?, idx from (${'select idx from temp.np_stage_features union select idx from temp.np_stage_acts union select idx from temp.np_stage_expl'})
         where true on conflict(sae_id, idx) do nothing`,
      ).run(sae);
      // Features: the dashboard row as exported (max activation from the records when the
      // export has no maxActApprox), and the stats the card, search and map read.
      db.prepare(
        'delete from np_features where sae_id = ? and idx in (select idx from temp.np_stage_features)',
      ).run(sae);
      db.prepare(
        `insert into np_features(sae_id, idx, density, max_act, mean_act, bar_values, bar_heights,
           pos, neg, near_idx, near_cos, umap_x, umap_y, umap_cluster)
         select ?, f.idx, f.density,
           coalesce(f.max_act, (select max(a.activation) from temp.np_stage_acts a where a.idx = f.idx)),
           f.mean_act, f.bar_values, f.bar_heights, f.pos, f.neg, f.near_idx, f.near_cos,
           f.umap_x, f.umap_y, f.umap_cluster
         from temp.np_stage_features f`,
      ).run(sae);
      const positions = src.positions;
      db.prepare(
        `update features set density = coalesce(s.density, features.density),
           max_act = coalesce(n.max_act, features.max_act),
           mean_act = coalesce(s.mean_act, features.mean_act),
           n_active = coalesce(s.n_active, cast(round(s.density * ?) as integer), features.n_active),
           histogram = coalesce(s.hist, features.histogram)
         from temp.np_stage_features s join np_features n on n.sae_id = ? and n.idx = s.idx
         where features.sae_id = ? and features.idx = s.idx`,
      ).run(positions ?? 0, sae, sae);
      // Activation records: the strongest MAX_RECORDS per feature, ranked.
      db.prepare(
        'delete from np_activations where sae_id = ? and idx in (select idx from temp.np_stage_acts)',
      ).run(sae);
      const insToken = db.prepare('insert into np_tokens(sae_id, id, text) values (?, ?, ?)');
      for (const [id, text] of this.tokens?.fresh ?? []) insToken.run(sae, id, text);
      const acts = db
        .prepare(
          `insert into np_activations(sae_id, idx, rank, activation, max_token, token_ids, acts,
             data_source, bin_min, bin_max, bin_contains)
           select ?, idx, rank, activation, max_token, token_ids, acts, data_source, bin_min,
             bin_max, bin_contains
           from (select *, row_number() over (partition by idx order by activation desc, seq) as rank
                 from temp.np_stage_acts) where rank <= ${MAX_RECORDS}`,
        )
        .run(sae).changes;
      // Top tokens: where the strongest 10 records peak, in order, each once.
      db.prepare(
        `update features set top_tokens = t.tokens from (
           select idx, json_group_array(peak) as tokens from (
             select idx, peak, min(rank) as r from (
               select idx, peak, row_number() over (partition by idx order by activation desc, seq) as rank
               from temp.np_stage_acts)
             where rank <= 10 and peak <> '' group by idx, peak order by idx, r)
           group by idx) t
         where features.sae_id = ? and features.idx = t.idx`,
      ).run(sae);
      // For features with no max activation in the export nor from the records' update above.
      db.prepare(
        `update features set max_act = m.v from (
           select idx, max(activation) as v from np_activations where sae_id = ?
             and idx in (select idx from temp.np_stage_acts) group by idx) m
         where features.sae_id = ? and features.idx = m.idx and features.max_act = 0`,
      ).run(sae, sae);
      // Explanations in file order; the first is the feature's 'neuronpedia' label.
      db.prepare(
        'delete from np_explanations where sae_id = ? and idx in (select idx from temp.np_stage_expl)',
      ).run(sae);
      const expl = db
        .prepare(
          `insert into np_explanations(sae_id, idx, rank, description, model_name, type_name, author)
           select ?, idx, row_number() over (partition by idx order by seq), description,
             model_name, type_name, author
           from temp.np_stage_expl`,
        )
        .run(sae).changes;
      db.prepare(
        `insert into imported_labels(sae_id, idx, source, description)
         select sae_id, idx, 'neuronpedia', description from np_explanations
         where sae_id = ? and rank = 1 and idx in (select idx from temp.np_stage_expl)
         on conflict(sae_id, idx, source) do update set description = excluded.description`,
      ).run(sae);
      // UMAP from the explanation rows where the feature rows have none (the database dump
      // keeps it there).
      db.prepare(
        `insert into np_features(sae_id, idx, umap_x, umap_y, umap_cluster)
         select ?, idx, umap_x, umap_y, umap_cluster from temp.np_stage_expl e
         where umap_x is not null and seq = (select min(seq) from temp.np_stage_expl e2
           where e2.idx = e.idx and e2.umap_x is not null)
         on conflict(sae_id, idx) do update set umap_x = coalesce(np_features.umap_x, excluded.umap_x),
           umap_y = coalesce(np_features.umap_y, excluded.umap_y),
           umap_cluster = coalesce(np_features.umap_cluster, excluded.umap_cluster)`,
      ).run(sae);
      refreshLabels(db, sae, touched.length > 2048 ? null : touched);
      umap = writeUmapMap(db, sae);
      const features = db
        .prepare('select count(*) from temp.np_stage_features')
        .pluck()
        .get() as number;
      return { features, activations: acts, explanations: expl, umap };
    })();
    return counts;
  }
}

/** The SAE's row: created for an index that has only the import (no local build). */
function ensureSae(db: Db, src: SourceInfo, maxIdx: number): void {
  const row = db.prepare('select d_sae, architecture from saes where sae_id = ?').get(src.saeId) as
    { d_sae: number; architecture: string } | undefined;
  if (!row) {
    db.prepare(
      `insert into saes(sae_id, hook, kind, d_sae, d_in, architecture, n_positions, built_at)
       values (?, ?, 'text-lm', ?, 0, 'neuronpedia', ?, ?)`,
    ).run(
      src.saeId,
      src.hook ?? `neuronpedia:${src.modelId}/${src.sourceId}`,
      maxIdx + 1,
      src.positions ?? 0,
      new Date().toISOString(),
    );
  } else if (row.architecture === 'neuronpedia' && row.d_sae <= maxIdx) {
    // An SAE this import created before grows with a later import of more features.
    db.prepare('update saes set d_sae = ? where sae_id = ?').run(maxIdx + 1, src.saeId);
  }
}
