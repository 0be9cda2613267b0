/**
 * Builds (or resumes) the feature index of a pack's SAEs into an open database.
 * Plain async function over a Db handle: the app runs it inside a worker thread, the CLI
 * and the tests call it directly.
 *
 * Stages per SAE, each committed before the next starts:
 *   examples     corpus rows and thumbnails
 *   activations  chunks of examples → model → SAE codes → streamed stats, top examples and
 *                per-example peaks; ONE transaction per chunk, which also records the chunk
 *                in build_state, so a crash or cancel resumes from the last committed chunk
 *   features     stats, metadata associations (exact AUC), automatic labels, FTS rows
 *   logit-lens   text SAEs only
 *   map          k-NN of decoder directions (nearest features); 3D UMAP of decoder cosine mixed
 *                with co-activation over the top examples (coactivation.ts); clusters
 * A fingerprint of the inputs (pack, SAE weights, corpus, options) guards resume: when it
 * differs, this SAE's build data is cleared and the build starts over. User edits and
 * imported labels are never touched by a build.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Db } from '../../db/connection';
import { packFile } from '../../packs/manifest';
import { readPack, type LoadedPack, type SaeInfo } from '../../packs/packReader';
import { loadSae, type Sae } from '../../sae';
import { exampleThumb, loadPackCorpus, type Corpus, type SplitChoice } from '../corpus';
import { loadFolderCorpus } from '../folderCorpus';
import { HISTOGRAM_BINS, migrations } from '../migrations';
import { refreshLabels } from '../store';
import { openActivationSource, TextModel, type ActivationSource } from './activations';
import { ChunkFolder, FeatureAccumulators, type TopEntry } from './accumulate';
import { PeakBuffer, readPeaks } from './peaks';
import { createSaeCoder } from './saeCodes';
import {
  featureAssociations,
  metaIndex,
  pairAssociations,
  pairCount,
  type Association,
} from './associations';
import { clusterCount, clusterLabel, kmeans3 } from './clusters';
import { Gemm } from './gemm';
import { mixedKnn, mixedLayout, topExampleRows } from './coactivation';
import { knnCosine, normalizeRows, type KnnGraph } from './knn';
import { layoutMap, type MapLayout } from './landmarks';
import {
  assignMetadataLabels,
  autoLabel,
  LABEL_AUC_THRESHOLD,
  metadataCandidates,
  peakTokens,
  singleLog10Threshold,
} from './labels';
import { logitLens } from './logitLens';
import { recordStage, stageVersion, titleStage, TITLES_VERSION } from './describe';
import { TEXT_CALIBRATION_VERSION, textCalibrationStage } from './textCalibration';
import { effectsStage, effectsVersion } from './effects';
import { BuildCancelled } from './cancelled';

export { migrations };

export type BuildStage =
  | 'examples'
  | 'activations'
  | 'features'
  | 'logit-lens'
  | 'map'
  | 'effects'
  | 'calibration'
  | 'titles'
  | 'done';

export interface BuildProgress {
  saeId: string;
  stage: BuildStage;
  done: number;
  total: number;
}

export interface BuildOptions {
  /** Only this SAE (by manifest id); default every SAE of the pack. */
  saeId?: string;
  split?: SplitChoice;
  /** A person's own corpus (a folder of text files or images) instead of the pack's
   * examples; write it to its own index file. */
  corpusDir?: string;
  /** Examples per committed chunk; default 16 texts, 64 images or faces. */
  chunkExamples?: number;
  /** Top examples kept per feature. */
  topK?: number;
  /** Neighbours in the k-NN graph (UMAP) ; the card shows the first 10. */
  neighbours?: number;
  seed?: number;
  labelAuc?: number;
  umapEpochs?: number;
  /** Weight of co-activation in the map's similarity (coactivation.ts): (1 − w) · decoder
   * cosine + w · cosine of the features' top-example vectors. 0 = decoder cosine only (the map
   * before co-activation); default DEFAULT_MAP_COACTIVATION. */
  mapCoactivation?: number;
  /** VACUUM when done (the per-example peaks are deleted after the features stage): for an
   * index that ships with a pack. */
  compact?: boolean;
  /** Store example thumbnails (default true). An index that ships inside its pack can leave
   * them out: the app cuts them from the pack's own sheet (packThumbs.ts). */
  thumbnails?: boolean;
  /** Commit the activations stage at most this often (default 3 s; 0 = every chunk). A
   * crash loses at most this much work; fewer commits write far less. */
  commitSeconds?: number;
  /** Threads for ORT (model, SAE and products); default: the cores, at most 4. */
  threads?: number;
  /** Only the later stages (effects, calibration, titles) whose recorded version is older, over
   * an SAE already built, whatever its fingerprint says (other options, another corpus split);
   * an SAE not yet built is an error. */
  stagesOnly?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: BuildProgress) => void;
}

