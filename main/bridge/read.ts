/**
 * Reading a built bridge: one feature's matches on the other side (with whether its best
 * match counts as shared), and every match as rows for an export (CSV or JSON).
 */
import { promises as fs } from 'node:fs';
import { BRIDGE_BEST_STATUS } from '../../preload/contract';
import type { Db } from '../db/connection';
import { bridgeState, type BridgeState } from './meta';

export type BridgeSide = 'a' | 'b';

export interface FeatureMatches {
  side: BridgeSide;
  feature: number;
  /** 'shared': its best match scores at least the bridge's sharedAt; 'specific': below;
   * 'silent': it never fired on the bridge's corpus (correlation), so nothing can be said */
  status: 'shared' | 'specific' | 'silent';
  matches: { feature: number; score: number }[];
}

export function featureMatches(db: Db, side: BridgeSide, feature: number): FeatureMatches {
  const state = bridgeState(db);
  if (state?.stage !== 'done') throw new Error('the bridge is not built yet');
  const d = side === 'a' ? state.a.dSae : state.b.dSae;
  if (!Number.isInteger(feature) || feature < 0 || feature >= d)
    throw new RangeError(`side ${side} has features 0 … ${d - 1}, not ${feature}`);
  const rows = db
    .prepare('select other, score from bridge_matches where side = ? and idx = ? order by rank')
    .all(side, feature) as { other: number; score: number }[];
  const fired = db
    .prepare('select n_active from bridge_features where side = ? and idx = ?')
    .get(side, feature) as { n_active: number } | undefined;
  const best = rows[0]?.score ?? -Infinity;
  const status =
    fired?.n_active === 0 || rows.length === 0
      ? 'silent'
      : best >= state.sharedAt
        ? 'shared'
        : 'specific';
  return {
    side,
    feature,
    status,
    matches: rows.map((r) => ({ feature: r.other, score: r.score })),
  };
}

/**
 * Every feature of one side at once, for a view that colours or filters a whole galaxy: its best
 * match on the other side (−1 for none), that match's score (NaN for none) and its status
 * (the contract's BRIDGE_BEST_STATUS codes), by the same rule as featureMatches.
 */
export interface SideBest {
  /** [dSae] the best match on the other side, −1 when the feature has none. */
  best: Int32Array;
  /** [dSae] its score, NaN when the feature has none. */
  score: Float32Array;
  /** [dSae] BRIDGE_BEST_STATUS code of each feature. */
  status: Uint8Array;
}

export function sideBest(db: Db, side: BridgeSide): SideBest {
  const state = bridgeState(db);
  if (state?.stage !== 'done') throw new Error('the bridge is not built yet');
  const d = side === 'a' ? state.a.dSae : state.b.dSae;
  const best = new Int32Array(d).fill(-1);
  const score = new Float32Array(d).fill(NaN);
  const status = new Uint8Array(d).fill(BRIDGE_BEST_STATUS.silent);
  const rows = db
    .prepare('select idx, other, score from bridge_matches where side = ? and rank = 0')
    .iterate(side) as Iterable<{ idx: number; other: number; score: number }>;
  for (const r of rows) {
    if (r.idx < 0 || r.idx >= d) continue;
    best[r.idx] = r.other;
    score[r.idx] = r.score;
    status[r.idx] =
      r.score >= state.sharedAt ? BRIDGE_BEST_STATUS.shared : BRIDGE_BEST_STATUS.specific;
  }
  const silent = db
    .prepare('select idx from bridge_features where side = ? and n_active = 0')
    .iterate(side) as Iterable<{ idx: number }>;
  for (const r of silent) if (r.idx >= 0 && r.idx < d) status[r.idx] = BRIDGE_BEST_STATUS.silent;
  return { best, score, status };
}

export interface MatchRow {
  side: BridgeSide;
  feature: number;
  rank: number;
  other: number;
  score: number;
}

function* matchRows(db: Db): Generator<MatchRow> {
  const q = db.prepare(
    'select side, idx as feature, rank, other, score from bridge_matches order by side, idx, rank',
  );
  for (const r of q.iterate()) yield r as MatchRow;
}

/** Writes every match to `out` (.csv: one row per match; .json: the bridge and its matches). */
export async function exportBridge(
  db: Db,
  out: string,
): Promise<{ rows: number; state: BridgeState }> {
  const state = bridgeState(db);
  if (state?.stage !== 'done') throw new Error('the bridge is not built yet');
  const names = {
    a: `${state.a.pack}/${state.a.sae}`,
    b: `${state.b.pack}/${state.b.sae}`,
  };
  const file = await fs.open(out, 'w');
  let rows = 0;
  try {
    if (out.toLowerCase().endsWith('.csv')) {
      await file.write('side,sae,feature,rank,other_sae,other_feature,score,shared\n');
      for (const r of matchRows(db)) {
        const other = r.side === 'a' ? names.b : names.a;
        const shared = r.rank === 0 && r.score >= state.sharedAt ? 1 : 0;
        await file.write(
          `${r.side},${names[r.side]},${r.feature},${r.rank},${other},${r.other},${r.score.toPrecision(6)},${shared}\n`,
        );
        rows++;
      }
    } else if (out.toLowerCase().endsWith('.json')) {
      const all = [...matchRows(db)];
      rows = all.length;
      const bySide = (side: BridgeSide): Record<string, { feature: number; score: number }[]> => {
        const m: Record<string, { feature: number; score: number }[]> = {};
        for (const r of all) {
          if (r.side !== side) continue;
          (m[r.feature] ??= []).push({ feature: r.other, score: Number(r.score.toPrecision(6)) });
        }
        return m;
      };
      await file.write(
        JSON.stringify({
          method: state.method,
          a: state.a,
          b: state.b,
          unit: state.unit,
          samples: state.samples,
          topK: state.topK,
          sharedAt: state.sharedAt,
          finishedAt: state.finishedAt,
          matches: { a: bySide('a'), b: bySide('b') },
        }),
      );
    } else throw new Error(`export to .csv or .json, not ${out}`);
  } finally {
    await file.close();
  }
  return { rows, state };
}
