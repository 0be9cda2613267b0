/**
 * One Neuronpedia export row (a feature, an activation record or an explanation) checked and
 * read into plain typed values, or the reason it cannot be. Field names are Neuronpedia's own:
 * see main/index/dashboards/FORMAT.md, and in hijohnnylin/neuronpedia
 * utils/neuronpedia-utils/neuronpedia_utils/db_models/{feature,activation,explanation}.py and
 * utils/neuronpedia-utils/neuronpedia_utils/export-data.py (the columns each batch file holds).
 */

export interface NpIds {
  modelId: string | null;
  /** Neuronpedia's `layer`: the source (SAE) id, e.g. "6-res-jb". */
  sourceId: string | null;
  idx: number;
}

export interface LensEntry {
  token: string;
  value: number;
}

export interface NpUmap {
  x: number;
  y: number;
  cluster: number | null;
}

export interface NpFeature extends NpIds {
  density: number | null;
  maxAct: number | null;
  /** The frequency histogram: bar centres (activation values) and token counts. */
  bars: { values: number[]; heights: number[] } | null;
  pos: LensEntry[] | null;
  neg: LensEntry[] | null;
  near: { idx: number[]; cos: number[] } | null;
  umap: NpUmap | null;
  hookName: string | null;
}

export interface NpActivation extends NpIds {
  maxValue: number;
  maxToken: number;
  tokens: string[];
  values: number[];
  dataSource: string | null;
  binMin: number | null;
  binMax: number | null;
  binContains: number | null;
}

export interface NpExplanation extends NpIds {
  description: string;
  modelName: string | null;
  typeName: string | null;
  author: string | null;
  umap: NpUmap | null;
}

export type Read<T> = { ok: true; row: T } | { ok: false; why: string };

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function numbers(v: unknown): number[] | null {
  if (!Array.isArray(v)) return null;
  for (const x of v) if (typeof x !== 'number' || !Number.isFinite(x)) return null;
  return v as number[];
}

function strings(v: unknown): string[] | null {
  if (!Array.isArray(v)) return null;
  for (const x of v) if (typeof x !== 'string') return null;
  return v as string[];
}

/** modelId, layer and index (a string in the database dump, a number in other exports). */
function ids(v: unknown): Read<NpIds> {
  if (!isObj(v)) return { ok: false, why: 'not a JSON object' };
  const raw = v.index;
  const idx = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof idx !== 'number' || !Number.isSafeInteger(idx) || idx < 0)
    return { ok: false, why: `index ${JSON.stringify(raw) ?? 'missing'} is not a feature index` };
  return { ok: true, row: { modelId: str(v.modelId), sourceId: str(v.layer), idx } };
}

/** UMAP fields; an all-zero pair is Neuronpedia's column default, i.e. no position. */
function umapOf(v: Obj): NpUmap | null {
  const x = num(v.umap_x);
  const y = num(v.umap_y);
  if (x === null || y === null || (x === 0 && y === 0)) return null;
  const c = num(v.umap_cluster);
  return { x, y, cluster: c !== null && Number.isInteger(c) && c >= 0 ? c : null };
}

function lens(s: unknown, vals: unknown, what: string): Read<LensEntry[] | null> {
  if (s === undefined || s === null) return { ok: true, row: null };
  const tokens = strings(s);
  const values = numbers(vals);
  if (!tokens || !values || tokens.length !== values.length)
    return { ok: false, why: `${what}_str and ${what}_values are not two lists of one length` };
  return { ok: true, row: tokens.map((token, i) => ({ token, value: values[i] as number })) };
}

export function readFeature(v: unknown): Read<NpFeature> {
  const id = ids(v);
  if (!id.ok) return id;
  const o = v as Obj;
  let bars: NpFeature['bars'] = null;
  if (o.freq_hist_data_bar_values !== undefined || o.freq_hist_data_bar_heights !== undefined) {
    const values = numbers(o.freq_hist_data_bar_values);
    const heights = numbers(o.freq_hist_data_bar_heights);
    if (!values || !heights || values.length !== heights.length)
      return {
        ok: false,
        why: 'freq_hist_data_bar_values and _heights are not two lists of one length',
      };
    if (values.length > 0) bars = { values, heights };
  }
  const pos = lens(o.pos_str, o.pos_values, 'pos');
  if (!pos.ok) return pos;
  const neg = lens(o.neg_str, o.neg_values, 'neg');
  if (!neg.ok) return neg;
  let near: NpFeature['near'] = null;
  const ni = numbers(o.topkCosSimIndices);
  const nc = numbers(o.topkCosSimValues);
  if (ni && nc && ni.length === nc.length && ni.length > 0 && ni.every(Number.isInteger))
    near = { idx: ni, cos: nc };
  const density = num(o.frac_nonzero);
  if (density !== null && (density < 0 || density > 1))
    return { ok: false, why: `frac_nonzero ${density} is not a share between 0 and 1` };
  return {
    ok: true,
    row: {
      ...id.row,
      density,
      maxAct: num(o.maxActApprox),
      bars,
      pos: pos.row,
      neg: neg.row,
      near,
      umap: umapOf(o),
      hookName: str(o.hookName),
    },
  };
}

export function readActivation(v: unknown): Read<NpActivation> {
  const id = ids(v);
  if (!id.ok) return id;
  const o = v as Obj;
  const tokens = strings(o.tokens);
  const values = numbers(o.values);
  if (!tokens || !values) return { ok: false, why: 'tokens and values are not lists' };
  if (tokens.length !== values.length || tokens.length === 0)
    return {
      ok: false,
      why: `${tokens.length} tokens but ${values.length} values`,
    };
  let at = num(o.maxValueTokenIndex);
  let max = num(o.maxValue);
  if (at === null || !Number.isInteger(at) || at < 0 || at >= values.length) {
    at = 0;
    for (let i = 1; i < values.length; i++)
      if ((values[i] as number) > (values[at] as number)) at = i;
  }
  if (max === null) max = values[at] as number;
  return {
    ok: true,
    row: {
      ...id.row,
      maxValue: max,
      maxToken: at,
      tokens,
      values,
      dataSource: str(o.dataSource),
      binMin: num(o.binMin),
      binMax: num(o.binMax),
      binContains: num(o.binContains),
    },
  };
}

export function readExplanation(v: unknown): Read<NpExplanation> {
  const id = ids(v);
  if (!id.ok) return id;
  const o = v as Obj;
  const description = typeof o.description === 'string' ? o.description.trim() : '';
  if (!description) return { ok: false, why: 'no description' };
  const author = str(o.authorId);
  return {
    ok: true,
    row: {
      ...id.row,
      description: description.slice(0, 1000),
      modelName: str(o.explanationModelName),
      typeName: str(o.typeName),
      author,
      umap: umapOf(o),
    },
  };
}
