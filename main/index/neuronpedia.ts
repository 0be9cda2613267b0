/**
 * Labels from a Neuronpedia explanations export: JSON lines with modelId, layer, index and
 * description (other fields ignored). They become labels with label_source 'neuronpedia'
 * (a person's rename still wins). Bad lines are counted and reported, never guessed at.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Db } from '../db/connection';
import { refreshLabels } from './store';

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
): Promise<ImportReport> {
  const sae = db.prepare('select d_sae from saes where sae_id = ?').get(saeId) as
    { d_sae: number } | undefined;
  if (!sae) throw new Error(`SAE ${saeId} is not in this index; build it first`);
  const report: ImportReport = { imported: 0, skipped: 0, problems: [] };
  const skip = (line: number, why: string): void => {
    report.skipped++;
    if (report.problems.length < 10) report.problems.push(`line ${line}: ${why}`);
  };
  const found = new Map<number, string>();
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line) as Record<string, unknown>;
    } catch {
      skip(n, 'not JSON');
      continue;
    }
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