export interface BuildSummary {
  saeId: string;
  resumedFromChunk: number;
  chunks: number;
  examples: number;
  positions: number;
  features: number;
  alive: number;
  labels: Record<string, number>;
  /** seconds spent in the activations stage of this run, and examples per second there */
  activationSeconds: number;
  examplesPerSecond: number;
  seconds: number;
  /** Files of a person's corpus folder that could not be used, with why. */
  skipped: string[];
}

export { BuildCancelled };

const STAGES: BuildStage[] = ['examples', 'activations', 'features', 'logit-lens', 'map', 'done'];
const stageAt = (s: string): number => STAGES.indexOf(s as BuildStage);

function check(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BuildCancelled();
}

async function fingerprint(
  pack: LoadedPack,
  sae: SaeInfo,
  corpus: Corpus,
  o: object,
): Promise<string> {
  // by content, not size and mtime: a checkout or a copy gives the same weights a new mtime,
  // and a build over them should resume, not start over
  const weights = createHash('sha256');
  for await (const chunk of createReadStream(
    path.join(packFile(pack.dir, sae.dir), 'sae_weights.safetensors'),
  ))
    weights.update(chunk as Buffer);
  const h = createHash('sha256');
  h.update(
    JSON.stringify({
      pack: pack.manifest.id,
      version: pack.manifest.version,
      sae: sae.id,
      hook: sae.hook,
      weights: weights.digest('hex'),
      examples: corpus.examples.length,
      split: corpus.split,
      o,
    }),
  );
  return h.digest('hex').slice(0, 32);
}

interface StateRow {
  fingerprint: string;
  stage: string;
  chunks_done: number;
  chunks_total: number;
  n_positions: number;
}

/** Clears what a build of this SAE wrote (not user edits or imported labels). */
export function clearBuild(db: Db, saeId: string): void {
  db.transaction(() => {
    for (const t of [
      'build_acc',
      'top_examples',
      'build_peaks',
      'associations',
      'logit_lens',
      'nearest',
      'clusters',
      'map_blobs',
      'build_state',
      'index_stages',
    ]) {
      db.prepare(`delete from ${t} where sae_id = ?`).run(saeId);
    }
  })();
}

function round(v: number, digits = 5): number {
  return Number(v.toPrecision(digits));
}

/** Builds or resumes the index of every (or one) SAE of the pack in `packDir`. */
export async function buildIndex(
  db: Db,
  packDir: string,
  options: BuildOptions = {},
): Promise<BuildSummary[]> {
  const read = await readPack(packDir);
  if (!read.ok) throw new Error(`${read.problem.file}: ${read.problem.message}`);
  const pack = read.pack;
  const saes = options.saeId ? pack.saes.filter((s) => s.id === options.saeId) : pack.saes;
  if (saes.length === 0) {
    throw new Error(
      `pack ${pack.manifest.id} has no SAE ${options.saeId ?? ''} (it has ${pack.saes.map((s) => s.id).join(', ')})`,
    );
  }
  if (options.corpusDir && options.thumbnails === false) {
    throw new Error(
      'an index over a folder keeps its thumbnails (only a pack sheet can stand in for them)',
    );
  }
  const corpus = options.corpusDir
    ? await loadFolderCorpus(pack, options.corpusDir)
    : await loadPackCorpus(pack, options.split ?? 'auto');
  const threads = options.threads ?? Math.min(4, availableParallelism());
  const gemm = await Gemm.create(threads);
  try {
    const out: BuildSummary[] = [];
    for (const sae of saes) {
      out.push(await buildOne(db, pack, sae, corpus, gemm, { ...options, threads }));
    }
    if (options.compact) {
      // merge the full-text index's segments (a stage that rewrites every label leaves the old
      // ones beside the new until merged: +2 MB on the emoji pack), then drop free pages
      db.exec("insert into feature_fts(feature_fts) values('optimize')");
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.exec('VACUUM');
    }
    return out;
  } finally {
    await gemm.dispose();
  }
}

