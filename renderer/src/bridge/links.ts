/**
 * The bridge view's rules, pure (no DOM, no three, no client): which matches pass the view's
 * filter (only shared, only specific, a score range), which features each galaxy keeps when
 * filtered, the best matches a lasso carries to the other side, and the links drawn for the
 * selection. A match is shared when its score reaches the bridge's sharedAt, the rule
 * bridge.matches and bridge.best use for a feature's best match.
 */
import { BRIDGE_BEST_STATUS } from '../../../preload/contract/bridgeStatus';

export type LinkKind = 'shared' | 'specific';

export interface BridgeFilter {
  /** all matches, only shared ones, or only specific ones */
  show: 'all' | LinkKind;
  /** the score range kept, inclusive */
  min: number;
  max: number;
}

export const NO_BRIDGE_FILTER: BridgeFilter = { show: 'all', min: -1, max: 1 };

/** One side's best matches (bridge.best) and the bridge's shared threshold. */
export interface SideBest {
  best: Int32Array;
  score: Float32Array;
  status: Uint8Array;
  sharedAt: number;
}

/** A line between a feature of the main galaxy and one of the other galaxy. */
export interface Link {
  main: number;
  other: number;
  score: number;
  kind: LinkKind;
}

export const kindOf = (score: number, sharedAt: number): LinkKind =>
  score >= sharedAt ? 'shared' : 'specific';

export function passes(filter: BridgeFilter, score: number, sharedAt: number): boolean {
  if (!Number.isFinite(score) || score < filter.min || score > filter.max) return false;
  return filter.show === 'all' || kindOf(score, sharedAt) === filter.show;
}

export function isFiltering(filter: BridgeFilter): boolean {
  return filter.show !== 'all' || filter.min > -1 || filter.max < 1;
}

/**
 * The features of a side whose best match passes the filter (silent ones never do), or null
 * when the filter keeps everything.
 */
export function keptFeatures(side: SideBest, filter: BridgeFilter): Set<number> | null {
  if (!isFiltering(filter)) return null;
  const keep = new Set<number>();
  for (let f = 0; f < side.best.length; f++) {
    if (side.status[f] === BRIDGE_BEST_STATUS.silent) continue;
    if (passes(filter, side.score[f] ?? NaN, side.sharedAt)) keep.add(f);
  }
  return keep;
}

/** Each feature's best match when it passes the filter, once per match, in feature order. */
export function bestMatchesOf(
  features: readonly number[],
  side: SideBest,
  filter: BridgeFilter,
): number[] {
  const out = new Set<number>();
  for (const f of features) {
    const m = side.best[f] ?? -1;
    if (m < 0 || side.status[f] === BRIDGE_BEST_STATUS.silent) continue;
    if (passes(filter, side.score[f] ?? NaN, side.sharedAt)) out.add(m);
  }
  return [...out];
}

/**
 * Links from features of one side to their best matches (filtered), at most `cap`; `fromMain`
 * says which side the features are on, so each link names its main and other feature.
 */
export function selectionLinks(
  features: readonly number[],
  side: SideBest,
  filter: BridgeFilter,
  fromMain: boolean,
  cap: number,
): Link[] {
  const out: Link[] = [];
  for (const f of features) {
    if (out.length >= cap) break;
    const m = side.best[f] ?? -1;
    const score = side.score[f] ?? NaN;
    if (m < 0 || side.status[f] === BRIDGE_BEST_STATUS.silent) continue;
    if (!passes(filter, score, side.sharedAt)) continue;
    const kind = kindOf(score, side.sharedAt);
    out.push(fromMain ? { main: f, other: m, score, kind } : { main: m, other: f, score, kind });
  }
  return out;
}
