/**
 * The index from a shell, without the app:
 *   npx tsx main/index/cli.ts build <pack dir> [--sae id] [--out file] [--split auto|val|all]
 *                                    [--chunk n] [--threads n] [--corpus folder]
 *                                    [--thumbnails no]  (a shipped index: cut from the sheet)
 *                                    [--stages-only yes]  (only the later stages whose version
 *                                    is older, over SAEs already built: a shipped index)
 *   npx tsx main/index/cli.ts search <index file> <words…> [--sae id] [--limit n]
 *   npx tsx main/index/cli.ts stats <index file> [--sae id]
 *   npx tsx main/index/cli.ts import-neuronpedia <index file> <export folder|feature.json> [--sae id]
 *                                    [--model-id m] [--layer l]  (Neuronpedia dashboards: the
 *                                    folder with features/ activations/ explanations/ batches,
 *                                    or one feature's API JSON; an SAE the index lacks is made)
 *   npx tsx main/index/cli.ts import-neuronpedia <index file> <explanations.jsonl[.gz]|.json> --sae id
 *                                    [--model-id m] [--layer l]  (labels only)
 *   npx tsx main/index/cli.ts export-neuronpedia <index file> <out folder> [--sae id]
 *                                    [--features 1,2,3] [--model-id m] [--source-id s]
 *   npx tsx main/index/cli.ts export-map <index file> <out.csv> [--sae id]
 *   npx tsx main/index/cli.ts ship-maps <pack dir>   (the maps beside the pack's shipped index,
 *                                    features.map.orb: a first start draws from them)
 * A build can be interrupted (Ctrl-C) and resumed by running the same command again.
 * An --out ending in .br (e.g. features.sqlite.br) builds into <out>.building.sqlite next to
 * it (kept until the build finishes, so a re-run resumes), then writes the Brotli-compressed
 * copy and its maps (ship-maps) and deletes the .sqlite; an existing <out> is unpacked first,
 * so a re-run adds to it.
 */
import { existsSync, promises as fs, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPack } from '../packs/packReader';
import {
  buildIndex,
  BuildCancelled,
  exportMapCsv,
  exportNeuronpedia,
  importNeuronpedia,
  importNeuronpediaExport,
  labelCoverage,
  listIndexedSaes,
  mapAgreement,
  openIndex,
  searchFeatures,
  type BuildProgress,
  type SplitChoice,
} from './index';
import { isPackedIndex, packIndex, unpackIndex } from './packedIndex';
import { writeShippedMaps } from './shippedMap';
import { parseArgs, progressLine, type Args, runCli } from '../cli/terminal';

function bar(p: BuildProgress, started: number): string {
  return progressLine(`${p.saeId} ${p.stage.padEnd(11)}`, p.done, p.total, started);
}