async function buildOne(
  db: Db,
  pack: LoadedPack,
  info: SaeInfo,
  corpus: Corpus,
  gemm: Gemm,
  o: BuildOptions,
): Promise<BuildSummary> {
  const t0 = performance.now();
  const kind = pack.manifest.kind;
  const chunkExamples = o.chunkExamples ?? (kind === 'text-lm' ? 16 : 64);
  const topK = o.topK ?? 16;
  const seed = o.seed ?? 42;
  const sae = await loadSae(packFile(pack.dir, info.dir));
  const saeId = info.id;
  const progress = (stage: BuildStage, done: number, total: number): void =>
    o.onProgress?.({ saeId, stage, done, total });
  const fp = await fingerprint(pack, info, corpus, {
    chunkExamples,
    topK,
    seed,
    corpus: o.corpusDir ? path.resolve(o.corpusDir) : 'pack',
    neighbours: o.neighbours ?? 15,
    labelAuc: o.labelAuc ?? LABEL_AUC_THRESHOLD,
    umapEpochs: o.umapEpochs ?? null,
    ...(o.mapCoactivation !== undefined && o.mapCoactivation !== DEFAULT_MAP_COACTIVATION
      ? { mapCoactivation: o.mapCoactivation }
      : {}),
    ...(o.thumbnails === false ? { thumbnails: false } : {}),
  });
  const chunksTotal = Math.ceil(corpus.examples.length / chunkExamples);

  let state = db.prepare('select * from build_state where sae_id = ?').get(saeId) as
    StateRow | undefined;
  if (o.stagesOnly && state?.stage !== 'done') {
    throw new Error(`${saeId}: not built yet, so there are no stages to bring up to date`);
  }
  if (state && state.fingerprint !== fp && !o.stagesOnly) {
    clearBuild(db, saeId);
    state = undefined;
  }
  const resumedFromChunk = state?.chunks_done ?? 0;
  if (!state) {
    db.transaction(() => {
      db.prepare(
        `insert into saes(sae_id, hook, kind, d_sae, d_in, architecture, n_examples)
         values (?, ?, ?, ?, ?, ?, ?)
         on conflict(sae_id) do update set hook = excluded.hook, kind = excluded.kind,
           d_sae = excluded.d_sae, d_in = excluded.d_in, architecture = excluded.architecture,
           n_examples = excluded.n_examples, built_at = null`,
      ).run(saeId, info.hook, kind, sae.dSae, sae.dIn, sae.architecture, corpus.examples.length);
      db.prepare(
        `insert into build_state(sae_id, fingerprint, stage, chunks_done, chunks_total, n_positions, started_at)
         values (?, ?, 'examples', 0, ?, 0, ?)`,
      ).run(saeId, fp, chunksTotal, new Date().toISOString());
    })();
    state = db.prepare('select * from build_state where sae_id = ?').get(saeId) as StateRow;
  }
  const setStage = (stage: BuildStage): void => {
    db.prepare('update build_state set stage = ? where sae_id = ?').run(stage, saeId);
  };

  // examples
  if (stageAt(state.stage) <= stageAt('examples')) {
    check(o.signal);
    const ins = db.prepare(
      `insert into examples(id, name, body, meta, split, thumb) values (?, ?, ?, ?, ?, ?)
       on conflict(id) do update set name = excluded.name, body = excluded.body,
         meta = excluded.meta, split = excluded.split, thumb = excluded.thumb`,
    );
    db.transaction(() => {
      corpus.examples.forEach((e, i) => {
        const thumb = o.thumbnails === false ? null : exampleThumb(corpus, e);
        ins.run(e.id, e.name, e.body, JSON.stringify(e.meta), e.split, thumb);
        if (i % 256 === 0) progress('examples', i, corpus.examples.length);
      });
      setStage('activations');
    })();
    progress('examples', corpus.examples.length, corpus.examples.length);
    state.stage = 'activations';
  }

  // activations
  let activationSeconds = 0;
  let chunksRun = 0;
  if (stageAt(state.stage) <= stageAt('activations')) {
    const tA = performance.now();
    chunksRun = await runActivations(db, pack, info, sae, corpus, gemm, o, {
      saeId,
      chunkExamples,
      topK,
      from: state.chunks_done,
      total: chunksTotal,
      progress,
    });
    activationSeconds = (performance.now() - tA) / 1000;
    state = db.prepare('select * from build_state where sae_id = ?').get(saeId) as StateRow;
  }

  // features
  if (stageAt(state.stage) <= stageAt('features')) {
    check(o.signal);
    featureStage(
      db,
      saeId,
      sae,
      corpus,
      state.n_positions,
      o.labelAuc ?? LABEL_AUC_THRESHOLD,
      progress,
    );
    state.stage = kind === 'text-lm' ? 'logit-lens' : 'map';
  }

  // logit lens
  if (stageAt(state.stage) <= stageAt('logit-lens')) {
    check(o.signal);
    if (kind === 'text-lm') await lensStage(db, pack, saeId, info.hook, sae, o, progress);
    setStage('map');
    state.stage = 'map';
  }

  // map
  if (stageAt(state.stage) <= stageAt('map')) {
    check(o.signal);
    await mapStage(db, saeId, sae, gemm, seed, o, progress);
    db.transaction(() => {
      db.prepare("update build_state set stage = 'done', finished_at = ? where sae_id = ?").run(
        new Date().toISOString(),
        saeId,
      );
      db.prepare('update saes set built_at = ?, n_positions = ? where sae_id = ?').run(
        new Date().toISOString(),
        state?.n_positions ?? 0,
        saeId,
      );
      // The running sums were only needed to resume; the features table holds the result.
      db.prepare('delete from build_acc where sae_id = ?').run(saeId);
    })();
    progress('done', 1, 1);
  }

  // A map laid out by an older map input: again, then the titles (their badges follow it).
  if (state.stage === 'done' && stageVersion(db, saeId, 'map') < MAP_VERSION) {
    check(o.signal);
    await mapStage(db, saeId, sae, gemm, seed, o, progress);
    db.prepare("delete from index_stages where sae_id = ? and stage = 'titles'").run(saeId);
  }

  // Later stages, each run when the version it recorded is older (index_stages): measured
  // effects and calibrated ranges (image and typeface packs), then plain titles and badges.
  if (kind !== 'text-lm' && stageVersion(db, saeId, 'effects') < effectsVersion(kind)) {
    check(o.signal);
    await effectsStage(db, pack, saeId, info.hook, sae, {
      signal: o.signal,
      onProgress: (done, total) => progress('effects', done, total),
    });
  }
  if (kind === 'text-lm' && stageVersion(db, saeId, 'calibration') < TEXT_CALIBRATION_VERSION) {
    check(o.signal);
    await textCalibrationStage(db, pack, saeId, {
      signal: o.signal,
      onProgress: (done, total) => progress('calibration', done, total),
    });
  }
  if (stageVersion(db, saeId, 'titles') < TITLES_VERSION) {
    check(o.signal);
    titleStage(db, saeId, kind, corpus.labelKeys);
    progress('titles', 1, 1);
  }

  const counts = db
    .prepare(
      `select coalesce(label_source, 'none') as s, count(*) as n from features where sae_id = ? group by s`,
    )
    .all(saeId) as { s: string; n: number }[];
  const alive = (
    db
      .prepare('select count(*) as n from features where sae_id = ? and n_active > 0')
      .get(saeId) as {
      n: number;
    }
  ).n;
  const examplesRun = Math.min(corpus.examples.length, chunksRun * chunkExamples);
  return {
    saeId,
    resumedFromChunk,
    chunks: chunksTotal,
    examples: corpus.examples.length,
    positions: state.n_positions,
    features: sae.dSae,
    alive,
    labels: Object.fromEntries(counts.map((c) => [c.s, c.n])),
    activationSeconds,
    examplesPerSecond: activationSeconds > 0 ? examplesRun / activationSeconds : 0,
    seconds: (performance.now() - t0) / 1000,
    skipped: corpus.skipped ?? [],
  };
}

