/**
 * Builds (or resumes) a bridge between two SAEs into an open bridge file:
 *   codes   correlation only: chunks of the shared corpus → each side's SAE codes → aligned
 *           samples (token spans for two text sides, examples otherwise), one transaction
 *           per commit with the chunk count, so a cancel resumes after the last commit;
 *   match   blockwise scores of A's features against all of B, top-k both ways (match.ts).
 * Method: 'decoder' (decoder cosine) needs the same stream width and is the default for two
 * SAEs on the same hook of the same model; otherwise 'correlation' over the corpus (the
 * pack's own examples of side A, or a folder given as corpusDir). 'effect' (only when asked:
 * two text models with one tokenizer) matches features by what they make the model say, the
 * cosine of their effects on the logits over a few contexts of that corpus (effectStage.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection';
import { loadPackCorpus, type Corpus, type SplitChoice } from '../index/corpus';
import { loadFolderCorpus } from '../index/folderCorpus';
import { Gemm } from '../index/build/gemm';
import type { SparseCodes } from '../index/build/saeCodes';
import { alignEnds, maxPool, pickRows } from './align';
import { runMatch } from './match';
import {
  beginBridge,
  bridgeState,
  BridgeCancelled,
  SHARED_AT,
  type BridgeMethod,
  type BridgeProgress,
  type BridgeState,
} from './meta';
import { checkEffectSides, effectScorer } from './effectStage';
import { defaultMethod } from './methods';
import { EFFECT_CONTEXTS, EFFECT_STEP, EFFECT_TOKENS } from './effect';
import {
  concatCodes,
  CorrelationScorer,
  DecoderScorer,
  type BlockScorer,
  type SampleCodes,
} from './scorers';
import { openSide, openSideReader, type Side, type SideChunk } from './sides';

export interface BridgeOptions {
  method?: BridgeMethod;
  /** Matches kept per feature (default 10). */
  topK?: number;
  sharedAt?: number;
  corpusDir?: string;
  split?: SplitChoice;
  /** Only the first n examples of the corpus. */
  maxExamples?: number;
  /** Examples per chunk of the codes stage (default 32 texts, 64 images or faces). */
  chunkExamples?: number;
  commitSeconds?: number;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (p: BridgeProgress) => void;
}

export interface BridgeSummary {
  method: BridgeMethod;
  a: string;
  b: string;
  samples: number;
  featuresA: number;
  featuresB: number;
  /** Share of A's (B's) live features whose best match scores at least sharedAt */
  sharedA: number;
  sharedB: number;
  sharedAt: number;
  resumedFrom: { chunks: number; blocks: number };
  seconds: number;
}

