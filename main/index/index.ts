/**
 * main/index: the SQLite feature index of a pack (DESIGN.md §4). Build (off the API thread:
 * call buildIndex inside a worker with its own Db handle), search, positions for the galaxy,
 * feature cards, user edits, Neuronpedia import. Plain Node: imports main/db, main/runtime
 * (ONNX), main/sae and main/packs; nothing from Electron.
 */
import { openDatabase, type Db } from '../db/connection';
import { openRecovering, type Recovery } from '../db/recover';
import { migrations } from './migrations';

export { migrations, HISTOGRAM_BINS, HISTOGRAM_LOW } from './migrations';
export {
  buildIndex,
  clearBuild,
  BuildCancelled,
  type BuildOptions,
  type BuildProgress,
  type BuildStage,
  type BuildSummary,
} from './build/build';
export {
  searchFeatures,
  ftsExpression,
  loadPositions,
  listClusters,
  listIndexedSaes,
  type SearchQuery,
  type SearchHit,
  type MapPositions,
  type ClusterInfo,
  type IndexedSae,
} from './search';
export { getFeature, getExampleThumb, type FeatureCard, type TopExample } from './feature';
export { renameFeature, setFeatureNotes, refreshLabels, type LabelSource } from './store';
export { importNeuronpedia, type ImportReport, type NeuronpediaFilter } from './neuronpedia';
export {
  importNeuronpediaExport,
  type DashboardImportOptions,
  type DashboardImportReport,
  type DashboardProgress,
} from './dashboards/import';
export { exportNeuronpedia, exportMapCsv, type NeuronpediaExportReport } from './dashboards/export';
export { labelCoverage, mapAgreement, type LabelCoverage, type MapAgreement } from './quality';
export { CorpusError, type SplitChoice } from './corpus';

/**
 * Bytes of an index file read through a memory map rather than read() calls. A search at 1M
 * labels touches a few hundred scattered pages of the FTS and features tables: through the
 * page cache's read() each costs a system call (a 3-letter prefix: 5.2 ms CPU median, 2.6 ms
 * mapped). Address space only; pages stay the OS's file cache.
 */
export const INDEX_MMAP_BYTES = 1 << 30;

/**
 * Opens (creating and migrating if needed) a feature index database. With `onRecovered`, a
 * file that is not a usable database is checked (PRAGMA quick_check), moved aside and replaced
 * by a fresh one, and reported (see main/db/recover.ts).
 */
export function openIndex(
  file: string,
  options: { readonly?: boolean; onRecovered?: (r: Recovery) => void } = {},
): Db {
  const db = options.readonly
    ? openDatabase(file, { readonly: true })
    : options.onRecovered
      ? openRecovering(file, { migrations }, options.onRecovered)
      : openDatabase(file, { migrations });
  db.pragma(`mmap_size = ${INDEX_MMAP_BYTES}`);
  return db;
}