interface ActivationPlan {
  saeId: string;
  chunkExamples: number;
  topK: number;
  from: number;
  total: number;
  progress: (stage: BuildStage, done: number, total: number) => void;
}

function loadAccumulators(db: Db, saeId: string, dSae: number, topK: number): FeatureAccumulators {
  const acc = new FeatureAccumulators(dSae, topK);
  const rows = db
    .prepare('select idx, n_active, sum, max, histogram from build_acc where sae_id = ?')
    .all(saeId) as { idx: number; n_active: number; sum: number; max: number; histogram: Buffer }[];
  for (const r of rows) {
    acc.nActive[r.idx] = r.n_active;
    acc.sum[r.idx] = r.sum;
    acc.max[r.idx] = r.max;
    const h = new Uint32Array(
      r.histogram.buffer.slice(
        r.histogram.byteOffset,
        r.histogram.byteOffset + r.histogram.byteLength,
      ),
    );
    acc.histogram.set(h, r.idx * h.length);
  }
  const tops = db
    .prepare(
      'select idx, activation, example_id, position, window from top_examples where sae_id = ? order by idx, rank',
    )
    .all(saeId) as {
    idx: number;
    activation: number;
    example_id: number;
    position: number;
    window: string;
  }[];
  for (const t of tops) {
    (acc.top[t.idx] as TopEntry[]).push({
      activation: t.activation,
      example: t.example_id,
      position: t.position,
      window: t.window,
    });
  }
  return acc;
}

