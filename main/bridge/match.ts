/**
 * The match stage of a bridge build, blockwise and resumable: blocks of A's features are
 * scored against all of B (scorers.ts) and folded into both sides' top-k tables (topk.ts).
 * Each commit writes the finished blocks' A rows, B's running table (packed) and the count of
 * blocks done in one transaction, so a cancelled or crashed build goes on from its last
 * commit and ends with exactly what an uninterrupted one writes. The last commit writes B's
 * rows and marks the bridge done.
 */
import type { Db } from '../db/connection';
import { blockRows, type BlockScorer } from './scorers';
import { foldBlock, TopTable } from './topk';
import { BridgeCancelled, type BridgeProgress } from './meta';

export interface MatchOptions {
  /** Commit at most this often (default 3 s; 0 = every block). */
  commitSeconds?: number;
  /** Rows of A per block (default: about 8M scores per block). */
  blockRows?: number;
  signal?: AbortSignal;
  onProgress?: (p: BridgeProgress) => void;
}

const blob = (a: Int32Array | Float32Array): Buffer =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function int32(b: Buffer): Int32Array {
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function float32(b: Buffer): Float32Array {
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Runs (or resumes) the match stage of the bridge in `db`; returns the blocks run now. */
export async function runMatch(db: Db, scorer: BlockScorer, o: MatchOptions = {}): Promise<number> {
  const meta = db.prepare('select top_k, blocks_done, stage from bridge').get() as
    { top_k: number; blocks_done: number; stage: string } | undefined;
  if (!meta) throw new Error('the bridge has no description row');
  if (meta.stage === 'done') return 0;
  const { dA, dB } = scorer;
  const k = meta.top_k;
  const rowsPer = o.blockRows ?? blockRows(dB);
  const total = Math.ceil(dA / rowsPer);
  const saved = db.prepare('select idx, score from bridge_side_top').get() as
    { idx: Buffer; score: Buffer } | undefined;
  const bTop =
    saved && meta.blocks_done > 0
      ? new TopTable(dB, k, int32(saved.idx), float32(saved.score))
      : new TopTable(dB, k);
  const insMatch = db.prepare(
    'insert or replace into bridge_matches(side, idx, rank, other, score) values (?, ?, ?, ?, ?)',
  );
  const saveTop = db.prepare(
    'insert or replace into bridge_side_top(id, idx, score) values (1, ?, ?)',
  );
  const advance = db.prepare(
    "update bridge set blocks_done = ?, blocks_total = ?, stage = 'match' where id = 1",
  );
  db.prepare("update bridge set blocks_total = ?, stage = 'match' where id = 1").run(total);
  const progress = (done: number): void => o.onProgress?.({ stage: 'match', done, total });

  let pending: { a0: number; top: TopTable }[] = [];
  let done = meta.blocks_done;
  let lastCommit = performance.now();
  const commitMs = (o.commitSeconds ?? 3) * 1000;
  const commit = (): void => {
    const blocks = pending;
    db.transaction(() => {
      for (const { a0, top } of blocks) {
        for (let r = 0; r < top.n; r++) {
          top.row(r).forEach((m, rank) => insMatch.run('a', a0 + r, rank, m.other, m.score));
        }
      }
      saveTop.run(blob(bTop.idx), blob(bTop.score));
      advance.run(done, total);
      if (done === total) {
        for (let j = 0; j < dB; j++) {
          bTop.row(j).forEach((m, rank) => insMatch.run('b', j, rank, m.other, m.score));
        }
        db.prepare('delete from bridge_side_top').run();
        db.prepare('delete from bridge_codes').run();
        db.prepare("update bridge set stage = 'done', finished_at = ? where id = 1").run(
          new Date().toISOString(),
        );
      }
    })();
    pending = [];
    lastCommit = performance.now();
  };

  let run = 0;
  progress(done);
  for (let blockAt = done; blockAt < total; blockAt++) {
    if (o.signal?.aborted) {
      if (pending.length > 0) commit(); // keep what was computed
      throw new BridgeCancelled();
    }
    const a0 = blockAt * rowsPer;
    const a1 = Math.min(dA, a0 + rowsPer);
    const scores = await scorer.block(a0, a1);
    const top = new TopTable(a1 - a0, k);
    foldBlock(scores, a1 - a0, dB, top, 0, bTop, a0);
    pending.push({ a0, top });
    done = blockAt + 1;
    run++;
    if (done === total || performance.now() - lastCommit >= commitMs) commit();
    progress(done);
  }
  // resumed after the last block's commit but before the bridge was marked done: finish
  if (run === 0) commit();
  return run;
}
