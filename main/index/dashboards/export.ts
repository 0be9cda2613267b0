/**
 * The index the other way: features (a selection or all) as a Neuronpedia export folder, in the
 * layout their importer reads (hijohnnylin/neuronpedia apps/webapp/app/api/admin/import/route.ts
 * and utils/neuronpedia-utils/neuronpedia_utils/export-data.py; main/index/dashboards/FORMAT.md):
 * `source.jsonl`, `model.jsonl`, `features/batch-N.jsonl.gz`, `activations/batch-N.jsonl.gz`,
 * `explanations/batch-N.jsonl.gz`, 1024 features per batch. A feature with an imported dashboard
 * is written as imported; one built here from what the build measured (the log-binned histogram
 * as bars at each bin's geometric centre, the logit lens, top examples as activation records,
 * the label as an explanation by "orrery-<where it came from>"). And the map as CSV
 * (x, y, z, index, title, cluster, density: what Latent Scope and embedding-atlas read).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { OrreryError } from '../../../preload/contract/errors';
import type { Db } from '../../db/connection';
import { BuildCancelled } from '../build/cancelled';
import { getFeature } from '../feature';
import { loadPositions } from '../search';
import { npSource, readDashboard } from './read';
import { fflate } from '../../packages';

const gz = promisify(gzip);
export const EXPORT_BATCH = 1024;

export interface NeuronpediaExportOptions {
  /** Feature indices to export (default: every feature of the SAE). */
  features?: readonly number[];
  /** Neuronpedia ids to write (default: the imported ones, else "orrery" and the SAE id). */
  modelId?: string;
  sourceId?: string;
}

export interface NeuronpediaExportReport {
  dir: string;
  modelId: string;
  sourceId: string;
  features: number;
  activations: number;
  explanations: number;
  files: string[];
}

type Row = Record<string, unknown>;

