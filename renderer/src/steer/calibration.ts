/**
 * Each feature's calibrated dial range, as the index measured it (1× = its typical
 * activation, limit = the add strength where the output's SSIM to before reaches the
 * calibration level; for text, where greedy generation changes a set share of its tokens).
 * Cards record it here; a dial added any other way (by number, from a preset or a step) asks
 * the index for its feature's card once (ensureRange); dials read it and re-render when a
 * range arrives. Kept per SAE and feature.
 */
import { cardsGeneration, getFeatureCard } from '../galaxy/featureCache';

export interface DialRange {
  typical: number;
  limit: number;
  level: number;
}

const ranges = new Map<string, DialRange>();
const asked = new Set<string>();
const listeners = new Set<() => void>();
let version = 0;

const keyOf = (saeId: string, feature: number): string => `${saeId}#${feature}`;

export function rememberRange(saeId: string, feature: number, r: DialRange | null): void {
  if (!r || !(r.limit > 0) || !(r.typical > 0)) return;
  const k = keyOf(saeId, feature);
  const old = ranges.get(k);
  if (old && old.limit === r.limit && old.typical === r.typical && old.level === r.level) return;
  ranges.set(k, { typical: r.typical, limit: r.limit, level: r.level });
  version += 1;
  for (const l of listeners) l();
}

export function rangeOf(saeId: string, feature: number): DialRange | null {
  return ranges.get(keyOf(saeId, feature)) ?? null;
}

/** For useSyncExternalStore: dials re-render when a range arrives. */
export function subscribeRanges(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
export const rangesVersion = (): number => version;

/** Asks the pack's index for a feature's calibrated range once, unless it is known. */
export function ensureRange(packId: string, saeId: string, feature: number): void {
  const k = keyOf(saeId, feature);
  const ask = `${packId}\u0000${k}`;
  if (ranges.has(k) || asked.has(ask)) return;
  asked.add(ask);
  const generation = cardsGeneration();
  void getFeatureCard(packId, saeId, feature).then((r) => {
    const range = r.ok ? (r.value.calibration ?? null) : null;
    if (range) rememberRange(saeId, feature, range);
    // a failure (index not built yet) or a card from before the build's calibration stage
    // (its map and cards come first) may be asked again later, when the cards change; if
    // they changed while this card was on its way (the ask then was skipped), at once
    if (ranges.has(k)) return;
    asked.delete(ask);
    if (cardsGeneration() !== generation) ensureRange(packId, saeId, feature);
  });
}
