/**
 * The feature index behind the galaxy and the feature cards. Each pack's index is a SQLite
 * file in the user's data folder (a pack that ships an index, plain or Brotli-compressed, has
 * it copied or decompressed there on first use, so renames and notes never touch the app
 * folder). Builds run in a worker thread with their own connection; reads here are short
 * queries on a WAL database, which never wait for a build.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import {
  OrreryError,
  type CorporaSchema,
  type FeatureCard,
  type FeatureMapSchema,
  type featureInputs,
  type IndexStatusSchema,
  type SearchHitSchema,
} from '../../preload/contract';
import type { JobContext } from '../api/jobs';
import { spawnWorker } from '../app/spawnWorker';
import type { WorkerEntry } from '../app/workerEntry';
import type { Db } from '../db/connection';
import type { Recovery } from '../db/recover';
import type { IndexWorkerReply, IndexWorkerRequest } from '../index/worker';
import {
  getExampleThumb,
  getFeature,
  listClusters,
  listIndexedSaes,
  loadPositions,
  openIndex,
  renameFeature,
  searchFeatures,
  setFeatureNotes,
  type FeatureCard as StoredCard,
  type ImportReport,
} from '../index/index';
import type { Sheet } from '../index/corpus';
import { PackThumbs } from '../index/packThumbs';
import { syncSeed } from '../index/seed';
import type { PackService } from '../packs/packService';

type Status = z.output<typeof IndexStatusSchema>;
type SearchHitOut = z.output<typeof SearchHitSchema>;
type FeatureMap = z.output<typeof FeatureMapSchema>;
type Corpora = z.output<typeof CorporaSchema>;
/** Beside an index over a person's folder: which pack and folder it is for. */
const CORPUS_SIDECAR = '.corpus.json';
/** A worker's last word on a request that succeeded. */
type Final = Extract<IndexWorkerReply, { type: 'done' | 'imported' | 'sheet' }>;

export class IndexService {
  private readonly connections = new Map<string, Db>();
  private readonly building = new Set<string>();
  /** Seeds in progress by index file, so concurrent first calls share one copy. */
  private readonly seeding = new Map<string, Promise<void>>();
  /** Thumbnails cut from a pack's sheet, decoded in a worker thread. */
  private readonly thumbs = new PackThumbs(60_000, (file, tile) => this.readSheet(file, tile));
  private sheetReads = 0;

  constructor(
    private readonly packs: PackService,
    private readonly indexDir: string,
    private readonly workerEntry: WorkerEntry,
    /** Told when an index file was not a usable database and was moved aside. */
    private readonly onRecovered: (r: Recovery) => void = () => undefined,
  ) {}

  /**
   * The pack's index file in the user's data folder, seeded from the pack's own index
   * (`.br`: decompressed) through a temporary file, so the final name never holds half a
   * copy; re-seeded, with the person's edits, when the pack ships a different one (seed.ts).
   * An index over a folder of the person's own examples (`corpus`) is a file of its own,
   * named by a hash of the folder's path, with a sidecar that remembers the path.
   */
  private async fileFor(
    packId: string,
    corpus?: string,
  ): Promise<{ file: string; packDir: string; corpusDir?: string }> {
    const { pack } = await this.packs.find(packId);
    mkdirSync(this.indexDir, { recursive: true });
    if (corpus !== undefined) {
      const corpusDir = path.resolve(corpus);
      const hash = createHash('sha256').update(corpusDir).digest('hex').slice(0, 12);
      const file = path.join(this.indexDir, `${packId}~${hash}.sqlite`);
      if (existsSync(file) && !this.connections.has(file) && !this.isBuilding(file))
        this.check(file);
      return { file, packDir: pack.dir, corpusDir };
    }
    const file = path.join(this.indexDir, `${packId}.sqlite`);
    const shipped = pack.manifest.index;
    const building = this.isBuilding(file);
    if (existsSync(file) && !building && !this.connections.has(file)) {
      // First use in this run: check the file. A damaged copy of a shipped index is moved
      // aside (with its seed record) and seeded again below, instead of starting empty.
      const recovered = this.check(file);
      if (recovered && shipped && pack.hasIndex) {
        this.release(file);
        for (const ext of ['', '-wal', '-shm']) rmSync(`${file}${ext}`, { force: true });
        const side = file.replace(/\.sqlite$/, '.seed.json');
        if (existsSync(side)) renameSync(side, `${recovered.movedTo}.seed.json`);
      }
    }
    if (shipped && pack.hasIndex && !building) {
      let seed = this.seeding.get(file);
      if (!seed) {
        seed = syncSeed(
          { shipped: path.join(pack.dir, shipped), version: pack.manifest.version },
          file,
          () => this.release(file),
        )
          .then(() => undefined)
          .finally(() => this.seeding.delete(file));
        this.seeding.set(file, seed);
      }
      await seed;
    }
    return { file, packDir: pack.dir };
  }