async function runActivations(
  db: Db,
  pack: LoadedPack,
  info: SaeInfo,
  sae: Sae,
  corpus: Corpus,
  gemm: Gemm,
  o: BuildOptions,
  plan: ActivationPlan,
): Promise<number> {
  const { saeId, chunkExamples, topK, total, progress } = plan;
  const dSae = sae.dSae;
  const acc = loadAccumulators(db, saeId, dSae, topK);
  const source: ActivationSource = await openActivationSource(
    pack,
    corpus,
    info.hook,
    o.threads,
    sae.config,
  );
  if (source.dIn !== sae.dIn) {
    await source.dispose();
    throw new Error(
      `SAE ${saeId} reads width ${sae.dIn}, but ${info.hook} has width ${source.dIn}`,
    );
  }
  const coder = await createSaeCoder(sae, gemm, o.threads);
  const upsertAcc = db.prepare(
    `insert into build_acc(sae_id, idx, n_active, sum, max, histogram) values (?, ?, ?, ?, ?, ?)
     on conflict(sae_id, idx) do update set n_active = excluded.n_active, sum = excluded.sum,
       max = excluded.max, histogram = excluded.histogram`,
  );
  const delTop = db.prepare('delete from top_examples where sae_id = ? and idx = ?');
  const insTop = db.prepare(
    `insert into top_examples(sae_id, idx, rank, example_id, activation, position, window)
     values (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insPeaks = db.prepare(
    'insert into build_peaks(sae_id, chunk, example, feature, activation) values (?, ?, ?, ?, ?)',
  );
  const advance = db.prepare(
    'update build_state set chunks_done = ?, n_positions = n_positions + ? where sae_id = ?',
  );
  const setStage = db.prepare('update build_state set stage = ? where sae_id = ?');
  const peaks = new PeakBuffer();
  let tokens = new Map<number, string[]>();
  const grid = source.grid;
  const folder = new ChunkFolder(
    acc,
    (ex, j, v) => peaks.push(ex, j, v),
    (ex, j, focus, acts) => {
      if (grid) {
        const cells = grid[0] * grid[1];
        return JSON.stringify({
          grid,
          acts: Array.from({ length: cells }, (_, c) => round(acts.get(c) ?? 0)),
        });
      }
      const toks = tokens.get(ex);
      if (!toks) return '{}';
      const start = Math.max(0, focus - 12);
      const end = Math.min(toks.length, focus + 5);
      const slice = toks.slice(start, end);
      return JSON.stringify({
        tokens: slice,
        acts: slice.map((_, i) => round(acts.get(start + i) ?? 0)),
        start,
        focus: focus - start,
      });
    },
  );
  const block = Math.max(64, Math.min(4096, Math.floor(16_000_000 / dSae)));
  const commitMs = (o.commitSeconds ?? 3) * 1000;
  let chunksRun = 0;
  // Chunks computed but not yet committed: their peaks, rows, and the last one's number.
  let pending: { chunk: number; peaks: ReturnType<PeakBuffer['pack']> }[] = [];
  let pendingRows = 0;
  let lastCommit = performance.now();
  const commit = (): void => {
    const last = pending[pending.length - 1];
    if (!last) return;
    db.transaction(() => {
      for (const j of acc.dirtyStats) {
        const h = acc.histogram.subarray(j * HISTOGRAM_BINS, (j + 1) * HISTOGRAM_BINS);
        upsertAcc.run(
          saeId,
          j,
          acc.nActive[j] ?? 0,
          acc.sum[j] ?? 0,
          acc.max[j] ?? 0,
          Buffer.from(h.buffer, h.byteOffset, h.byteLength),
        );
      }
      for (const j of acc.dirtyTop) {
        delTop.run(saeId, j);
        (acc.top[j] as TopEntry[]).forEach((t, rank) =>
          insTop.run(saeId, j, rank, t.example, t.activation, t.position, t.window),
        );
      }
      for (const p of pending) {
        insPeaks.run(saeId, p.chunk, p.peaks.example, p.peaks.feature, p.peaks.activation);
      }
      advance.run(last.chunk + 1, pendingRows, saeId);
      if (last.chunk + 1 === total) setStage.run('features', saeId);
    })();
    acc.clearDirty();
    pending = [];
    pendingRows = 0;
    lastCommit = performance.now();
  };
  try {
    for (let c = plan.from; c < total; c++) {
      if (o.signal?.aborted) {
        commit(); // keep what was computed: a cancelled build resumes after it
        throw new BuildCancelled();
      }
      const examples = corpus.examples.slice(c * chunkExamples, (c + 1) * chunkExamples);
      const chunk = await source.run(examples);
      tokens = chunk.tokens;
      peaks.clear();
      for (let s = 0; s < chunk.rows; s += block) {
        const n = Math.min(block, chunk.rows - s);
        const { xp } = sae.prepareInput(chunk.x.subarray(s * sae.dIn, (s + n) * sae.dIn), n);
        const codes = await coder.codes(xp, n);
        folder.fold(codes, chunk.example.subarray(s, s + n), chunk.position.subarray(s, s + n));
      }
      folder.flush();
      pending.push({ chunk: c, peaks: peaks.pack() });
      pendingRows += chunk.rows;
      if (c + 1 === total || performance.now() - lastCommit >= commitMs) commit();
      chunksRun++;
      progress('activations', c + 1, total);
    }
    if (plan.from >= total) setStage.run('features', saeId);
  } finally {
    await coder.dispose();
    await source.dispose();
  }
  return chunksRun;
}

function featureStage(
  db: Db,
  saeId: string,
  sae: Sae,
  corpus: Corpus,
  nPositions: number,
  labelAuc: number,
  progress: (stage: BuildStage, done: number, total: number) => void,
): void {
  const dSae = sae.dSae;
  const meta = metaIndex(corpus.examples, corpus.labelKeys);
  const names = new Map(corpus.examples.map((e) => [e.id, e.name]));
  const accRows = new Map(
    (
      db
        .prepare('select idx, n_active, sum, max, histogram from build_acc where sae_id = ?')
        .all(saeId) as {
        idx: number;
        n_active: number;
        sum: number;
        max: number;
        histogram: Buffer;
      }[]
    ).map((r) => [r.idx, r]),
  );
  const topRows = db
    .prepare(
      'select idx, activation, example_id, window from top_examples where sae_id = ? order by idx, rank',
    )
    .all(saeId) as { idx: number; activation: number; example_id: number; window: string }[];
  const topsBy = new Map<number, typeof topRows>();
  for (const t of topRows) {
    let l = topsBy.get(t.idx);
    if (!l) topsBy.set(t.idx, (l = []));
    l.push(t);
  }
  const actsBy = readPeaks(db, saeId, dSae, meta.slotOf);
  const upsert = db.prepare(
    `insert into features(sae_id, idx, auto_label, auto_source, auto_description, top_tokens,
       density, n_active, max_act, mean_act, histogram, evidence_label, evidence_source, evidence)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict(sae_id, idx) do update set auto_label = excluded.auto_label,
       evidence_label = excluded.evidence_label, evidence_source = excluded.evidence_source,
       evidence = excluded.evidence, concept = null,
       auto_source = excluded.auto_source, auto_description = excluded.auto_description,
       top_tokens = excluded.top_tokens, density = excluded.density, n_active = excluded.n_active,
       max_act = excluded.max_act, mean_act = excluded.mean_act, histogram = excluded.histogram`,
  );
  const insAssoc = db.prepare(
    `insert into associations(sae_id, idx, key, value, auc, precision_top, log10_p, n_positive)
     values (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const emptyHist = Buffer.alloc(HISTOGRAM_BINS * 4);
  // Associations of every feature first: the labels are assigned over all of them at once.
  const tested = meta.values.length;
  const pairsTested = pairCount(meta);
  const assocsOf: Association[][] = [];
  for (let j = 0; j < dSae; j++) {
    const ex = actsBy.of(j);
    const singles = ex.slots.length > 0 ? featureAssociations(meta, ex.slots, ex.acts) : [];
    const pairs = pairAssociations(meta, ex.slots, ex.acts, singles, singleLog10Threshold(tested));
    assocsOf.push([...singles, ...pairs]);
    if (j % 512 === 0) progress('features', Math.floor(j / 2), dSae);
  }
  const alive = (j: number): boolean => (accRows.get(j)?.n_active ?? 0) > 0;
  const candidates = (a: Association[]): Association[] =>
    metadataCandidates(a, tested, labelAuc, pairsTested);
  const chosen = assignMetadataLabels(assocsOf.map((a, j) => (alive(j) ? candidates(a) : [])));
  const insValue = db.prepare(
    'insert into label_values(sae_id, key, value, n_positive) values (?, ?, ?, ?)',
  );
  db.transaction(() => {
    db.prepare('delete from associations where sae_id = ?').run(saeId);
    db.prepare('delete from label_values where sae_id = ?').run(saeId);
    for (const v of meta.values) insValue.run(saeId, v.key, v.value, v.count);
    db.prepare('delete from features where sae_id = ? and idx >= ?').run(saeId, dSae);
    for (let j = 0; j < dSae; j++) {
      const a = accRows.get(j);
      const nActive = a?.n_active ?? 0;
      const assocs = assocsOf[j] ?? [];
      // The card's strongest associations, and every value the feature passes the rule for.
      const keep = new Set([...assocs.slice(0, 8), ...candidates(assocs)]);
      for (const s of keep) {
        insAssoc.run(saeId, j, s.key, s.value, s.auc, s.precisionTop, s.log10P, s.nPositive);
      }
      const tops = topsBy.get(j) ?? [];
      const peaks = tops.map((t) => {
        const w = JSON.parse(t.window) as { tokens?: string[]; focus?: number };
        return { activation: t.activation, token: w.tokens?.[w.focus ?? 0] ?? null };
      });
      const tokens = peakTokens(peaks);
      const label =
        nActive > 0
          ? autoLabel(
              assocs,
              tokens,
              tops.map((t) => names.get(t.example_id) ?? ''),
              tested,
              labelAuc,
              chosen[j] ?? null,
            )
          : null;
      upsert.run(
        saeId,
        j,
        label?.label ?? null,
        label?.source ?? null,
        label?.description ?? (nActive === 0 ? 'never active on the corpus' : null),
        tokens.length ? JSON.stringify(tokens.map((t) => t.token)) : null,
        nPositions > 0 ? nActive / nPositions : 0,
        nActive,
        a?.max ?? 0,
        nActive > 0 ? (a?.sum ?? 0) / nActive : 0,
        a?.histogram ?? emptyHist,
        label?.label ?? null,
        label?.source ?? null,
        label?.description ?? null,
      );
      if (j % 512 === 0) progress('features', Math.floor((dSae + j) / 2), dSae);
    }
    refreshLabels(db, saeId);
    // new labels: the later stages (effects, titles) run again
    db.prepare('delete from index_stages where sae_id = ?').run(saeId);
    // Per-example peaks were only needed for the associations.
    db.prepare('delete from build_peaks where sae_id = ?').run(saeId);
    db.prepare('update build_state set stage = ? where sae_id = ?').run(
      corpus.kind === 'text-lm' ? 'logit-lens' : 'map',
      saeId,
    );
  })();
  progress('features', dSae, dSae);
}

async function lensStage(
  db: Db,
  pack: LoadedPack,
  saeId: string,
  hook: string,
  sae: Sae,
  o: BuildOptions,
  progress: (stage: BuildStage, done: number, total: number) => void,
): Promise<void> {
  const maxAct = new Float64Array(sae.dSae);
  for (const r of db.prepare('select idx, max_act from features where sae_id = ?').all(saeId) as {
    idx: number;
    max_act: number;
  }[]) {
    maxAct[r.idx] = r.max_act;
  }
  const alive = Array.from({ length: sae.dSae }, (_, i) => i).filter((i) => (maxAct[i] ?? 0) > 0);
  const model = await TextModel.open(pack, { hook, read: sae.config });
  try {
    const lens = await logitLens(model, (i) => sae.decoderRow(i), maxAct, alive, {
      signal: o.signal,
      onBatch: (done) => progress('logit-lens', done, alive.length),
    });
    const ins = db.prepare('insert into logit_lens(sae_id, idx, top, bottom) values (?, ?, ?, ?)');
    db.transaction(() => {
      db.prepare('delete from logit_lens where sae_id = ?').run(saeId);
      for (const [i, l] of lens) ins.run(saeId, i, JSON.stringify(l.top), JSON.stringify(l.bottom));
    })();
  } catch (e) {
    if (o.signal?.aborted) throw new BuildCancelled();
    throw e;
  } finally {
    await model.dispose();
  }
}

/** Up to this many features the map is exact UMAP; beyond, landmarks (main/index/build/landmarks). */
export const EXACT_LAYOUT_MAX = 65_536;
/**
 * The map's co-activation weight when a build names none (measured: bench/mapStructure.ts).
 * 0.5, not the 0.75 that scores best on label agreement: at 0.75 the map keeps about half as
 * many of each feature's decoder-cosine neighbours (recall@10 0.02 vs ~0.04 on the text SAE),
 * and part of the agreement is built in (top examples swapped for random ones of the same
 * metadata keep most of it), so the milder mix keeps more of the SAE's own geometry.
 */
export const DEFAULT_MAP_COACTIVATION = 0.5;
/**
 * The map input's version, recorded in index_stages ('map'): 2 = decoder cosine mixed with
 * co-activation (DEFAULT_MAP_COACTIVATION). An index without the record was laid out by decoder
 * cosine alone; a build over it lays its map out again (and the titles, whose cluster badges
 * follow the map), as it runs any later stage whose version is older.
 */
export const MAP_VERSION = 2;

/** The map of an SAE from its decoder (also run after a dashboard import: dashboards.ts). */
export async function mapStage(
  db: Db,
  saeId: string,
  sae: Sae,
  gemm: Gemm,
  seed: number,
  o: BuildOptions,
  progress: (stage: BuildStage, done: number, total: number) => void,
): Promise<void> {
  const n = sae.dSae;
  const d = sae.dIn;
  const dec = new Float32Array(n * d);
  for (let i = 0; i < n; i++) dec.set(sae.decoderRow(i), i * d);
  const unit = normalizeRows(dec, n, d);
  progress('map', 0, 3);
  let layout: MapLayout;
  // decoder cosine mixed with co-activation: on the exact path, when top examples are stored
  const w = Math.min(1, Math.max(0, o.mapCoactivation ?? DEFAULT_MAP_COACTIVATION));
  let mixed: KnnGraph | undefined;
  try {
    if (w > 0 && n <= EXACT_LAYOUT_MAX) {
      const rows = topExampleRows(db, saeId, n);
      if (rows.col.length > 0)
        mixed = await mixedKnn(gemm, unit, n, d, rows, w, o.neighbours ?? 15, o.signal);
    }
    if (mixed) {
      progress('map', 1, 3);
      layout = await mixedLayout(gemm, unit, n, d, mixed, {
        seed,
        epochs: o.umapEpochs,
        signal: o.signal,
      });
    } else {
      // exact UMAP up to EXACT_LAYOUT_MAX features, landmarks beyond (with recall@10 measured)
      layout = await layoutMap(gemm, unit, n, d, {
        seed,
        neighbours: o.neighbours ?? 15,
        epochs: o.umapEpochs,
        signal: o.signal,
        exactUpTo: EXACT_LAYOUT_MAX,
        qualitySample: n > EXACT_LAYOUT_MAX ? 1000 : 0,
        onProgress: (stage) => {
          if (stage !== 'knn') progress('map', 1, 3);
        },
      });
    }
  } catch (e) {
    if (o.signal?.aborted) throw new BuildCancelled();
    throw e;
  }
  progress('map', 2, 3);
  const { xyz } = layout;
  // a card's nearest features stay the nearest by decoder cosine
  const graph = mixed
    ? await knnCosine(gemm, unit, n, d, Math.min(10, o.neighbours ?? 15), { seed })
    : layout.neighbours;
  const clusters = kmeans3(xyz, n, clusterCount(n), seed);
  const labels = db
    .prepare('select idx, label, label_source from features where sae_id = ? order by idx')
    .all(saeId) as { idx: number; label: string | null; label_source: string | null }[];
  const byIdx = new Map(labels.map((l) => [l.idx, l]));
  const members: { label: string | null; source: string | null }[][] = Array.from(
    { length: clusters.k },
    () => [],
  );
  for (let i = 0; i < n; i++) {
    const l = byIdx.get(i);
    (members[clusters.assign[i] ?? 0] as { label: string | null; source: string | null }[]).push({
      label: l?.label ?? null,
      source: l?.label_source ?? null,
    });
  }
  const density = new Float32Array(n);
  for (const r of db.prepare('select idx, density from features where sae_id = ?').all(saeId) as {
    idx: number;
    density: number;
  }[]) {
    density[r.idx] = r.density;
  }
  const show = Math.min(10, graph.k);
  const upd = db.prepare(
    'update features set x = ?, y = ?, z = ?, cluster = ? where sae_id = ? and idx = ?',
  );
  const insNear = db.prepare(
    'insert into nearest(sae_id, idx, neighbours, cosines) values (?, ?, ?, ?)',
  );
  const insCluster = db.prepare(
    'insert into clusters(sae_id, id, label, size, cx, cy, cz) values (?, ?, ?, ?, ?, ?, ?)',
  );
  const blob = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  db.transaction(() => {
    for (const t of ['nearest', 'clusters', 'map_blobs']) {
      db.prepare(`delete from ${t} where sae_id = ?`).run(saeId);
    }
    db.prepare(
      `insert or replace into map_quality(sae_id, method, n, landmarks, recall10, sample, seconds)
       values (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      saeId,
      layout.method,
      n,
      layout.landmarks.length,
      Number.isFinite(layout.recall10) ? layout.recall10 : null,
      layout.qualitySample,
      layout.seconds,
    );
    for (let i = 0; i < n; i++) {
      upd.run(
        xyz[i * 3] ?? 0,
        xyz[i * 3 + 1] ?? 0,
        xyz[i * 3 + 2] ?? 0,
        clusters.assign[i] ?? 0,
        saeId,
        i,
      );
      insNear.run(
        saeId,
        i,
        blob(graph.indices.slice(i * graph.k, i * graph.k + show)),
        blob(graph.sims.slice(i * graph.k, i * graph.k + show)),
      );
    }
    for (let c = 0; c < clusters.k; c++) {
      insCluster.run(
        saeId,
        c,
        clusterLabel(members[c] ?? [], c),
        clusters.sizes[c] ?? 0,
        clusters.centroids[c * 3] ?? 0,
        clusters.centroids[c * 3 + 1] ?? 0,
        clusters.centroids[c * 3 + 2] ?? 0,
      );
    }
    db.prepare(
      'insert into map_blobs(sae_id, count, idx, xyz, cluster, density) values (?, ?, ?, ?, ?, ?)',
    ).run(
      saeId,
      n,
      blob(Uint32Array.from({ length: n }, (_, i) => i)),
      blob(xyz),
      blob(clusters.assign),
      blob(density),
    );
    recordStage(db, saeId, 'map', MAP_VERSION, {
      method: layout.method,
      coactivation: mixed ? w : 0,
    });
  })();
  progress('map', 3, 3);
}
