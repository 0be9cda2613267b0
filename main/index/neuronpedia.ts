/**
 * Labels from a Neuronpedia explanations export: records with modelId, layer, index and
 * description (other fields ignored), as JSON lines (the bulk exports; gzipped or not) or as
 * one JSON array (what the explanation export API returns). They become labels with
 * label_source 'neuronpedia' (a person's rename still wins). Bad records are counted and
 * reported, never guessed at.
 */
import { limits, OrreryError } from '../../preload/contract';
import type { Db } from '../db/connection';
import { BuildCancelled } from './build/build';
import { records, type LabelCaps } from './jsonLines';
import { refreshLabels } from './store';

export type { LabelCaps } from './jsonLines';

export interface NeuronpediaFilter {
  /** Keep only lines with this modelId / layer (e.g. "gpt2-small", "6-res-jb"). */
  modelId?: string;
  layer?: string;
}

export interface ImportReport {
  imported: number;
  skipped: number;
  /** The first few problems, "line N: why". */
  problems: string[];
}

export async function importNeuronpedia(
  db: Db,
  saeId: string,
  file: string,
  filter: NeuronpediaFilter = {},
  signal?: AbortSignal,
  caps: LabelCaps = { bytes: limits.labelBytes, line: limits.labelLineBytes },
): Promise<ImportReport> {
  const sae = db.prepare('select d_sae from saes where sae_id = ?').get(saeId) as
    { d_sae: number } | undefined;
  if (!sae) throw new OrreryError('not_found', `SAE ${saeId} is not in this index; build it first`);
  const report: ImportReport = { imported: 0, skipped: 0, problems: [] };
  const skip = (where: string, why: string): void => {
    report.skipped++;
    if (report.problems.length < 10) report.problems.push(`${where}: ${why}`);
  };
  const found = new Map<number, string>();
  let seen = 0;
  let objects = 0;
  for await (const r of records(file, caps)) {
    if (++seen % 4096 === 0 && signal?.aborted) throw new BuildCancelled('label import');
    const n = r.where;
    if (!r.json) {
      skip(n, 'not JSON');
      continue;
    }
    if (r.value === null || typeof r.value !== 'object' || Array.isArray(r.value)) {
      skip(n, 'not a JSON object');
      continue;
    }
    objects++;
    const v = r.value as Record<string, unknown>;
    if (filter.modelId !== undefined && v.modelId !== filter.modelId) continue;
    if (filter.layer !== undefined && String(v.layer) !== filter.layer) continue;
    const index = typeof v.index === 'string' ? Number(v.index) : v.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= sae.d_sae) {
      skip(n, `index ${String(v.index)} is not a feature of ${saeId} (0…${sae.d_sae - 1})`);
      continue;
    }
    const description = typeof v.description === 'string' ? v.description.trim() : '';
    if (!description) {
      skip(n, 'no description');
      continue;
    }
    found.set(index, description.slice(0, 1000));
  }
  if (signal?.aborted) throw new BuildCancelled('label import');
  if (objects === 0 && seen > 0)
    throw new OrreryError(
      'bad_input',
      `${file}: no Neuronpedia labels found (${report.problems[0] ?? 'no JSON objects'})`,
    );
  const ins = db.prepare(
    `insert into imported_labels(sae_id, idx, source, description) values (?, ?, 'neuronpedia', ?)
     on conflict(sae_id, idx, source) do update set description = excluded.description`,
  );
  db.transaction(() => {
    for (const [i, d] of found) ins.run(saeId, i, d);
  })();
  report.imported = found.size;
  refreshLabels(db, saeId, [...found.keys()]);
  return report;
}