  /** The folders of the person's own examples that this pack has an index over. */
  corpora(input: z.output<typeof featureInputs.corpora>): Corpora {
    if (!existsSync(this.indexDir)) return { corpora: [] };
    const out: Corpora['corpora'] = [];
    for (const name of readdirSync(this.indexDir).sort()) {
      if (!name.startsWith(`${input.packId}~`) || !name.endsWith(CORPUS_SIDECAR)) continue;
      const side = path.join(this.indexDir, name);
      let info: { packId?: unknown; corpus?: unknown };
      try {
        info = JSON.parse(readFileSync(side, 'utf8')) as typeof info;
      } catch {
        continue; // a torn sidecar: its index is still there, under its hash
      }
      if (info.packId !== input.packId || typeof info.corpus !== 'string') continue;
      const file = side.slice(0, -CORPUS_SIDECAR.length);
      const built = existsSync(file)
        ? listIndexedSaes(this.db(file))
            .filter((x) => x.builtAt)
            .map((x) => x.saeId)
        : [];
      out.push({ path: info.corpus, built });
    }
    return { corpora: out };
  }

  /** Closes this service's connection to one index file. */
  private release(file: string): void {
    this.connections.get(file)?.close();
    this.connections.delete(file);
  }

  private db(file: string): Db {
    let db = this.connections.get(file);
    if (!db) {
      db = openIndex(file, { onRecovered: this.onRecovered });
      this.connections.set(file, db);
    }
    return db;
  }

  private isBuilding(file: string): boolean {
    return [...this.building].some((k) => k.startsWith(`${file}#`));
  }

  /** Opens `file` (checked, recovered if damaged); returns the recovery when there was one. */
  private check(file: string): Recovery | null {
    let seen: Recovery | null = null;
    const db = openIndex(file, {
      onRecovered: (r) => {
        seen = r;
        this.onRecovered(r);
      },
    });
    this.connections.set(file, db);
    return seen;
  }

  private async ready(packId: string, saeId: string, corpus?: string): Promise<Db> {
    const { file, corpusDir } = await this.fileFor(packId, corpus);
    const which = corpusDir ? `the index of ${packId} over ${corpusDir}` : `the index of ${packId}`;
    if (!existsSync(file))
      throw new OrreryError('not_found', `${which} is not built yet: build it first`);
    const db = this.db(file);
    const sae = listIndexedSaes(db).find((s) => s.saeId === saeId);
    if (!sae?.builtAt)
      throw new OrreryError('not_found', `${which} has no finished build for SAE ${saeId}`);
    return db;
  }

  async status(input: z.output<typeof featureInputs.status>): Promise<Status> {
    const { file } = await this.fileFor(input.packId, input.corpus);
    if (!existsSync(file)) return { built: false, features: 0, examples: 0, file };
    const sae = listIndexedSaes(this.db(file)).find((s) => s.saeId === input.saeId);
    return {
      built: Boolean(sae?.builtAt),
      features: sae?.dSae ?? 0,
      examples: sae?.nExamples ?? 0,
      file,
    };
  }

  async build(input: z.output<typeof featureInputs.build>, job: JobContext): Promise<Status> {
    const { file, packDir, corpusDir } = await this.fileFor(input.packId, input.corpus);
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
    if (this.building.has(key))
      throw new OrreryError(
        'bad_input',
        `the index of ${input.packId} / ${input.saeId} is already being built`,
      );
    this.building.add(key);
    let skipped: string[] = [];
    try {
      if (corpusDir) {
        writeFileSync(
          `${file}${CORPUS_SIDECAR}`,
          JSON.stringify({ packId: input.packId, corpus: corpusDir }),
        );
      }
      const reply = await this.inWorker(
        { type: 'build', id: key, dbFile: file, packDir, saeId: input.saeId, corpusDir },
        job,
        'index build',
        corpusDir ? 'bad_input' : 'bad_pack',
      );
      if (reply.type === 'done') skipped = reply.summaries.flatMap((x) => x.skipped).slice(0, 20);
    } finally {
      this.building.delete(key);
    }
    if (corpusDir) return { ...(await this.status(input)), skipped };
    return this.status(input);
  }

