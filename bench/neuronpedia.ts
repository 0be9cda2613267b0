/**
 * `npx tsx bench/neuronpedia.ts` (or `npm run bench -- neuronpedia`): Neuronpedia dashboard
 * import throughput. Generates a 24,576-feature export in a temp folder (the sizes of a real
 * one: 24 batches of 1024 features, ~20 activation records of 64 tokens per feature, an
 * explanation with UMAP each, 24-bar histograms, logit lens), imports it into a fresh index
 * each run, and prints features/s (median of the runs, spread) with the load average, the same
 * per CPU second of this process, the export's size and the index's size afterwards. The
 * export is not committed. NP_BENCH_FEATURES / NP_BENCH_RUNS change the size and the runs.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importNeuronpediaExport, openIndex } from '../main/index';
import { writeSyntheticExport } from '../tests/support/neuronpediaExport';
import { fmt, line, loadAverage, median, peakRssMb } from './stats';

const FEATURES = Number(process.env.NP_BENCH_FEATURES ?? 24_576);
const RUNS = Math.max(3, Number(process.env.NP_BENCH_RUNS ?? 3));

function bytesUnder(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (s, e) =>
      s +
      (e.isDirectory()
        ? bytesUnder(path.join(dir, e.name))
        : statSync(path.join(dir, e.name)).size),
    0,
  );
}

export async function benchNeuronpedia(): Promise<void> {
  console.log('\n== Neuronpedia dashboard import');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orrery-bench-np-'));
  try {
    const exportDir = path.join(dir, 'export');
    const t0 = performance.now();
    writeSyntheticExport(exportDir, { features: FEATURES, records: 20, tokens: 64 });
    line(
      'generated export',
      `${fmt(bytesUnder(exportDir) / 1e6)} MB`,
      `${FEATURES} features, 20 records × 64 tokens each, in ${fmt((performance.now() - t0) / 1000)} s`,
    );
    const rates: number[] = [];
    const cpuRates: number[] = [];
    let dbBytes = 0;
    for (let run = 0; run < RUNS; run++) {
      const file = path.join(dir, `run${run}.sqlite`);
      const db = openIndex(file);
      const load = os.loadavg()[0] ?? 0;
      const t = performance.now();
      const cpu0 = process.cpuUsage();
      const r = await importNeuronpediaExport(db, exportDir);
      const s = (performance.now() - t) / 1000;
      const used = process.cpuUsage(cpu0);
      const cpuS = (used.user + used.system) / 1e6;
      cpuRates.push(FEATURES / cpuS);
      db.close();
      if (r.features !== FEATURES || r.skipped !== 0)
        throw new Error(`imported ${r.features} of ${FEATURES}, skipped ${r.skipped}`);
      rates.push(FEATURES / s);
      dbBytes = statSync(file).size;
      line(
        `  run ${run + 1}`,
        `${fmt(FEATURES / s, 0)} feat/s`,
        `${fmt(s)} s wall, ${fmt(cpuS)} s CPU, ${r.activations} records, load ${fmt(load, 2)}`,
      );
      rmSync(file, { force: true });
      for (const ext of ['-wal', '-shm']) rmSync(`${file}${ext}`, { force: true });
    }
    const lo = Math.min(...rates);
    const hi = Math.max(...rates);
    line(
      'import throughput (median)',
      `${fmt(median(rates), 0)} feat/s`,
      `spread ${fmt(lo, 0)}–${fmt(hi, 0)} over ${RUNS} runs; load ${loadAverage()}; ${os.cpus().length} cores`,
    );
    line(
      'per CPU second of this process (median)',
      `${fmt(median(cpuRates), 0)} feat/s`,
      `spread ${fmt(Math.min(...cpuRates), 0)}–${fmt(Math.max(...cpuRates), 0)}; less sensitive to load`,
    );
    line(
      'index size after import',
      `${fmt(dbBytes / 1e6)} MB`,
      `peak RSS ${fmt(peakRssMb(), 0)} MB`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchNeuronpedia().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