async function build(a: Args): Promise<number> {
  const dir = a.positional[1];
  if (!dir) throw new Error('usage: build <pack dir> [--sae id] [--out file]');
  const read = await readPack(dir);
  if (!read.ok) throw new Error(`${read.problem.file}: ${read.problem.message}`);
  const out = a.flags.get('out') ?? path.join(dir, read.pack.manifest.index ?? 'features.sqlite');
  const packed = isPackedIndex(out);
  const file = packed ? `${out}.building.sqlite` : out;
  if (packed && !existsSync(file) && existsSync(out)) await unpackIndex(out, file);
  const db = openIndex(file);
  let closed = false;
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const started = performance.now();
  let last = '';
  try {
    const summaries = await buildIndex(db, dir, {
      saeId: a.flags.get('sae'),
      split: (a.flags.get('split') as SplitChoice | undefined) ?? 'auto',
      chunkExamples: a.flags.has('chunk') ? Number(a.flags.get('chunk')) : undefined,
      threads: a.flags.has('threads') ? Number(a.flags.get('threads')) : undefined,
      compact: true,
      corpusDir: a.flags.get('corpus'),
      thumbnails: a.flags.get('thumbnails') !== 'no',
      stagesOnly: a.flags.get('stages-only') === 'yes',
      signal: controller.signal,
      onProgress: (p) => {
        const line = bar(p, started);
        if (line !== last && process.stderr.isTTY) process.stderr.write(line);
        else if (p.done === p.total) process.stderr.write(`${line.trim()}\n`);
        last = line;
      },
    });
    process.stderr.write('\n');
    for (const s of summaries) {
      const cov = labelCoverage(db, s.saeId);
      const agree = mapAgreement(db, s.saeId);
      console.log(
        JSON.stringify(
          {
            ...s,
            out,
            labelCoverage: { values: cov.values, named: cov.named, associated: cov.associated },
            mapAgreement: agree,
          },
          null,
          1,
        ),
      );
    }
    if (packed) {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      closed = true;
      const t0 = performance.now();
      const size = await packIndex(file, out);
      const { size: raw } = await fs.stat(file);
      await shipMapsOf(file, out);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) await fs.rm(f, { force: true });
      console.log(
        `${out}: ${(size / 1e6).toFixed(2)} MB (Brotli, ${((100 * size) / raw).toFixed(1)}% of ${(raw / 1e6).toFixed(2)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof BuildCancelled) {
      process.stderr.write('\ncancelled; run the same command again to resume\n');
      return 130;
    }
    throw e;
  } finally {
    if (!closed) db.close();
  }
}

function search(a: Args): number {
  const [, file, ...words] = a.positional;
  if (!file) throw new Error('usage: search <index file> <words…>');
  const db = openIndex(file, { readonly: true });
  try {
    const sae = a.flags.get('sae') ?? listIndexedSaes(db)[0]?.saeId;
    if (!sae) throw new Error('the index has no SAE');
    const hits = searchFeatures(db, {
      saeId: sae,
      text: words.join(' '),
      limit: Number(a.flags.get('limit') ?? 20),
    });
    for (const h of hits) {
      console.log(
        `${String(h.idx).padStart(6)}  ${(h.labelSource ?? '-').padEnd(12)} ${h.label ?? ''}`,
      );
    }
    return 0;
  } finally {
    db.close();
  }
}

function stats(a: Args): number {
  const file = a.positional[1];
  if (!file) throw new Error('usage: stats <index file>');
  const db = openIndex(file, { readonly: true });
  try {
    for (const s of listIndexedSaes(db)) {
      if (a.flags.has('sae') && a.flags.get('sae') !== s.saeId) continue;
      const cov = labelCoverage(db, s.saeId);
      console.log(
        JSON.stringify(
          { ...s, labelCoverage: cov, mapAgreement: mapAgreement(db, s.saeId) },
          null,
          1,
        ),
      );
    }
    return 0;
  } finally {
    db.close();
  }
}

/** One feature's API JSON (an object with an index), as opposed to JSON lines or an array. */
async function isFeatureJson(file: string): Promise<boolean> {
  if (statSync(file).size > 64 * 2 ** 20) return false;
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) && 'index' in v;
  } catch {
    return false;
  }
}

async function neuronpedia(a: Args): Promise<number> {
  const [, file, from] = a.positional;
  const sae = a.flags.get('sae');
  if (!file || !from)
    throw new Error(
      'usage: import-neuronpedia <index> <export folder|feature.json|jsonl> [--sae id]',
    );
  await fs.access(from);
  const dashboards = statSync(from).isDirectory() || (await isFeatureJson(from));
  if (!dashboards && !sae) throw new Error('a labels file needs --sae id');
  const db = openIndex(file);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  try {
    const filter = { modelId: a.flags.get('model-id'), layer: a.flags.get('layer') };
    const r = dashboards
      ? await importNeuronpediaExport(
          db,
          from,
          { saeId: sae, modelId: filter.modelId, sourceId: filter.layer },
          (p) => process.stderr.write(`\r${p.stage.padEnd(12)} ${p.done}/${p.total} files `),
          controller.signal,
        )
      : await importNeuronpedia(db, sae as string, from, filter, controller.signal);
    if (dashboards) process.stderr.write('\n');
    console.log(JSON.stringify(r, null, 1));
    return 0;
  } catch (e) {
    if (e instanceof BuildCancelled) {
      process.stderr.write('\ncancelled; nothing was written\n');
      return 130;
    }
    throw e;
  } finally {
    db.close();
  }
}

function saeOf(a: Args, db: ReturnType<typeof openIndex>): string {
  const sae = a.flags.get('sae') ?? listIndexedSaes(db)[0]?.saeId;
  if (!sae) throw new Error('the index has no SAE');
  return sae;
}

async function exportNp(a: Args): Promise<number> {
  const [, file, out] = a.positional;
  if (!file || !out)
    throw new Error('usage: export-neuronpedia <index> <out folder> [--features 1,2,3]');
  const db = openIndex(file);
  try {
    const list = a.flags.get('features');
    const features = list?.split(',').map((x) => {
      const n = Number(x.trim());
      if (!Number.isInteger(n) || n < 0) throw new Error(`--features: ${x} is not a feature index`);
      return n;
    });
    const r = await exportNeuronpedia(db, saeOf(a, db), out, {
      features,
      modelId: a.flags.get('model-id'),
      sourceId: a.flags.get('source-id'),
    });
    console.log(JSON.stringify({ ...r, files: r.files.length }, null, 1));
    return 0;
  } finally {
    db.close();
  }
}

function exportMap(a: Args): number {
  const [, file, out] = a.positional;
  if (!file || !out) throw new Error('usage: export-map <index> <out.csv> [--sae id]');
  const db = openIndex(file, { readonly: true });
  try {
    console.log(JSON.stringify({ out, ...exportMapCsv(db, saeOf(a, db), out) }));
    return 0;
  } finally {
    db.close();
  }
}

/** Writes the maps of index `file` (the unpacked copy of `shipped`) beside `shipped`. */
async function shipMapsOf(file: string, shipped: string): Promise<void> {
  const db = openIndex(file, { readonly: true });
  try {
    const w = await writeShippedMaps(db, shipped);
    console.log(`${w.file}: ${(w.bytes / 1e3).toFixed(1)} kB (the maps a first start draws)`);
  } finally {
    db.close();
  }
}

async function shipMaps(a: Args): Promise<number> {
  const dir = a.positional[1];
  if (!dir) throw new Error('usage: ship-maps <pack dir>');
  const read = await readPack(dir);
  if (!read.ok) throw new Error(`${read.problem.file}: ${read.problem.message}`);
  const index = read.pack.manifest.index;
  if (!index) throw new Error(`${dir}: the pack ships no index`);
  const shipped = path.join(dir, index);
  if (!isPackedIndex(shipped)) return shipMapsOf(shipped, shipped).then(() => 0);
  const tmp = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'orrery-ship-maps-')), 'i.sqlite');
  try {
    await unpackIndex(shipped, tmp);
    await shipMapsOf(tmp, shipped);
    return 0;
  } finally {
    await fs.rm(path.dirname(tmp), { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const a = parseArgs(process.argv.slice(2));
  switch (a.positional[0]) {
    case 'build':
      return build(a);
    case 'search':
      return search(a);
    case 'stats':
      return stats(a);
    case 'import-neuronpedia':
      return neuronpedia(a);
    case 'export-neuronpedia':
      return exportNp(a);
    case 'export-map':
      return exportMap(a);
    case 'ship-maps':
      return shipMaps(a);
    default:
      console.error(
        'usage: cli.ts build|search|stats|import-neuronpedia|export-neuronpedia|export-map|ship-maps … (see the header of main/index/cli.ts)',
      );
      return 2;
  }
}

runCli(main, 1, 'orrery index: ');
