/**
 * Writes a synthetic Neuronpedia export folder in their layout (features/, activations/,
 * explanations/batch-N.jsonl.gz, source.jsonl, model.jsonl; see main/index/dashboards/FORMAT.md)
 * with deterministic content: for the unit tests (a few features) and the import bench
 * (24,576 features of ~20 records of 64 tokens). Row fields and types as the database dump
 * writes them (index as a string).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface SyntheticExport {
  modelId?: string;
  sourceId?: string;
  features: number;
  /** Features per batch file (Neuronpedia's is 1024). */
  perBatch?: number;
  records?: number;
  tokens?: number;
  /** Histogram bars per feature. */
  bars?: number;
  umap?: boolean;
  gzip?: boolean;
}

const WORDS = [
  'river',
  'bank',
  'water',
  'stone',
  'light',
  'night',
  'house',
  'green',
  'paper',
  'music',
  'table',
  'horse',
  'cloud',
  'bread',
  'money',
  'glass',
  'dream',
  'chair',
  'plant',
  'storm',
];

/** mulberry32: a small deterministic generator. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round = (v: number): number => Math.round(v * 1e4) / 1e4;

/** The word a synthetic feature is about (its explanation and top tokens say it). */
export const wordOf = (idx: number): string => `${WORDS[idx % WORDS.length] as string}${idx}`;

export function featureRow(o: Required<SyntheticExport>, idx: number, r: () => number): object {
  const max = round(2 + 10 * r());
  const bars = Array.from({ length: o.bars }, (_, b) => round(((b + 0.5) * max) / o.bars));
  return {
    modelId: o.modelId,
    layer: o.sourceId,
    index: String(idx),
    maxActApprox: max,
    frac_nonzero: round(r() * 0.01),
    freq_hist_data_bar_values: bars,
    freq_hist_data_bar_heights: bars.map((_, b) => Math.round(1000 / (b + 1))),
    pos_str: [` ${wordOf(idx)}`, ' and', ' the'],
    pos_values: [round(1 + r()), round(0.5 * r()), round(0.1 * r())],
    neg_str: [' not', ' never'],
    neg_values: [round(-1 - r()), round(-0.5 * r())],
    topkCosSimIndices: [(idx + 1) % o.features, (idx + 2) % o.features],
    topkCosSimValues: [0.5, 0.25],
    hookName: 'blocks.6.hook_resid_pre',
    vector: [],
    hasVector: false,
    creatorId: 'x',
    sourceSetName: 'res-jb',
  };
}

export function activationRows(
  o: Required<SyntheticExport>,
  idx: number,
  r: () => number,
): object[] {
  return Array.from({ length: o.records }, (_, k) => {
    const at = Math.floor(r() * o.tokens);
    const peak = round(10 - k * 0.3 + r() * 0.1);
    const values = Array.from({ length: o.tokens }, (_, t) =>
      t === at ? peak : r() < 0.9 ? 0 : round(r()),
    );
    const tokens = Array.from({ length: o.tokens }, (_, t) =>
      t === at ? ` ${wordOf(idx)}` : ` ${WORDS[Math.floor(r() * WORDS.length)] as string}`,
    );
    return {
      id: `a${idx}-${k}`,
      modelId: o.modelId,
      layer: o.sourceId,
      index: String(idx),
      tokens,
      values,
      maxValue: peak,
      maxValueTokenIndex: at,
      minValue: 0,
      dataSource: null,
      creatorId: 'x',
      binMin: -1,
      binMax: null,
      binContains: null,
    };
  });
}

export function explanationRow(o: Required<SyntheticExport>, idx: number, r: () => number): object {
  return {
    id: `e${idx}`,
    modelId: o.modelId,
    layer: o.sourceId,
    index: String(idx),
    description: `mentions of ${wordOf(idx)} near water`,
    authorId: 'x',
    embedding: null,
    typeName: 'oai_token-act-pair',
    explanationModelName: 'gpt-4o-mini',
    umap_x: o.umap ? round(20 * r() - 10) : 0,
    umap_y: o.umap ? round(20 * r() - 10) : 0,
    umap_cluster: o.umap ? idx % 5 : 0,
    umap_log_feature_sparsity: 0,
  };
}

/** Writes the export under `dir`; returns the files written (relative). */
export function writeSyntheticExport(dir: string, options: SyntheticExport): string[] {
  const o: Required<SyntheticExport> = {
    modelId: 'gpt2-small',
    sourceId: '6-res-jb',
    perBatch: 1024,
    records: 20,
    tokens: 64,
    bars: 24,
    umap: true,
    gzip: true,
    ...options,
  };
  const files: string[] = [];
  const put = (rel: string, text: string): void => {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, o.gzip && rel.includes('/') ? gzipSync(text, { level: 5 }) : text);
    files.push(rel);
  };
  put('model.jsonl', `${JSON.stringify({ id: o.modelId, displayName: o.modelId })}\n`);
  put(
    'source.jsonl',
    `${JSON.stringify({ id: o.sourceId, modelId: o.modelId, setName: 'res-jb', hasUmap: o.umap, num_prompts: 24576, num_tokens_in_prompt: 128 })}\n`,
  );
  const ext = o.gzip ? '.jsonl.gz' : '.jsonl';
  for (let b = 0; b * o.perBatch < o.features; b++) {
    const f: string[] = [];
    const a: string[] = [];
    const e: string[] = [];
    for (let idx = b * o.perBatch; idx < Math.min(o.features, (b + 1) * o.perBatch); idx++) {
      const r = rng(idx + 1);
      f.push(JSON.stringify(featureRow(o, idx, r)));
      for (const row of activationRows(o, idx, r)) a.push(JSON.stringify(row));
      e.push(JSON.stringify(explanationRow(o, idx, r)));
    }
    put(`features/batch-${b}${ext}`, `${f.join('\n')}\n`);
    put(`activations/batch-${b}${ext}`, `${a.join('\n')}\n`);
    put(`explanations/batch-${b}${ext}`, `${e.join('\n')}\n`);
  }
  return files;
}
