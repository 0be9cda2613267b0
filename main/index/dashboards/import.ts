/**
 * Neuronpedia dashboards into a feature index: an export folder (`features/batch-N.jsonl.gz`,
 * `activations/batch-N.jsonl.gz`, `explanations/batch-N.jsonl.gz`, `source.jsonl`; the layout of
 * hijohnnylin/neuronpedia utils/neuronpedia-utils/neuronpedia_utils/export-data.py, described in
 * main/index/dashboards/FORMAT.md) or one feature's JSON as their API returns it
 * (`GET /api/feature/{modelId}/{layer}/{index}`: a feature row with its `activations` and
 * `explanations`). Files stream line by line (gunzipped as they stream, bounded as label
 * imports are); rows are checked one by one (a bad one is skipped and named by file and line),
 * staged, and written in one transaction at the end, so a cancel writes nothing and a
 * re-import replaces what the same features had.
 */
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { OrreryError } from '../../../preload/contract';
import type { Db } from '../../db/connection';
import { BuildCancelled } from '../build/build';
import { defaultCaps, records, type LabelCaps } from '../jsonLines';
import { readActivation, readExplanation, readFeature, type NpIds, type Read } from './rows';
import { Stage, type SourceInfo } from './stage';

export interface DashboardImportOptions {
  /** The index's SAE to import into (default: the export's source id, e.g. "6-res-jb"). */
  saeId?: string;
  /** Keep only rows of this Neuronpedia model / source (others are passed over silently). */
  modelId?: string;
  sourceId?: string;
  /** Hook name for an SAE row the import creates (default: the rows' hookName). */
  hook?: string;
  caps?: LabelCaps;
}

export type DashboardStage = 'features' | 'activations' | 'explanations' | 'commit';

export interface DashboardProgress {
  stage: DashboardStage;
  /** Files read so far (of every kind), then 1 of 1 for the commit. */
  done: number;
  total: number;
}

export interface DashboardImportReport {
  saeId: string;
  modelId: string;
  sourceId: string;
  features: number;
  activations: number;
  explanations: number;
  /** Whether the galaxy now shows the export's UMAP. */
  umap: boolean;
  skipped: number;
  /** The first few problems, "features/batch-0.jsonl.gz line 7: not JSON". */
  problems: string[];
}

/** Biggest single feature JSON read whole. */
const MAX_FEATURE_JSON = 64 * 1024 * 1024;
const BATCH_FILE = /^batch-(\d+)\.jsonl(\.gz)?$/;
const KINDS = ['features', 'activations', 'explanations'] as const;
type Kind = (typeof KINDS)[number];

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};
const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** The batch files of one kind, in batch order (plus a top-level explanations.jsonl[.gz]). */
function batchFiles(dir: string, kind: Kind): string[] {
  const sub = path.join(dir, kind);
  const out = isDir(sub)
    ? readdirSync(sub)
        .map((n) => ({ n, m: BATCH_FILE.exec(n) }))
        .filter((x) => x.m)
        .sort((a, b) => Number(a.m?.[1]) - Number(b.m?.[1]))
        .map((x) => path.join(sub, x.n))
    : [];
  for (const name of [`${kind}.jsonl`, `${kind}.jsonl.gz`])
    if (isFile(path.join(dir, name))) out.push(path.join(dir, name));
  return out;
}

const looksLikeExport = (dir: string): boolean => KINDS.some((k) => batchFiles(dir, k).length > 0);

/** The source folder of an export: `dir` itself, or its one source sub-folder. */
export function exportFolder(dir: string): string {
  if (looksLikeExport(dir)) return dir;
  const subs = readdirSync(dir)
    .map((n) => path.join(dir, n))
    .filter((p) => isDir(p) && looksLikeExport(p));
  if (subs.length === 1) return subs[0] as string;
  if (subs.length > 1)
    throw new OrreryError(
      'bad_input',
      `${dir} holds ${subs.length} Neuronpedia sources (${subs.map((s) => path.basename(s)).join(', ')}); choose one of those folders`,
    );
  throw new OrreryError(
    'bad_input',
    `${dir} is not a Neuronpedia export: no features/, activations/ or explanations/batch-N.jsonl.gz in it`,
  );
}