async function fileHash(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function chooseMethod(a: Side, b: Side, asked: BridgeMethod | undefined): BridgeMethod {
  if (asked === 'decoder' && a.sae.dIn !== b.sae.dIn)
    throw new Error(
      `decoder cosine needs one stream width; ${a.saeId} reads ${a.sae.dIn}, ${b.saeId} ${b.sae.dIn}`,
    );
  return asked ?? defaultMethod(a, b);
}

async function loadCorpus(a: Side, b: Side, o: BridgeOptions): Promise<[Corpus, Corpus]> {
  const load = (s: Side): Promise<Corpus> =>
    o.corpusDir ? loadFolderCorpus(s.pack, o.corpusDir) : loadPackCorpus(s.pack, o.split ?? 'auto');
  const cut = (c: Corpus): Corpus =>
    o.maxExamples ? { ...c, examples: c.examples.slice(0, o.maxExamples) } : c;
  const text = (s: Side): boolean => s.pack.manifest.kind === 'text-lm';
  // across media: the examples of the side that is not text (emoji, faces), paired with their
  // names, which the text side reads (sides.ts); one sample per example
  if (text(a) !== text(b)) {
    const media = cut(await load(text(a) ? b : a));
    return [media, media];
  }
  const ca = cut(await load(a));
  // text reads only the bodies: side A's corpus serves both
  if (a.pack.dir === b.pack.dir || (text(a) && !o.corpusDir)) return [ca, ca];
  const cb = cut(await load(b));
  const names = (c: Corpus): string => c.examples.map((e) => e.name).join('\n');
  if (names(ca) !== names(cb))
    throw new Error(
      `${a.pack.manifest.id} and ${b.pack.manifest.id} have different examples; give both one --corpus folder`,
    );
  return [ca, cb];
}

/** Aligns one chunk's codes of both sides into samples. */
export function alignChunk(
  exampleIds: readonly number[],
  ca: SideChunk,
  cb: SideChunk,
): SampleCodes {
  if (ca.ends && cb.ends) {
    const firstRow = (c: SideChunk): Map<number, number> => {
      const m = new Map<number, number>();
      c.example.forEach((e, r) => {
        if (!m.has(e)) m.set(e, r);
      });
      return m;
    };
    const fa = firstRow(ca);
    const fb = firstRow(cb);
    const pa: number[] = [];
    const pb: number[] = [];
    for (const id of exampleIds) {
      const ea = ca.ends.get(id);
      const eb = cb.ends.get(id);
      if (!ea || !eb) continue;
      const atoms = alignEnds(ea, eb);
      const ra = fa.get(id) ?? 0;
      const rb = fb.get(id) ?? 0;
      atoms.a.forEach((i) => pa.push(ra + i));
      atoms.b.forEach((j) => pb.push(rb + j));
    }
    return { samples: pa.length, a: pickRows(ca.codes, pa), b: pickRows(cb.codes, pb) };
  }
  return {
    samples: exampleIds.length,
    a: maxPool(ca.codes, ca.example, exampleIds),
    b: maxPool(cb.codes, cb.example, exampleIds),
  };
}

const blob = (a: Int32Array | Float32Array): Buffer =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const int32 = (b: Buffer): Int32Array =>
  new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const float32 = (b: Buffer): Float32Array =>
  new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

function loadCodes(db: Db): SampleCodes {
  const rows = db.prepare('select * from bridge_codes order by chunk').all() as {
    samples: number;
    a_start: Buffer;
    a_feature: Buffer;
    a_value: Buffer;
    b_start: Buffer;
    b_feature: Buffer;
    b_value: Buffer;
  }[];
  const sparse = (n: number, s: Buffer, f: Buffer, v: Buffer): SparseCodes => ({
    rows: n,
    start: int32(s),
    feature: int32(f),
    value: float32(v),
  });
  return concatCodes(
    rows.map((r) => ({
      samples: r.samples,
      a: sparse(r.samples, r.a_start, r.a_feature, r.a_value),
      b: sparse(r.samples, r.b_start, r.b_feature, r.b_value),
    })),
  );
}

async function codesStage(
  db: Db,
  a: Side,
  b: Side,
  corpora: [Corpus, Corpus],
  gemm: Gemm,
  state: BridgeState,
  chunk: number,
  o: BridgeOptions,
): Promise<void> {
  const [corpusA, corpusB] = corpora;
  const total = Math.ceil(corpusA.examples.length / chunk);
  const readA = await openSideReader(a, corpusA, gemm, o.threads);
  const readB = await openSideReader(b, corpusB, gemm, o.threads).catch(async (e: unknown) => {
    await readA.dispose();
    throw e;
  });
  const ins = db.prepare(
    `insert or replace into bridge_codes(chunk, samples, a_start, a_feature, a_value, b_start, b_feature, b_value)
     values (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const advance = db.prepare(
    'update bridge set chunks_done = ?, chunks_total = ?, samples = samples + ? where id = 1',
  );
  let pending: { c: number; s: SampleCodes }[] = [];
  let lastCommit = performance.now();
  const commitMs = (o.commitSeconds ?? 3) * 1000;
  const commit = (): void => {
    const last = pending[pending.length - 1];
    if (!last) return;
    db.transaction(() => {
      for (const { c, s } of pending)
        ins.run(
          c,
          s.samples,
          blob(s.a.start),
          blob(s.a.feature),
          blob(s.a.value),
          blob(s.b.start),
          blob(s.b.feature),
          blob(s.b.value),
        );
      advance.run(
        last.c + 1,
        total,
        pending.reduce((t, p) => t + p.s.samples, 0),
      );
    })();
    pending = [];
    lastCommit = performance.now();
  };
  try {
    db.prepare('update bridge set chunks_total = ? where id = 1').run(total);
    o.onProgress?.({ stage: 'codes', done: state.chunksDone, total });
    for (let c = state.chunksDone; c < total; c++) {
      if (o.signal?.aborted) {
        commit();
        throw new BridgeCancelled();
      }
      const exA = corpusA.examples.slice(c * chunk, (c + 1) * chunk);
      const exB = corpusB.examples.slice(c * chunk, (c + 1) * chunk);
      const [ca, cb] = [await readA.read(exA), await readB.read(exB)];
      // the two corpora list the same examples in the same order; B's ids are mapped onto A's
      const ids = exA.map((e) => e.id);
      if (corpusA !== corpusB) {
        const toA = new Map(exB.map((e, i) => [e.id, (exA[i] as { id: number }).id]));
        cb.example = Int32Array.from(cb.example, (e) => toA.get(e) ?? -1);
        if (cb.ends) cb.ends = new Map([...cb.ends].map(([e, v]) => [toA.get(e) ?? -1, v]));
      }
      pending.push({ c, s: alignChunk(ids, ca, cb) });
      if (c + 1 === total || performance.now() - lastCommit >= commitMs) commit();
      o.onProgress?.({ stage: 'codes', done: c + 1, total });
    }
    db.prepare("update bridge set stage = 'match' where id = 1").run();
  } finally {
    await readA.dispose();
    await readB.dispose();
  }
}

/** Builds or resumes the bridge between sides `specA` and `specB` (see sides.ts) into `db`. */
export async function buildBridge(
  db: Db,
  specA: string,
  specB: string,
  o: BridgeOptions = {},
): Promise<BridgeSummary> {
  const t0 = performance.now();
  const a = await openSide(specA);
  const b = await openSide(specB);
  const method = chooseMethod(a, b, o.method);
  if (method === 'effect') await checkEffectSides(a, b);
  const topK = o.topK ?? 10;
  const corpora = method === 'decoder' ? null : await loadCorpus(a, b, o);
  // token spans only when both sides read text; across media a sample is an example
  const text = a.pack.manifest.kind === 'text-lm' && b.pack.manifest.kind === 'text-lm';
  const chunk = o.chunkExamples ?? (text ? 32 : 64);
  const fingerprint = createHash('sha256')
    .update(
      JSON.stringify({
        method,
        a: [
          a.pack.manifest.id,
          a.pack.manifest.version,
          a.hook,
          await fileHash(path.join(a.saeDir, 'sae_weights.safetensors')),
        ],
        b: [
          b.pack.manifest.id,
          b.pack.manifest.version,
          b.hook,
          await fileHash(path.join(b.saeDir, 'sae_weights.safetensors')),
        ],
        topK,
        corpus: corpora
          ? {
              dir: o.corpusDir ? path.resolve(o.corpusDir) : 'pack',
              split: corpora[0].split,
              n: corpora[0].examples.length,
              chunk,
            }
          : null,
        effect:
          method === 'effect'
            ? { contexts: EFFECT_CONTEXTS, tokens: EFFECT_TOKENS, step: EFFECT_STEP }
            : null,
      }),
    )
    .digest('hex')
    .slice(0, 32);
  const side = (s: Side): { pack: string; sae: string; hook: string; dSae: number } => ({
    pack: s.pack.manifest.id,
    sae: s.saeId,
    hook: s.hook,
    dSae: s.sae.dSae,
  });
  const unit =
    method === 'decoder'
      ? 'decoder direction'
      : method === 'effect'
        ? 'output effect'
        : text
          ? 'token span'
          : 'example';
  let state = beginBridge(
    db,
    {
      method,
      a: side(a),
      b: side(b),
      topK,
      sharedAt: o.sharedAt ?? SHARED_AT[unit] ?? 0.5,
      unit,
      fingerprint,
    },
    method === 'correlation' ? 'codes' : 'match',
  );
  const resumedFrom = { chunks: state.chunksDone, blocks: state.blocksDone };
  const gemm = await Gemm.create(o.threads ?? 1);
  try {
    if (method === 'correlation' && state.stage === 'codes' && corpora) {
      await codesStage(db, a, b, corpora, gemm, state, chunk, o);
      state = bridgeState(db) as BridgeState;
    }
    if (state.stage !== 'done') {
      let scorer: BlockScorer;
      if (method === 'effect' && corpora) {
        scorer = await effectScorer(db, a, b, corpora[0].examples, gemm, o);
      } else if (method === 'decoder') {
        const dec = (s: Side): Float32Array => {
          const out = new Float32Array(s.sae.dSae * s.sae.dIn);
          for (let j = 0; j < s.sae.dSae; j++) out.set(s.sae.decoderRow(j), j * s.sae.dIn);
          return out;
        };
        scorer = new DecoderScorer(gemm, dec(a), a.sae.dSae, dec(b), b.sae.dSae, a.sae.dIn);
      } else {
        const corr = new CorrelationScorer(loadCodes(db), a.sae.dSae, b.sae.dSae);
        const ins = db.prepare(
          'insert or replace into bridge_features(side, idx, n_active) values (?, ?, ?)',
        );
        db.transaction(() => {
          corr.momentsA.nActive.forEach((n, j) => ins.run('a', j, n));
          corr.momentsB.nActive.forEach((n, j) => ins.run('b', j, n));
        })();
        scorer = corr;
      }
      await runMatch(db, scorer, {
        commitSeconds: o.commitSeconds,
        signal: o.signal,
        onProgress: o.onProgress,
      });
      if (method === 'correlation') {
        // the corpus's codes are gone: give their pages back (a text bridge drops from ~100 MB)
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.exec('VACUUM');
      }
      state = bridgeState(db) as BridgeState;
    }
  } finally {
    await gemm.dispose();
  }
  const shares = sharedShares(db, state.sharedAt);
  return {
    method,
    a: `${state.a.pack}/${state.a.sae}`,
    b: `${state.b.pack}/${state.b.sae}`,
    samples: state.samples,
    featuresA: a.sae.dSae,
    featuresB: b.sae.dSae,
    sharedA: shares.a,
    sharedB: shares.b,
    sharedAt: state.sharedAt,
    resumedFrom,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Share of each side's features with a match (live ones, where the bridge counts firing) at ≥ t. */
export function sharedShares(db: Db, t: number): { a: number; b: number } {
  const share = (side: 'a' | 'b'): number => {
    const r = db
      .prepare(
        `select count(*) as n, sum(m.score >= ?) as s from bridge_matches m
         left join bridge_features f on f.side = m.side and f.idx = m.idx
         where m.side = ? and m.rank = 0 and coalesce(f.n_active, 1) > 0`,
      )
      .get(t, side) as { n: number; s: number | null };
    return r.n > 0 ? (r.s ?? 0) / r.n : 0;
  };
  return { a: share('a'), b: share('b') };
}
