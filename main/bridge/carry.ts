/**
 * Carrying dials across a bridge: each dial on one SAE becomes a dial on the other SAE's best
 * match for its feature, at the same strength relative to each feature's own range, so that
 * "1.5× typical" on one side is "1.5× typical" on the other. A range is the feature's calibrated
 * 1× (the index's dial calibration) when both features have one, else its max activation; a
 * scale dial keeps its factor. A match with a negative score turns an add dial's sign. The
 * result is a draft: the page shows it, the person edits or removes rows, then runs it.
 */
import type { DialInput } from '../../preload/contract';
import type { FeatureMatches } from './read';

/** What the index says about a feature's range and name. */
export interface FeatureRange {
  maxAct: number;
  /** the dial calibration's 1× (activation units), when the index measured one */
  typical: number | null;
  label: string | null;
}

export type ScaledBy = 'typical' | 'max' | 'factor';

export interface CarryRow {
  source: DialInput;
  sourceLabel: string | null;
  feature: number;
  label: string | null;
  score: number;
  status: 'shared' | 'specific';
  dial: DialInput;
  scaledBy: ScaledBy;
}

export interface CarryDraft {
  rows: CarryRow[];
  unmatched: { source: DialInput; reason: string }[];
}

export interface CarrySides {
  /** the SAE id the carried dials will name */
  toSae: string;
  matches(feature: number): FeatureMatches;
  sourceRange(feature: number): FeatureRange | Promise<FeatureRange>;
  targetRange(feature: number): FeatureRange | Promise<FeatureRange>;
}

/** The strength on the target side for `value` on the source side, and what it was scaled by. */
export function rescale(
  dial: Pick<DialInput, 'method' | 'value'>,
  source: FeatureRange,
  target: FeatureRange,
  score: number,
): { value: number; scaledBy: ScaledBy } {
  if (dial.method === 'scale') return { value: dial.value, scaledBy: 'factor' };
  const typical = source.typical !== null && target.typical !== null;
  const from = typical ? (source.typical as number) : source.maxAct;
  const to = typical ? (target.typical as number) : target.maxAct;
  const ratio = from > 0 ? dial.value / from : 0;
  const sign = dial.method === 'add' && score < 0 ? -1 : 1;
  return { value: sign * ratio * to, scaledBy: typical ? 'typical' : 'max' };
}

/** Maps `dials` through the bridge, each to its best match; keeps the order of the dials. */
export async function carryDials(
  dials: readonly DialInput[],
  sides: CarrySides,
): Promise<CarryDraft> {
  const draft: CarryDraft = { rows: [], unmatched: [] };
  for (const source of dials) {
    if (source.members && source.members.length > 0) {
      draft.unmatched.push({
        source,
        reason: 'a composite dial is not carried; carry its features one by one',
      });
      continue;
    }
    const m = sides.matches(source.feature);
    const best = m.matches[0];
    if (m.status === 'silent' || !best) {
      draft.unmatched.push({
        source,
        reason:
          m.status === 'silent'
            ? 'the feature never fired on the bridge’s corpus'
            : 'the feature has no match on the other side',
      });
      continue;
    }
    const [from, to] = await Promise.all([
      sides.sourceRange(source.feature),
      sides.targetRange(best.feature),
    ]);
    const { value, scaledBy } = rescale(source, from, to, best.score);
    const dial: DialInput = {
      saeId: sides.toSae,
      feature: best.feature,
      method: source.method,
      value,
      ...(to.maxAct > 0 ? { maxActivation: to.maxAct } : {}),
      ...(to.label ? { label: to.label.slice(0, 200) } : {}),
    };
    draft.rows.push({
      source,
      sourceLabel: from.label,
      feature: best.feature,
      label: to.label,
      score: best.score,
      status: m.status,
      dial,
      scaledBy,
    });
  }
  return draft;
}
