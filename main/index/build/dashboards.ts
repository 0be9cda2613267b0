/**
 * A pack SAE's index filled from a Neuronpedia export instead of a pass over a corpus ("Open
 * model…" with dashboards): the SAE's own row first (its real width, hook and architecture, so
 * the import checks indices against it) and a feature row for each of its features, then the
 * dashboards (dashboards/import.ts), then — when the export has no UMAP — the galaxy from the
 * SAE's decoder (the build's map stage: k-NN, UMAP, clusters named from the imported labels).
 * The SAE then counts as built. Runs in the index worker.
 */
import { availableParallelism } from 'node:os';
import type { Db } from '../../db/connection';
import { packFile } from '../../packs/manifest';
import { readPack } from '../../packs/packReader';
import { loadSae } from '../../sae';
import {
  importNeuronpediaExport,
  type DashboardImportReport,
  type DashboardProgress,
} from '../dashboards/import';
import { mapStage, type BuildProgress } from './build';
import { Gemm } from './gemm';

export async function indexFromDashboards(
  db: Db,
  packDir: string,
  saeId: string,
  source: string,
  onProgress: (p: DashboardProgress | BuildProgress) => void,
  signal?: AbortSignal,
): Promise<DashboardImportReport> {
  const read = await readPack(packDir);
  if (!read.ok) throw new Error(`${read.problem.file}: ${read.problem.message}`);
  const info = read.pack.saes.find((s) => s.id === saeId);
  if (!info) throw new Error(`pack ${read.pack.manifest.id} has no SAE ${saeId}`);
  const sae = await loadSae(packFile(packDir, info.dir));
  db.transaction(() => {
    db.prepare(
      `insert into saes(sae_id, hook, kind, d_sae, d_in, architecture, n_examples)
       values (?, ?, ?, ?, ?, ?, 0)
       on conflict(sae_id) do update set hook = excluded.hook, kind = excluded.kind,
         d_sae = excluded.d_sae, d_in = excluded.d_in, architecture = excluded.architecture,
         built_at = null`,
    ).run(saeId, info.hook, read.pack.manifest.kind, sae.dSae, sae.dIn, sae.architecture);
    const row = db.prepare(
      'insert into features(sae_id, idx) values (?, ?) on conflict(sae_id, idx) do nothing',
    );
    for (let i = 0; i < sae.dSae; i++) row.run(saeId, i);
  })();
  const report = await importNeuronpediaExport(
    db,
    source,
    { saeId, hook: info.hook },
    onProgress,
    signal,
  );
  if (!report.umap) {
    const gemm = await Gemm.create(Math.min(4, availableParallelism()));
    try {
      await mapStage(db, saeId, sae, gemm, 42, { signal }, (stage, done, total) =>
        onProgress({ saeId, stage, done, total }),
      );
    } finally {
      await gemm.dispose();
    }
  }
  db.prepare('update saes set built_at = ? where sae_id = ?').run(new Date().toISOString(), saeId);
  return report;
}