/** One feature as Neuronpedia rows: its feature row, activation rows and explanation rows. */
function featureRows(
  db: Db,
  saeId: string,
  idx: number,
  ids: { modelId: string; layer: string },
  hook: string,
): { feature: Row; activations: Row[]; explanations: Row[] } | null {
  const c = getFeature(db, saeId, idx);
  if (!c) return null;
  const d = readDashboard(db, saeId, idx);
  const key = { modelId: ids.modelId, layer: ids.layer, index: String(idx) };
  let bars = d?.bars ?? null;
  if (!bars) {
    const values: number[] = [];
    const heights: number[] = [];
    c.histogram.counts.forEach((n, b) => {
      if (n <= 0) return;
      values.push(2 ** ((b + 0.5 + c.histogram.low) / c.histogram.perOctave));
      heights.push(n);
    });
    bars = { values, heights };
  }
  const lensTop = d?.pos ?? c.logitLens?.top.map((t) => ({ token: t.token, value: t.logit })) ?? [];
  const lensBottom =
    d?.neg ?? c.logitLens?.bottom.map((t) => ({ token: t.token, value: t.logit })) ?? [];
  const near = d?.near ?? {
    idx: c.nearest.map((n) => n.idx),
    cos: c.nearest.map((n) => n.cosine),
  };
  const umap =
    d?.umap ?? (c.position ? { x: c.position[0], y: c.position[1], cluster: null } : null);
  const feature: Row = {
    ...key,
    maxActApprox: d?.maxAct ?? c.maxAct,
    frac_nonzero: d?.density ?? c.density,
    freq_hist_data_bar_values: bars.values,
    freq_hist_data_bar_heights: bars.heights,
    pos_str: lensTop.map((t) => t.token),
    pos_values: lensTop.map((t) => t.value),
    neg_str: lensBottom.map((t) => t.token),
    neg_values: lensBottom.map((t) => t.value),
    topkCosSimIndices: near.idx,
    topkCosSimValues: near.cos,
    hookName: hook,
    hasVector: false,
    vector: [],
    umap_x: umap?.x ?? null,
    umap_y: umap?.y ?? null,
    umap_cluster: d?.umap ? d.umap.cluster : (c.cluster?.id ?? null),
  };
  const records =
    d && d.records.length > 0
      ? d.records
      : c.topExamples.flatMap((e) => {
          const w = (e.window ?? {}) as { tokens?: unknown; acts?: unknown };
          if (!Array.isArray(w.tokens) || !Array.isArray(w.acts)) return [];
          const values = w.acts as number[];
          let at = 0;
          for (let i = 1; i < values.length; i++)
            if ((values[i] as number) > (values[at] as number)) at = i;
          return [
            {
              activation: e.activation,
              maxToken: at,
              tokens: w.tokens as string[],
              values,
              dataSource: e.name,
              binMin: -1,
              binMax: null,
              binContains: null,
            },
          ];
        });
  const activations = records.map((r, i) => ({
    id: `${ids.layer}-${idx}-${i}`,
    ...key,
    tokens: r.tokens,
    values: r.values,
    maxValue: r.activation,
    maxValueTokenIndex: r.maxToken,
    minValue: r.values.reduce((m, v) => Math.min(m, v), Infinity),
    dataSource: r.dataSource,
    binMin: r.binMin,
    binMax: r.binMax,
    binContains: r.binContains,
  }));
  const explanations: Row[] = (d?.explanations ?? []).map((e, i) => ({
    id: `${ids.layer}-${idx}-e${i}`,
    ...key,
    description: e.description,
    explanationModelName: e.modelName,
    typeName: e.typeName,
    authorId: e.author,
  }));
  if (explanations.length === 0 && c.label && c.labelSource && c.labelSource !== 'user') {
    explanations.push({
      id: `${ids.layer}-${idx}-e0`,
      ...key,
      description: c.label,
      explanationModelName: `orrery-${c.labelSource}`,
      typeName: 'orrery-label',
      authorId: 'orrery',
    });
  }
  if (c.labelSource === 'user' && c.label) {
    explanations.push({
      id: `${ids.layer}-${idx}-user`,
      ...key,
      description: c.label,
      explanationModelName: null,
      typeName: 'orrery-user-label',
      authorId: 'orrery-user',
    });
  }
  return { feature, activations, explanations };
}

const jsonl = (rows: readonly Row[]): string => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

