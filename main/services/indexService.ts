/**
 * The feature index behind the galaxy and the feature cards, in parts:
 * - IndexFiles (index/files.ts): where each index file lives, seeding from a pack's shipped
 *   index, checks and recovery, one connection for short writes and status;
 * - IndexWorkerHost (index/workerHost.ts): one long-lived worker thread with a queue for
 *   builds and label imports;
 * - ReaderPool (index/readers.ts): reader threads for search, cards, map positions and sheet
 *   decoding, so no index read runs on the thread that serves dial calls;
 * - readCard (main/index/card.ts): the card in the contract's field names, read in a reader.
 * This class only checks inputs and routes calls.
 */
import { availableParallelism } from 'node:os';
import { existsSync, promises as fs, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import {
  OrreryError,
  type CorporaSchema,
  type ExportFile,
  type FeatureCard,
  type FeatureMapSchema,
  type FeatureTitle,
  type featureInputs,
  type IndexStatusSchema,
  type SearchHitSchema,
} from '../../preload/contract';
import type { JobContext } from '../api/jobs';
import type { WorkerEntry } from '../app/workerEntry';
import type { Db } from '../db/connection';
import type { Recovery } from '../db/recover';
import type { CardRead } from '../index/card';
import type { MapRead } from '../index/mapRead';
import type { ShippedSae } from '../index/shippedMap';
import type { Sheet } from '../index/corpus';
import {
  getFeature,
  listIndexedSaes,
  renameFeature,
  setFeatureNotes,
  type DashboardImportReport,
  type ImportReport,
  type SearchHit,
} from '../index/index';
import { PackThumbs } from '../index/packThumbs';
import type { PackService } from '../packs/packService';
import { CORPUS_SIDECAR, IndexFiles } from './index/files';
import { ReaderPool } from './index/readers';
import { IndexWorkerHost } from './index/workerHost';

/**
 * When a first start's view drew from the maps shipped beside a pack's index, the index is
 * unpacked this long after the map was sent (the page is drawing its first frame then), or
 * this long after start when no view asked (shippedMap.ts; seedSoon).
 */
const SEED_AFTER_MAP_MS = 1000;
const SEED_UNASKED_MS = 4000;

type Status = z.output<typeof IndexStatusSchema>;
type SearchHitOut = z.output<typeof SearchHitSchema>;
type FeatureMap = z.output<typeof FeatureMapSchema>;
type Corpora = z.output<typeof CorporaSchema>;

export class IndexService {
  private readonly files: IndexFiles;
  private readonly worker: IndexWorkerHost;
  readonly readers: ReaderPool;
  /** Thumbnails cut from a pack's sheet, decoded in a reader thread. */
  private readonly thumbs = new PackThumbs(60_000, (file, tile) =>
    this.readers.run<Sheet>({ type: 'sheet', file, tile }),
  );

  constructor(
    private readonly packs: PackService,
    indexDir: string,
    /** The index worker's entry and the reader threads' (AppConfig.workers). */
    workers: { index: WorkerEntry; reader: WorkerEntry },
    /** Told when an index file was not a usable database and was moved aside. */
    onRecovered: (r: Recovery) => void = () => undefined,
    readers = Math.max(1, Math.min(2, availableParallelism() - 1)),
  ) {
    this.readers = new ReaderPool(workers.reader, readers);
    this.worker = new IndexWorkerHost(workers.index);
    this.files = new IndexFiles(
      packs,
      indexDir,
      onRecovered,
      (file) => void this.readers.release(file),
      (file) => this.readers.run<boolean>({ type: 'check', file }),
    );
  }

  /** Where the pack whose map was read last is remembered (warmFirstView opens it). */
  private get lastMapFile(): string {
    return path.join(this.files.indexDir, 'last-map.json');
  }

  private lastMap: string | null = null;
  /** Unpacks put off while a first view draws from shipped maps (seedSoon), by pack. */
  private readonly seedTimers = new Map<string, { due: number; timer: NodeJS.Timeout }>();

  /**
   * Readies the index the first view will most likely read, before it asks (cold start): the
   * pack whose map was read last, else the first pack listed (the page's default). Its copy
   * is seeded (a shipped `.br` unpacked on first use) and checked now, in a reader thread.
   * Failures are left for the view's own calls to report.
   */
  async warmFirstView(): Promise<void> {
    this.readers.warm();
    let packId: string | null = null;
    try {
      const r = JSON.parse(readFileSync(this.lastMapFile, 'utf8')) as { packId?: unknown };
      if (typeof r.packId === 'string') packId = r.packId;
    } catch {
      // none yet: the first pack listed
    }
    try {
      if (!packId) {
        const first = (await this.packs.scan()).packs[0]?.pack;
        if (first?.hasIndex) packId = first.manifest.id;
      }
      if (!packId) return;
      // A first start with the maps shipped beside the index: the view draws from those, and
      // the index is unpacked after, not while the page starts.
      if (await this.files.shippedBeforeCopy(packId)) {
        this.seedSoon(packId, SEED_UNASKED_MS);
        return;
      }
      const { file } = await this.files.place(packId);
      if (existsSync(file)) await this.files.checkFirst(file);
    } catch {
      // the view's status call says what is wrong
    }
  }

  /**
   * Unpacks a pack's index `ms` from now (or sooner, if already asked for sooner), in the
   * background: the first view drew from the maps shipped beside it. A call that needs the copy
   * before then unpacks it at once (files.place); this one then finds it there.
   */
  private seedSoon(packId: string, ms: number): void {
    const due = Date.now() + ms;
    const had = this.seedTimers.get(packId);
    if (had && had.due <= due) return;
    if (had) clearTimeout(had.timer);
    const timer = setTimeout(() => {
      this.seedTimers.delete(packId);
      this.files.place(packId).catch(() => undefined); // the next call reports a failure
    }, ms);
    timer.unref();
    this.seedTimers.set(packId, { due, timer });
  }

  /**
   * What status and map answer from the maps shipped beside the pack's index while the copy is
   * not there yet (files.shippedBeforeCopy): the SAE's entry, or null (the copy answers).
   */
  private async shippedSae(
    packId: string,
    saeId: string,
    corpus: string | undefined,
  ): Promise<ShippedSae | null> {
    if (corpus !== undefined) return null;
    const maps = await this.files.shippedBeforeCopy(packId);
    return maps?.saes.find((s) => s.saeId === saeId) ?? null;
  }

  /** Remembers the pack whose map was read (for warmFirstView at the next start). */
  private rememberMap(packId: string): void {
    if (this.lastMap === packId) return;
    this.lastMap = packId;
    void fs.writeFile(this.lastMapFile, JSON.stringify({ packId })).catch(() => undefined);
  }

  /** The folders of the person's own examples that this pack has an index over. */
  corpora(input: z.output<typeof featureInputs.corpora>): Corpora {
    return { corpora: this.files.corpora(input.packId) };
  }

  /** The index file of a finished build of `saeId`, or not_found saying what is missing. */
  private async ready(
    packId: string,
    saeId: string,
    corpus?: string,
  ): Promise<{ file: string; db: Db }> {
    const { file, corpusDir } = await this.files.place(packId, corpus);
    const which = corpusDir ? `the index of ${packId} over ${corpusDir}` : `the index of ${packId}`;
    let exists = true;
    try {
      statSync(file);
    } catch {
      exists = false;
    }
    if (!exists) throw new OrreryError('not_found', `${which} is not built yet: build it first`);
    await this.files.checkFirst(file);
    const db = this.files.db(file);
    const sae = listIndexedSaes(db).find((s) => s.saeId === saeId);
    if (!sae?.builtAt)
      throw new OrreryError('not_found', `${which} has no finished build for SAE ${saeId}`);
    return { file, db };
  }

  async status(input: z.output<typeof featureInputs.status>): Promise<Status> {
    const early = await this.shippedSae(input.packId, input.saeId, input.corpus);
    if (early)
      return {
        built: early.built,
        features: early.features,
        examples: early.examples,
        file: this.files.copyOf(input.packId),
      };
    const { file } = await this.files.place(input.packId, input.corpus);
    let exists = true;
    try {
      statSync(file);
    } catch {
      exists = false;
    }
    if (!exists) return { built: false, features: 0, examples: 0, file };
    await this.files.checkFirst(file);
    const sae = listIndexedSaes(this.files.db(file)).find((s) => s.saeId === input.saeId);
    return {
      built: Boolean(sae?.builtAt),
      features: sae?.dSae ?? 0,
      examples: sae?.nExamples ?? 0,
      file,
    };
  }

  async build(input: z.output<typeof featureInputs.build>, job: JobContext): Promise<Status> {
    const { file, packDir, corpusDir } = await this.files.place(input.packId, input.corpus);
    if (corpusDir) {
      let dir = false;
      try {
        dir = statSync(corpusDir).isDirectory();
      } catch {
        // reported below
      }
      if (!dir) throw new OrreryError('bad_input', `${corpusDir} is not a folder that can be read`);
    }
    const key = `${file}#${input.saeId}`;
    if (this.files.building.has(key))
      throw new OrreryError(
        'bad_input',
        `the index of ${input.packId} / ${input.saeId} is already being built`,
      );
    this.files.building.add(key);
    let skipped: string[] = [];
    try {
      if (corpusDir) {
        writeFileSync(
          `${file}${CORPUS_SIDECAR}`,
          JSON.stringify({ packId: input.packId, corpus: corpusDir }),
        );
      }
      const reply = await this.worker.run(
        { type: 'build', id: key, dbFile: file, packDir, saeId: input.saeId, corpusDir },
        job,
        'index build',
        corpusDir ? 'bad_input' : 'bad_pack',
      );
      if (reply.type === 'done') skipped = reply.summaries.flatMap((x) => x.skipped).slice(0, 20);
    } finally {
      this.files.building.delete(key);
    }
    if (corpusDir) return { ...(await this.status(input)), skipped };
    return this.status(input);
  }

  /**
   * Labels from a Neuronpedia explanations export, written by the index worker. Refused while
   * the same index is being built (the build holds the write lock for seconds at a time).
   */
  async importLabels(
    input: z.output<typeof featureInputs.importLabels>,
    job: JobContext,
  ): Promise<ImportReport> {
    const { file } = await this.ready(input.packId, input.saeId, input.corpus);
    if (this.files.isBuilding(file))
      throw new OrreryError(
        'bad_input',
        `the index of ${input.packId} is being built; import labels when the build is done`,
      );
    const from = path.resolve(input.from);
    let size: number;
    try {
      const st = statSync(from);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      throw new OrreryError('bad_input', `${from} is not a file that can be read`);
    }
    if (size === 0) throw new OrreryError('bad_input', `${from} is empty`);
    job.progress('import', 0, 1);
    const reply = await this.worker.run(
      {
        type: 'import-neuronpedia',
        id: `${file}#import#${input.saeId}`,
        dbFile: file,
        saeId: input.saeId,
        file: from,
        filter: { modelId: input.modelId, layer: input.layer },
      },
      job,
      'label import',
      'bad_input',
    );
    job.progress('import', 1, 1);
    if (reply.type !== 'imported') throw new OrreryError('internal', 'the worker did not import');
    return reply.report;
  }

  /**
   * A pack SAE's index from a Neuronpedia export (no pass over a corpus): its dashboards, and
   * the galaxy from the SAE's decoder when the export has no UMAP; written by the index worker.
   */
  async indexFromDashboards(
    packId: string,
    saeId: string,
    source: string,
    job: JobContext,
  ): Promise<DashboardImportReport> {
    const { file, packDir } = await this.files.place(packId);
    const key = `${file}#${saeId}`;
    if (this.files.building.has(key))
      throw new OrreryError(
        'bad_input',
        `the index of ${packId} / ${saeId} is already being built`,
      );
    this.files.building.add(key);
    try {
      const reply = await this.worker.run(
        { type: 'index-from-dashboards', id: key, dbFile: file, packDir, saeId, source },
        job,
        'dashboard import',
        'bad_input',
      );
      if (reply.type !== 'imported-dashboards')
        throw new OrreryError('internal', 'the worker did not import the dashboards');
      return reply.report;
    } finally {
      this.files.building.delete(key);
    }
  }

  /**
   * Neuronpedia dashboards (an export folder or one feature's JSON) into the index, written by the
   * index worker with progress and cancel; an SAE the index lacks is made from the export.
   */
  async importDashboards(
    input: z.output<typeof featureInputs.importDashboards>,
    job: JobContext,
  ): Promise<DashboardImportReport> {
    const { file } = await this.files.place(input.packId, input.corpus);
    if (this.files.isBuilding(file))
      throw new OrreryError(
        'bad_input',
        `the index of ${input.packId} is being built; import dashboards when the build is done`,
      );
    const from = path.resolve(input.from);
    try {
      statSync(from);
    } catch {
      throw new OrreryError('bad_input', `${from} is not a file or folder that can be read`);
    }
    job.progress('import', 0, 1);
    const reply = await this.worker.run(
      {
        type: 'import-dashboards',
        id: `${file}#dashboards#${input.saeId}`,
        dbFile: file,
        source: from,
        options: { saeId: input.saeId, modelId: input.modelId, sourceId: input.sourceId },
      },
      job,
      'dashboard import',
      'bad_input',
    );
    if (reply.type !== 'imported-dashboards')
      throw new OrreryError('internal', 'the worker did not import the dashboards');
    return reply.report;
  }

  /** A selection of features (or all) as a zipped Neuronpedia export, made in a reader. */
  async exportNeuronpedia(
    input: z.output<typeof featureInputs.exportNeuronpedia>,
    job: JobContext,
  ): Promise<ExportFile> {
    const { file } = await this.ready(input.packId, input.saeId, input.corpus);
    job.progress('export', 0, 1);
    const r = await this.readers.run<{ name: string; mime: string; bytes: Uint8Array }>({
      type: 'export',
      file,
      saeId: input.saeId,
      what: 'neuronpedia',
      options: { features: input.features, modelId: input.modelId, sourceId: input.sourceId },
    });
    job.progress('export', 1, 1);
    return { ...r, width: null, height: null, frames: 0 };
  }

  /** The galaxy as CSV (x, y, z, index, title, cluster, density), made in a reader. */
  async exportMap(input: z.output<typeof featureInputs.exportMap>): Promise<ExportFile> {
    const { file } = await this.ready(input.packId, input.saeId, input.corpus);
    const r = await this.readers.run<{ name: string; mime: string; bytes: Uint8Array }>({
      type: 'export',
      file,
      saeId: input.saeId,
      what: 'map',
    });
    return { ...r, width: null, height: null, frames: 0 };
  }

  async map(input: z.output<typeof featureInputs.map>): Promise<FeatureMap> {
    const early = await this.shippedSae(input.packId, input.saeId, input.corpus);
    if (early?.map) this.seedSoon(input.packId, SEED_AFTER_MAP_MS);
    const r = early?.map ?? (await this.readMap(input));
    if (!r) throw new OrreryError('not_found', `the index has no map for SAE ${input.saeId}`);
    if (input.corpus === undefined) this.rememberMap(input.packId);
    return {
      ...r.map,
      clusters: r.clusters.map((c) => ({
        id: c.id,
        label: c.label,
        size: c.size,
        x: c.centroid[0],
        y: c.centroid[1],
        z: c.centroid[2],
      })),
    };
  }

  /** The map as the reader threads read it from the index's copy. */
  private async readMap(input: z.output<typeof featureInputs.map>): Promise<MapRead | null> {
    const { file } = await this.ready(input.packId, input.saeId, input.corpus);
    return this.readers.run<MapRead | null>({ type: 'map', file, saeId: input.saeId });
  }

  async search(input: z.output<typeof featureInputs.search>): Promise<{ hits: SearchHitOut[] }> {
    const { file } = await this.ready(input.packId, input.saeId, input.corpus);
    const query = {
      saeId: input.saeId,
      text: input.query,
      limit: input.limit,
      densityMin: input.minDensity,
      densityMax: input.maxDensity,
      cluster: input.cluster,
      labelSources:
        input.labelSource && input.labelSource !== 'none' ? [input.labelSource] : undefined,
      hasLabel: input.labelSource === 'none' ? false : undefined,
    };
    const hits = await this.readers.run<SearchHit[]>({ type: 'search', file, query });
    return {
      hits: hits.map((h) => ({
        feature: h.idx,
        label: h.label ?? `feature ${h.idx}`,
        labelSource: h.labelSource ?? ('none' as const),
        density: h.density,
        cluster: h.cluster ?? -1,
        score: h.score ?? 0,
        ...(h.why ? { why: h.why } : {}),
      })),
    };
  }

  async feature(input: z.output<typeof featureInputs.feature>): Promise<FeatureCard> {
    const { file } = await this.ready(input.packId, input.saeId, input.corpus);
    const r = await this.readers.run<CardRead | null>({
      type: 'card',
      file,
      saeId: input.saeId,
      idx: input.feature,
    });
    if (!r)
      throw new OrreryError('not_found', `SAE ${input.saeId} has no feature ${input.feature}`);
    // An index shipped without thumbnails: cut them from the pack's own sheet (an index over a
    // person's folder always stores its own).
    if (r.needThumbs.length > 0 && input.corpus === undefined) {
      const { pack } = await this.packs.find(input.packId);
      await Promise.all(
        r.needThumbs.map(async ([at, exampleId]) => {
          const thumb = await this.thumbs.thumb(pack, exampleId).catch(() => null);
          const e = r.card.topExamples[at];
          if (thumb && e) e.thumbnailPng = thumb.toString('base64');
        }),
      );
    }
    return r.card;
  }

  /** The labels and effect words of a list of features, read together (no cards). */
  async titles(input: z.output<typeof featureInputs.titles>): Promise<{ titles: FeatureTitle[] }> {
    const { file } = await this.ready(input.packId, input.saeId, input.corpus);
    const titles = await this.readers.run<FeatureTitle[]>({
      type: 'titles',
      file,
      saeId: input.saeId,
      features: input.features,
    });
    return { titles };
  }

  async rename(input: z.output<typeof featureInputs.rename>): Promise<FeatureCard> {
    const { db } = await this.ready(input.packId, input.saeId, input.corpus);
    if (!getFeature(db, input.saeId, input.feature)) {
      throw new OrreryError('not_found', `SAE ${input.saeId} has no feature ${input.feature}`);
    }
    if (input.label !== undefined)
      renameFeature(db, input.saeId, input.feature, input.label.trim() || null);
    if (input.notes !== undefined)
      setFeatureNotes(db, input.saeId, input.feature, input.notes || null);
    return this.feature(input);
  }

  /** Closes every connection; settles once the worker and the readers have let go of the files. */
  async close(): Promise<void> {
    for (const { timer } of this.seedTimers.values()) clearTimeout(timer);
    this.seedTimers.clear();
    // Readers first: the last connection to close folds the WAL back only if it can write.
    await Promise.all([this.worker.close(), this.readers.close()]);
    this.thumbs.close();
    this.files.close();
  }
}
