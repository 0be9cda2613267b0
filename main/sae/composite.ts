/**
 * A composite dial: one dial whose direction is a weighted sum of several features' decoder
 * directions (a selection turned into one dial, or the features that separate chosen
 * examples). For members j with weights w_j:
 *
 *   u = Σ_j w_j · W_dec[j],  rescaled to the weighted mean length of the members' rows,
 *   |u| = Σ_j |w_j| · |W_dec[j]| / Σ_j |w_j|,
 *
 * so an add of v moves h by v along u exactly as far as an add of v on one (typical) member
 * would, whatever the number of members; the weights set only the mix. Members whose
 * directions cancel give u = 0: the dial then changes nothing.
 */
import type { Sae } from './sae';

export interface CompositeMember {
  feature: number;
  weight: number;
}

/** The most members one composite dial may have. */
export const MAX_MEMBERS = 4096;

/** Why a member list is not usable with this SAE, or null when it is. */
export function membersProblem(sae: Sae, members: readonly CompositeMember[]): string | null {
  if (members.length === 0) return 'a composite dial needs at least one member';
  if (members.length > MAX_MEMBERS) {
    return `a composite dial has ${members.length} members; the most is ${MAX_MEMBERS}`;
  }
  const seen = new Set<number>();
  let total = 0;
  for (const m of members) {
    if (!Number.isInteger(m.feature) || m.feature < 0 || m.feature >= sae.dSae) {
      return `member feature ${m.feature} is not in 0…${sae.dSae - 1}`;
    }
    if (seen.has(m.feature)) return `member feature ${m.feature} is listed twice`;
    seen.add(m.feature);
    if (typeof m.weight !== 'number' || !Number.isFinite(m.weight) || Math.abs(m.weight) > 1e6) {
      return `member feature ${m.feature}: weight ${m.weight} is not a finite number up to 1e6`;
    }
    total += Math.abs(m.weight);
  }
  if (total === 0) return 'every member weight is 0';
  return null;
}

/** The composite direction u [d_in] (float32, a fresh array) of checked members. */
export function compositeDirection(sae: Sae, members: readonly CompositeMember[]): Float32Array {
  const dIn = sae.dIn;
  const norms = sae.decoderNorms();
  const sum = new Float64Array(dIn);
  let weightTotal = 0;
  let lengthTotal = 0;
  for (const { feature, weight } of members) {
    if (weight === 0) continue;
    const row = sae.decoderRow(feature);
    for (let c = 0; c < dIn; c++) sum[c] = (sum[c] ?? 0) + weight * (row[c] ?? 0);
    weightTotal += Math.abs(weight);
    lengthTotal += Math.abs(weight) * (norms[feature] ?? 0);
  }
  let length = 0;
  for (let c = 0; c < dIn; c++) length += (sum[c] ?? 0) ** 2;
  length = Math.sqrt(length);
  const out = new Float32Array(dIn);
  // cancelling members (or all-zero rows): no direction, the dial changes nothing
  if (length < 1e-12 || weightTotal === 0) return out;
  const scale = lengthTotal / weightTotal / length;
  for (let c = 0; c < dIn; c++) out[c] = (sum[c] ?? 0) * scale;
  return out;
}
