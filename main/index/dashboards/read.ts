/**
 * One feature's imported Neuronpedia dashboard, read back for its card and for the export:
 * its ids, stats, frequency bars, logit lens with values, activation records (tokens and
 * per-token values) and explanations with their explainer model.
 */
import type { Db } from '../../db/connection';
import type { LensEntry } from './rows';

export interface DashboardRecord {
  activation: number;
  maxToken: number;
  tokens: string[];
  values: number[];
  dataSource: string | null;
  binMin: number | null;
  binMax: number | null;
  binContains: number | null;
}

export interface Dashboard {
  modelId: string;
  sourceId: string;
  idx: number;
  density: number | null;
  maxAct: number | null;
  meanAct: number | null;
  bars: { values: number[]; heights: number[] } | null;
  pos: LensEntry[] | null;
  neg: LensEntry[] | null;
  near: { idx: number[]; cos: number[] } | null;
  umap: { x: number; y: number; cluster: number | null } | null;
  records: DashboardRecord[];
  explanations: {
    description: string;
    modelName: string | null;
    typeName: string | null;
    author: string | null;
  }[];
}

function floats(b: Buffer | null, bytes: 4 | 8): number[] {
  if (!b) return [];
  const copy = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  return Array.from(bytes === 8 ? new Float64Array(copy) : new Float32Array(copy));
}
const ints = (b: Buffer | null, kind: 'i32' | 'u32' = 'i32'): number[] => {
  if (!b) return [];
  const copy = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  return Array.from(kind === 'u32' ? new Uint32Array(copy) : new Int32Array(copy));
};

/** The strings of some token ids of an SAE's imported dictionary (np_tokens). */
function tokenTexts(db: Db, saeId: string, ids: Iterable<number>): Map<number, string> {
  const list = [...new Set(ids)];
  if (list.length === 0) return new Map();
  const rows = db
    .prepare(
      'select id, text from np_tokens where sae_id = ? and id in (select value from json_each(?))',
    )
    .all(saeId, JSON.stringify(list)) as { id: number; text: string }[];
  return new Map(rows.map((r) => [r.id, r.text]));
}

interface FeatureRow {
  density: number | null;
  max_act: number | null;
  mean_act: number | null;
  bar_values: Buffer | null;
  bar_heights: Buffer | null;
  pos: string | null;
  neg: string | null;
  near_idx: Buffer | null;
  near_cos: Buffer | null;
  umap_x: number | null;
  umap_y: number | null;
  umap_cluster: number | null;
}

/** The SAE's Neuronpedia ids, when an import set them (none in an index older than migration 6
 * opened read-only). */
export function npSource(db: Db, saeId: string): { modelId: string; sourceId: string } | null {
  const has = db
    .prepare("select 1 from sqlite_master where type = 'table' and name = 'np_sources'")
    .get();
  if (!has) return null;
  const r = db.prepare('select model_id, source_id from np_sources where sae_id = ?').get(saeId) as
    { model_id: string; source_id: string } | undefined;
  return r ? { modelId: r.model_id, sourceId: r.source_id } : null;
}

/** The imported dashboard of one feature; null when nothing was imported for it. */
export function readDashboard(
  db: Db,
  saeId: string,
  idx: number,
  maxRecords = Infinity,
): Dashboard | null {
  const src = npSource(db, saeId);
  if (!src) return null;
  const f = db
    .prepare(
      `select density, max_act, mean_act, bar_values, bar_heights, pos, neg, near_idx, near_cos,
              umap_x, umap_y, umap_cluster
       from np_features where sae_id = ? and idx = ?`,
    )
    .get(saeId, idx) as FeatureRow | undefined;
  const rows = (
    db
      .prepare(
        `select activation, max_token, token_ids, acts, data_source, bin_min, bin_max, bin_contains
         from np_activations where sae_id = ? and idx = ? and rank <= ? order by rank`,
      )
      .all(saeId, idx, Number.isFinite(maxRecords) ? maxRecords : 1e9) as {
      activation: number;
      max_token: number;
      token_ids: Buffer;
      acts: Buffer;
      data_source: string | null;
      bin_min: number | null;
      bin_max: number | null;
      bin_contains: number | null;
    }[]
  ).map((r) => ({
    activation: r.activation,
    maxToken: r.max_token,
    ids: ints(r.token_ids, 'u32'),
    values: floats(r.acts, 4),
    dataSource: r.data_source,
    binMin: r.bin_min,
    binMax: r.bin_max,
    binContains: r.bin_contains,
  }));
  const text = tokenTexts(
    db,
    saeId,
    rows.flatMap((r) => r.ids),
  );
  const records: DashboardRecord[] = rows.map(({ ids, ...r }) => ({
    ...r,
    tokens: ids.map((i) => text.get(i) ?? ''),
  }));
  const explanations = (
    db
      .prepare(
        `select description, model_name, type_name, author from np_explanations
         where sae_id = ? and idx = ? order by rank`,
      )
      .all(saeId, idx) as {
      description: string;
      model_name: string | null;
      type_name: string | null;
      author: string | null;
    }[]
  ).map((e) => ({
    description: e.description,
    modelName: e.model_name,
    typeName: e.type_name,
    author: e.author,
  }));
  if (!f && records.length === 0 && explanations.length === 0) return null;
  return {
    ...src,
    idx,
    density: f?.density ?? null,
    maxAct: f?.max_act ?? null,
    meanAct: f?.mean_act ?? null,
    bars:
      f?.bar_values && f.bar_heights
        ? {
            values: floats(f.bar_values, 8),
            heights: floats(f.bar_heights, 8),
          }
        : null,
    pos: f?.pos ? (JSON.parse(f.pos) as LensEntry[]) : null,
    neg: f?.neg ? (JSON.parse(f.neg) as LensEntry[]) : null,
    near: f?.near_idx && f.near_cos ? { idx: ints(f.near_idx), cos: floats(f.near_cos, 4) } : null,
    umap:
      f && f.umap_x !== null && f.umap_y !== null
        ? { x: f.umap_x, y: f.umap_y, cluster: f.umap_cluster }
        : null,
    records,
    explanations,
  };
}
