/**
 * main/index: the SQLite feature index of a pack (DESIGN.md §4). Build (off the API thread:
 * call buildIndex inside a worker with its own Db handle), search, positions for the galaxy,
 * feature cards, user edits, Neuronpedia import. Plain Node: imports main/db, main/runtime
 * (ONNX), main/sae and main/packs; nothing from Electron.
 */
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

export { openIndex, INDEX_MMAP_BYTES } from './open';