/** The export's files in memory (path inside the folder → bytes), in the order written. */
export async function neuronpediaFiles(
  db: Db,
  saeId: string,
  options: NeuronpediaExportOptions = {},
  progress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<{ report: Omit<NeuronpediaExportReport, 'dir'>; files: Map<string, Buffer> }> {
  const sae = db.prepare('select hook, n_positions from saes where sae_id = ?').get(saeId) as
    { hook: string; n_positions: number } | undefined;
  if (!sae) throw new OrreryError('not_found', `SAE ${saeId} is not in this index`);
  const np = npSource(db, saeId);
  const modelId = options.modelId ?? np?.modelId ?? 'orrery';
  const sourceId = options.sourceId ?? np?.sourceId ?? saeId;
  const all = db
    .prepare('select idx from features where sae_id = ? order by idx')
    .pluck()
    .all(saeId) as number[];
  let idxs = all;
  if (options.features) {
    const have = new Set(all);
    const missing = options.features.filter((i) => !have.has(i));
    if (missing.length > 0)
      throw new OrreryError(
        'not_found',
        `SAE ${saeId} has no feature ${missing.slice(0, 5).join(', ')}`,
      );
    idxs = [...new Set(options.features)].sort((a, b) => a - b);
  }
  const info = db.prepare('select info from np_sources where sae_id = ?').pluck().get(saeId) as
    string | null | undefined;
  const source: Row = { ...(info ? (JSON.parse(info) as Row) : {}), id: sourceId, modelId };
  const files = new Map<string, Buffer>();
  files.set(
    'model.jsonl',
    Buffer.from(jsonl([{ id: modelId, displayName: modelId, displayNameShort: modelId }])),
  );
  files.set('source.jsonl', Buffer.from(jsonl([source])));
  const counts = { features: 0, activations: 0, explanations: 0 };
  const batches = Math.ceil(idxs.length / EXPORT_BATCH);
  for (let b = 0; b < batches; b++) {
    if (signal?.aborted) throw new BuildCancelled('export');
    progress?.(b, batches);
    const f: Row[] = [];
    const a: Row[] = [];
    const e: Row[] = [];
    for (const idx of idxs.slice(b * EXPORT_BATCH, (b + 1) * EXPORT_BATCH)) {
      const r = featureRows(db, saeId, idx, { modelId, layer: sourceId }, sae.hook);
      if (!r) continue;
      f.push(r.feature);
      a.push(...r.activations);
      e.push(...r.explanations);
    }
    counts.features += f.length;
    counts.activations += a.length;
    counts.explanations += e.length;
    const [fz, az, ez] = await Promise.all([f, a, e].map((rows) => gz(jsonl(rows), { level: 5 })));
    files.set(`features/batch-${b}.jsonl.gz`, fz as Buffer);
    files.set(`activations/batch-${b}.jsonl.gz`, az as Buffer);
    files.set(`explanations/batch-${b}.jsonl.gz`, ez as Buffer);
  }
  progress?.(batches, batches);
  return { report: { modelId, sourceId, ...counts, files: [...files.keys()] }, files };
}

/** The export written as a folder at `outDir`. */
export async function exportNeuronpedia(
  db: Db,
  saeId: string,
  outDir: string,
  options: NeuronpediaExportOptions = {},
  progress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<NeuronpediaExportReport> {
  const { report, files } = await neuronpediaFiles(db, saeId, options, progress, signal);
  for (const [rel, data] of files) {
    const file = path.join(outDir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, data);
  }
  return { dir: outDir, ...report };
}

/** The export as one zip (the folder inside, named by the source id), for a download. */
export async function neuronpediaZip(
  db: Db,
  saeId: string,
  options: NeuronpediaExportOptions = {},
): Promise<{ name: string; bytes: Uint8Array; report: Omit<NeuronpediaExportReport, 'dir'> }> {
  const { report, files } = await neuronpediaFiles(db, saeId, options);
  const tree: Record<string, [Uint8Array, { level: 0 }]> = {};
  // Stored, not deflated: the batches are gzipped already.
  for (const [rel, data] of files) tree[`${report.sourceId}/${rel}`] = [data, { level: 0 }];
  return {
    name: `${report.modelId}-${report.sourceId}-neuronpedia.zip`,
    bytes: fflate().zipSync(tree),
    report,
  };
}

const csvCell = (v: string | number | null): string => {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The galaxy as CSV: x, y, z, index, title, cluster (−1 for none), density. */
export function mapCsv(db: Db, saeId: string): { csv: string; rows: number } {
  const p = loadPositions(db, saeId);
  if (!p) throw new OrreryError('not_found', `the index has no map for SAE ${saeId}`);
  const labels = new Map(
    (
      db.prepare('select idx, label from features where sae_id = ?').all(saeId) as {
        idx: number;
        label: string | null;
      }[]
    ).map((r) => [r.idx, r.label]),
  );
  const lines = ['x,y,z,index,title,cluster,density'];
  for (let i = 0; i < p.count; i++) {
    const idx = p.idx[i] as number;
    const c = p.cluster[i] as number;
    lines.push(
      [
        p.xyz[i * 3] as number,
        p.xyz[i * 3 + 1] as number,
        p.xyz[i * 3 + 2] as number,
        idx,
        csvCell(labels.get(idx) ?? `feature ${idx}`),
        c === 0xffffffff ? -1 : c,
        p.density[i] as number,
      ].join(','),
    );
  }
  return { csv: `${lines.join('\n')}\n`, rows: p.count };
}

export function exportMapCsv(db: Db, saeId: string, file: string): { rows: number } {
  const { csv, rows } = mapCsv(db, saeId);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, csv);
  return { rows };
}