  /**
   * Runs one request in a fresh index worker: progress to the job, the job's cancel to the
   * worker, and the worker's final reply (done or imported) as the result.
   */
  private async inWorker(
    request: Exclude<IndexWorkerRequest, { type: 'cancel' }>,
    job: JobContext | null,
    what: string,
    failure: 'bad_pack' | 'bad_input',
  ): Promise<Final> {
    const worker = spawnWorker(this.workerEntry);
    const id = request.id;
    return new Promise<Final>((resolve, reject) => {
      const onAbort = (): void =>
        worker.postMessage({ type: 'cancel', id } satisfies IndexWorkerRequest);
      job?.signal.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (m: IndexWorkerReply) => {
        if (m.id !== id) return;
        if (m.type === 'progress')
          job?.progress(m.progress.stage, m.progress.done, m.progress.total);
        else if (m.type === 'error')
          reject(new OrreryError(m.cancelled ? 'cancelled' : (m.code ?? failure), m.message));
        else resolve(m);
      });
      worker.on('error', (e) =>
        reject(new OrreryError('internal', `${what} failed: ${e.message}`)),
      );
      worker.on('exit', (code) => {
        job?.signal.removeEventListener('abort', onAbort);
        reject(new OrreryError('internal', `${what} stopped (exit code ${code})`));
      });
      worker.postMessage(request);
    }).finally(() => void worker.terminate());
  }

  private async readSheet(file: string, tile: number): Promise<Sheet> {
    const reply = await this.inWorker(
      { type: 'read-sheet', id: `sheet-${++this.sheetReads}`, file, tile },
      null,
      'reading the example sheet',
      'bad_pack',
    );
    if (reply.type !== 'sheet') throw new OrreryError('internal', 'the worker read no sheet');
    return reply.sheet;
  }

  /**
   * Labels from a Neuronpedia explanations export, written by the index worker. Refused while
   * the same index is being built (the build holds the write lock for seconds at a time).
   */
  async importLabels(
    input: z.output<typeof featureInputs.importLabels>,
    job: JobContext,
  ): Promise<ImportReport> {
    await this.ready(input.packId, input.saeId, input.corpus);
    const { file } = await this.fileFor(input.packId, input.corpus);
    if ([...this.building].some((k) => k.startsWith(`${file}#`)))
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
    const reply = await this.inWorker(
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

  async map(input: z.output<typeof featureInputs.map>): Promise<FeatureMap> {
    const db = await this.ready(input.packId, input.saeId, input.corpus);
    const p = loadPositions(db, input.saeId);
    if (!p) throw new OrreryError('not_found', `the index has no map for SAE ${input.saeId}`);
    // Stored as u32 with 0xffffffff for none: the same bytes read as i32 say −1.
    const cluster = new Int32Array(p.cluster.buffer, p.cluster.byteOffset, p.count);
    return {
      count: p.count,
      features: p.idx,
      positions: p.xyz,
      density: p.density,
      cluster,
      clusters: listClusters(db, input.saeId).map((c) => ({
        id: c.id,
        label: c.label,
        size: c.size,
        x: c.centroid[0],
        y: c.centroid[1],
        z: c.centroid[2],
      })),
    };
  }

  async search(input: z.output<typeof featureInputs.search>): Promise<{ hits: SearchHitOut[] }> {
    const db = await this.ready(input.packId, input.saeId, input.corpus);
    const hits = searchFeatures(db, {
      saeId: input.saeId,
      text: input.query,
      limit: input.limit,
      densityMin: input.minDensity,
      densityMax: input.maxDensity,
      cluster: input.cluster,
      labelSources:
        input.labelSource && input.labelSource !== 'none' ? [input.labelSource] : undefined,
      hasLabel: input.labelSource === 'none' ? false : undefined,
    });
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

  private async card(
    db: Db,
    c: StoredCard,
    packId: string,
    corpus: string | undefined,
  ): Promise<FeatureCard> {
    // An index shipped without thumbnails: cut them from the pack's own sheet (an index over a
    // person's folder always stores its own).
    const needSheet =
      corpus === undefined &&
      c.topExamples.some((e) => {
        const w = (e.window ?? {}) as { tokens?: unknown };
        return !Array.isArray(w.tokens) && !getExampleThumb(db, e.exampleId);
      });
    const pack = needSheet ? (await this.packs.find(packId)).pack : null;
    const thumbs = await Promise.all(
      c.topExamples.map(async (e) => {
        const w = (e.window ?? {}) as { tokens?: unknown };
        if (Array.isArray(w.tokens)) return null;
        const stored = getExampleThumb(db, e.exampleId);
        if (stored || !pack) return stored;
        return this.thumbs.thumb(pack, e.exampleId).catch(() => null);
      }),
    );
    return {
      feature: c.idx,
      label: c.label ?? `feature ${c.idx}`,
      labelSource: c.labelSource ?? 'none',
      labelWhy:
        c.labelSource === 'user'
          ? c.autoLabel
            ? `renamed by you (the automatic label was “${c.autoLabel}”)`
            : 'renamed by you'
          : (c.description ?? ''),
      evidence: c.evidence,
      effect: effectOfCard(c.descriptors),
      calibration: c.calibration
        ? {
            typical: c.calibration.typical,
            limit: c.calibration.limit,
            level: c.calibration.level,
            reached: c.calibration.reached,
          }
        : null,
      notes: c.notes ?? '',
      density: c.density,
      maxActivation: c.maxAct,
      meanActivation: c.meanAct,
      histogram: c.histogram,
      topTokens: c.topTokens,
      cluster: c.cluster,
      topExamples: c.topExamples.map((e, i) => {
        const w = (e.window ?? {}) as { tokens?: string[]; acts?: number[] };
        const thumb = thumbs[i] ?? null;
        return {
          activation: e.activation,
          name: e.name,
          ...(Array.isArray(w.tokens) ? { tokens: w.tokens, activations: w.acts ?? [] } : {}),
          ...(thumb ? { thumbnailPng: thumb.toString('base64') } : {}),
        };
      }),
      logitLens: c.logitLens
        ? {
            top: c.logitLens.top.map((t) => ({ token: t.token, value: t.logit })),
            bottom: c.logitLens.bottom.map((t) => ({ token: t.token, value: t.logit })),
          }
        : null,
      nearest: c.nearest.map((n) => ({
        feature: n.idx,
        label: n.label ?? `feature ${n.idx}`,
        cosine: n.cosine,
      })),
      associations: c.associations.map((a) => ({
        key: a.key,
        value: a.value,
        auc: a.auc,
        share: a.precisionTop,
        log10Chance: a.log10P,
      })),
    };
  }

  async feature(input: z.output<typeof featureInputs.feature>): Promise<FeatureCard> {
    const db = await this.ready(input.packId, input.saeId, input.corpus);
    const c = getFeature(db, input.saeId, input.feature);
    if (!c)
      throw new OrreryError('not_found', `SAE ${input.saeId} has no feature ${input.feature}`);
    return this.card(db, c, input.packId, input.corpus);
  }

  async rename(input: z.output<typeof featureInputs.rename>): Promise<FeatureCard> {
    const db = await this.ready(input.packId, input.saeId, input.corpus);
    if (!getFeature(db, input.saeId, input.feature)) {
      throw new OrreryError('not_found', `SAE ${input.saeId} has no feature ${input.feature}`);
    }
    if (input.label !== undefined)
      renameFeature(db, input.saeId, input.feature, input.label.trim() || null);
    if (input.notes !== undefined)
      setFeatureNotes(db, input.saeId, input.feature, input.notes || null);
    return this.feature(input);
  }

  close(): void {
    this.thumbs.close();
    for (const db of this.connections.values()) db.close();
    this.connections.clear();
  }
}

/** The card's effect facts from the stored descriptors (descriptors.ts). */
function effectOfCard(d: Record<string, unknown> | null): FeatureCard['effect'] {
  if (!d || !Array.isArray(d.facts)) return null;
  const image = d.image as { dominantHex?: string; dominantName?: string } | undefined;
  return {
    facts: (d.facts as unknown[]).filter((x): x is string => typeof x === 'string'),
    words: Array.isArray(d.words)
      ? (d.words as unknown[]).filter((x): x is string => typeof x === 'string')
      : [],
    swatch:
      image?.dominantHex && image.dominantName
        ? { hex: image.dominantHex, name: image.dominantName }
        : null,
    multiple: typeof d.multiple === 'number' ? d.multiple : 0,
    ssim: typeof d.ssim === 'number' ? d.ssim : 1,
  };
}