/** source.jsonl's one row, when there is one. */
async function readSource(dir: string): Promise<Record<string, unknown> | null> {
  const file = path.join(dir, 'source.jsonl');
  if (!isFile(file)) return null;
  const first = (await readFile(file, 'utf8')).split('\n').find((l) => l.trim());
  if (!first) return null;
  try {
    const v = JSON.parse(first) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export async function importNeuronpediaExport(
  db: Db,
  source: string,
  options: DashboardImportOptions = {},
  progress?: (p: DashboardProgress) => void,
  signal?: AbortSignal,
): Promise<DashboardImportReport> {
  const caps = options.caps ?? defaultCaps();
  const problems: string[] = [];
  let skipped = 0;
  const skip = (where: string, why: string): void => {
    skipped++;
    if (problems.length < 10) problems.push(`${where}: ${why}`);
  };
  let modelId: string | null = options.modelId ?? null;
  let sourceId: string | null = options.sourceId ?? null;
  let hook: string | null = options.hook ?? null;
  let info: string | null = null;
  let positions: number | null = null;

  let files: { kind: Kind; file: string; name: string }[] = [];
  let single: Record<string, unknown> | null = null;
  if (isDir(source)) {
    const dir = exportFolder(source);
    const src = await readSource(dir);
    if (src) {
      info = JSON.stringify(src);
      if (!options.sourceId && typeof src.id === 'string') sourceId = src.id;
      if (!options.modelId && typeof src.modelId === 'string') modelId = src.modelId;
      const p = Number(src.num_prompts) * Number(src.num_tokens_in_prompt);
      if (Number.isFinite(p) && p > 0) positions = p;
    }
    files = KINDS.flatMap((kind) =>
      batchFiles(dir, kind).map((file) => ({ kind, file, name: path.relative(dir, file) })),
    );
  } else if (isFile(source)) {
    if (statSync(source).size > MAX_FEATURE_JSON)
      throw new OrreryError(
        'too_large',
        `${source} is over ${MAX_FEATURE_JSON / 2 ** 20} MB; one feature's JSON is far smaller`,
      );
    let v: unknown;
    try {
      v = JSON.parse(await readFile(source, 'utf8'));
    } catch (e) {
      throw new OrreryError('bad_input', `${source} is not JSON (${(e as Error).message})`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v) || !('index' in v))
      throw new OrreryError(
        'bad_input',
        `${source} is not one Neuronpedia feature (a JSON object with modelId, layer, index)`,
      );
    single = v as Record<string, unknown>;
  } else {
    throw new OrreryError('bad_input', `${source} is not a file or folder that can be read`);
  }

  // Indices must fit an SAE built here; an SAE an import made grows with its imports.
  let dSae: number | null = null;
  const limit = (): number => {
    if (dSae !== null) return dSae;
    const id = options.saeId ?? sourceId;
    if (id === null) return Infinity;
    const sae = db.prepare('select d_sae, architecture from saes where sae_id = ?').get(id) as
      { d_sae: number; architecture: string } | undefined;
    dSae = sae && sae.architecture !== 'neuronpedia' ? sae.d_sae : Infinity;
    return dSae;
  };

  /** Whether a row belongs to this import (and fixes the model and source on the first). */
  const belongs = (where: string, r: NpIds): boolean => {
    if (options.modelId && r.modelId !== null && r.modelId !== options.modelId) return false;
    if (options.sourceId && r.sourceId !== null && r.sourceId !== options.sourceId) return false;
    modelId ??= r.modelId;
    sourceId ??= r.sourceId;
    if (r.sourceId !== null && sourceId !== null && r.sourceId !== sourceId) {
      skip(where, `another source (${r.sourceId}, not ${sourceId})`);
      return false;
    }
    if (r.idx >= limit()) {
      const id = options.saeId ?? sourceId ?? '';
      skip(where, `index ${r.idx} is not a feature of ${id} (0…${limit() - 1})`);
      return false;
    }
    return true;
  };

  const stage = new Stage(db);
  try {
    let seen = 0;
    const check = (): void => {
      if (++seen % 256 === 0 && signal?.aborted) throw new BuildCancelled('dashboard import');
    };
    const take = (kind: Kind, where: string, value: unknown): void => {
      check();
      if (kind === 'features') {
        const r = readFeature(value);
        if (!ok(r, where)) return;
        if (!belongs(where, r.row)) return;
        hook ??= r.row.hookName;
        stage.feature(r.row);
      } else if (kind === 'activations') {
        const r = readActivation(value);
        if (ok(r, where) && belongs(where, r.row))
          stage.activation(r.row, options.saeId ?? sourceId ?? '');
      } else {
        const r = readExplanation(value);
        if (ok(r, where) && belongs(where, r.row)) stage.explanation(r.row);
      }
    };
    const ok = <T>(r: Read<T>, where: string): r is { ok: true; row: T } => {
      if (!r.ok) skip(where, r.why);
      return r.ok;
    };
    if (signal?.aborted) throw new BuildCancelled('dashboard import');
    if (single) {
      const name = path.basename(source);
      take('features', name, single);
      const list = (k: 'activations' | 'explanations'): unknown[] =>
        Array.isArray(single?.[k]) ? (single[k] as unknown[]) : [];
      // The API's explanations carry no ids: they are this feature's.
      const id = { modelId: single.modelId, layer: single.layer, index: single.index };
      list('activations').forEach((a, i) =>
        take('activations', `${name} activations[${i}]`, { ...id, ...(a as object) }),
      );
      list('explanations').forEach((e, i) =>
        take('explanations', `${name} explanations[${i}]`, { ...id, ...(e as object) }),
      );
    } else {
      const total = files.length + 1;
      for (const [i, f] of files.entries()) {
        progress?.({ stage: f.kind, done: i, total });
        for await (const r of records(f.file, caps)) {
          const where = `${f.name} ${r.where}`;
          if (!r.json) {
            skip(where, 'not JSON');
            check();
            continue;
          }
          take(f.kind, where, r.value);
        }
        if (signal?.aborted) throw new BuildCancelled('dashboard import');
      }
      progress?.({ stage: 'commit', done: files.length, total });
    }
    if (signal?.aborted) throw new BuildCancelled('dashboard import');
    const saeId = options.saeId ?? sourceId;
    if (!saeId || !sourceId || stage.rows === 0)
      throw new OrreryError(
        'bad_input',
        `${source}: no Neuronpedia rows found${problems[0] ? ` (${problems[0]})` : ''}`,
      );
    const src: SourceInfo = {
      saeId,
      modelId: modelId ?? 'unknown',
      sourceId,
      hook,
      info,
      positions,
    };
    const counts = stage.commit(src);
    if (!single) progress?.({ stage: 'commit', done: files.length + 1, total: files.length + 1 });
    return { saeId, modelId: src.modelId, sourceId, ...counts, skipped, problems };
  } finally {
    stage.drop();
  }
}
