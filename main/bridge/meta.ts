/**
 * A bridge file: opening it (migrations.ts), its description row, and starting or resuming a
 * build over it. A description whose fingerprint differs from the file's (other weights,
 * another corpus, other options) clears what the file holds and starts over.
 */
import { openDatabase, type Db } from '../db/connection';
import { bridgeMigrations } from './migrations';

export type BridgeMethod = 'decoder' | 'correlation' | 'effect';
export type BridgeStage = 'codes' | 'match' | 'done';

export interface BridgeProgress {
  /** 'effects': an effect bridge measuring both sides' effect vectors (features of A, then B) */
  stage: BridgeStage | 'effects';
  done: number;
  total: number;
}

/** The person cancelled a bridge build; running it again resumes. */
export class BridgeCancelled extends Error {
  constructor() {
    super('bridge build cancelled');
    this.name = 'BridgeCancelled';
  }
}

/**
 * Default score from which a feature's best match counts as shared, by what a sample is. Picked
 * by measurement (bench/bridgeLayer/figures.ts, bench/bridgeLayer/FIGURES.md): each live
 * feature's best score against the other side with its samples shifted by half the corpus (so no
 * sample meets its own pair) is chance; the default is the first round score above the largest.
 * - token spans (text layer 2 vs layer 0, 201k spans): chance median 0.033, p99 0.10, max 0.40
 *   → 0.5 (12.8% of layer-2 features reach it);
 * - examples (emoji latent vs spatial, 3664 images: few samples, so more chance): median 0.17,
 *   p99 0.42, max 0.68 → 0.7 (12.9% of latent features reach it);
 * - decoder directions: two random directions of width d have cosine ~ N(0, 1/d); the largest of
 *   4096 at d = 192 is about 0.3 → 0.5.
 * - output effects (effect.ts): effect vectors span at most the model's width, so a best match
 *   among thousands is high by chance: shipped text res2-4k features against the effects of 4096
 *   random directions through the same model: best cosine median 0.55, p99 0.68, max 0.79 → 0.8.
 */
export const SHARED_AT: Record<string, number> = {
  'token span': 0.5,
  example: 0.7,
  'decoder direction': 0.5,
  'output effect': 0.8,
};

export interface BridgeSideInfo {
  pack: string;
  sae: string;
  hook: string;
  dSae: number;
}

export interface BridgeDescription {
  method: BridgeMethod;
  a: BridgeSideInfo;
  b: BridgeSideInfo;
  topK: number;
  sharedAt: number;
  /** What a sample is: 'decoder direction', 'token span', 'example' */
  unit: string;
  fingerprint: string;
}

export interface BridgeState extends BridgeDescription {
  stage: BridgeStage;
  chunksDone: number;
  chunksTotal: number;
  samples: number;
  blocksDone: number;
  blocksTotal: number;
  startedAt: string;
  finishedAt: string | null;
}

export function openBridge(file: string, options: { readonly?: boolean } = {}): Db {
  if (options.readonly) return openDatabase(file, { readonly: true });
  return openDatabase(file, { migrations: bridgeMigrations });
}

interface Row {
  method: BridgeMethod;
  a_pack: string;
  a_sae: string;
  a_hook: string;
  a_d_sae: number;
  b_pack: string;
  b_sae: string;
  b_hook: string;
  b_d_sae: number;
  top_k: number;
  shared_at: number;
  unit: string;
  fingerprint: string;
  stage: BridgeStage;
  chunks_done: number;
  chunks_total: number;
  samples: number;
  blocks_done: number;
  blocks_total: number;
  started_at: string;
  finished_at: string | null;
}

/** What the bridge in `db` is and where its build stands; null for an empty file. */
export function bridgeState(db: Db): BridgeState | null {
  const r = db.prepare('select * from bridge where id = 1').get() as Row | undefined;
  if (!r) return null;
  return {
    method: r.method,
    a: { pack: r.a_pack, sae: r.a_sae, hook: r.a_hook, dSae: r.a_d_sae },
    b: { pack: r.b_pack, sae: r.b_sae, hook: r.b_hook, dSae: r.b_d_sae },
    topK: r.top_k,
    sharedAt: r.shared_at,
    unit: r.unit,
    fingerprint: r.fingerprint,
    stage: r.stage,
    chunksDone: r.chunks_done,
    chunksTotal: r.chunks_total,
    samples: r.samples,
    blocksDone: r.blocks_done,
    blocksTotal: r.blocks_total,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/**
 * Starts the bridge described, or keeps the one in `db` when its fingerprint is the same (a
 * resume); returns the state to go on from.
 */
export function beginBridge(db: Db, d: BridgeDescription, firstStage: BridgeStage): BridgeState {
  const have = bridgeState(db);
  if (have && have.fingerprint === d.fingerprint) return have;
  db.transaction(() => {
    for (const t of [
      'bridge',
      'bridge_codes',
      'bridge_side_top',
      'bridge_features',
      'bridge_matches',
    ])
      db.prepare(`delete from ${t}`).run();
    db.prepare(
      `insert into bridge(id, method, a_pack, a_sae, a_hook, a_d_sae, b_pack, b_sae, b_hook, b_d_sae,
         top_k, shared_at, unit, fingerprint, stage, started_at)
       values (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      d.method,
      d.a.pack,
      d.a.sae,
      d.a.hook,
      d.a.dSae,
      d.b.pack,
      d.b.sae,
      d.b.hook,
      d.b.dSae,
      d.topK,
      d.sharedAt,
      d.unit,
      d.fingerprint,
      firstStage,
      new Date().toISOString(),
    );
  })();
  return bridgeState(db) as BridgeState;
}
