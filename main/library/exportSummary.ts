/**
 * What a Neuronpedia export folder holds, read without importing it: its model and source ids
 * (source.jsonl, else the first feature row), the hook its dashboards were computed at and how
 * many features it has (lines of features/batch-N.jsonl[.gz]; an export of explanations only
 * counts the distinct features they explain). The files stream line by line, gunzipped as
 * they stream. The layout is the importer's (main/index/dashboards/import.ts).
 */
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { exportFolder } from '../index/dashboards/import';

export interface ExportSummary {
  /** The source folder (the export itself, or its one source sub-folder). */
  dir: string;
  modelId: string | null;
  sourceId: string | null;
  hook: string | null;
  features: number;
}

const BATCH = /^batch-(\d+)\.jsonl(\.gz)?$/;

function batches(dir: string, kind: string): string[] {
  const sub = path.join(dir, kind);
  if (!existsSync(sub)) return [];
  return readdirSync(sub)
    .filter((n) => BATCH.test(n))
    .sort((a, b) => Number(BATCH.exec(a)?.[1]) - Number(BATCH.exec(b)?.[1]))
    .map((n) => path.join(sub, n));
}

async function* lines(file: string): AsyncGenerator<string> {
  const raw = createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const rl = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of rl) if (line.trim()) yield line;
  } finally {
    rl.close();
    raw.destroy();
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

function parse(line: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(line) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export async function summariseExport(given: string): Promise<ExportSummary> {
  const dir = exportFolder(given);
  const out: ExportSummary = { dir, modelId: null, sourceId: null, hook: null, features: 0 };
  const sourceFile = path.join(dir, 'source.jsonl');
  if (existsSync(sourceFile)) {
    const first = readFileSync(sourceFile, 'utf8')
      .split('\n')
      .find((l) => l.trim());
    const src = first ? parse(first) : null;
    out.sourceId = str(src?.id);
    out.modelId = str(src?.modelId);
  }
  const take = (row: Record<string, unknown> | null): void => {
    if (!row) return;
    out.modelId ??= str(row.modelId);
    out.sourceId ??= str(row.layer);
    out.hook ??= str(row.hookName);
  };
  const features = batches(dir, 'features');
  for (const file of features) {
    for await (const line of lines(file)) {
      if (out.features === 0 || out.hook === null) take(parse(line));
      out.features++;
    }
  }
  if (features.length === 0) {
    const seen = new Set<string>();
    for (const file of batches(dir, 'explanations')) {
      for await (const line of lines(file)) {
        const row = parse(line);
        take(row);
        if (row && (typeof row.index === 'string' || typeof row.index === 'number'))
          seen.add(String(row.index));
      }
    }
    out.features = seen.size;
  }
  return out;
}
