/**
 * Dials → steering of the activation h at an SAE's hook (DESIGN.md §3). A dial belongs to
 * one feature i of one SAE:
 * - add:   h ← h + v · W_dec[i]
 * - pin:   encode h, f_i := v, decode, keep the SAE's error term:
 *          h ← decode(f') + (h − decode(f))
 * - scale: f_i := v · f_i, same error-preserving path.
 *
 * Composition: every dial reads the same, unsteered h. Adds sum (an add and a pin may share
 * a feature). A feature takes at most one pin or scale dial. All pin and scale dials share
 * one encode: f' is f with each dialled feature replaced, then decoded once. So
 * h' = h + Σ_add v · W_dec[i] + (decode(f') − decode(f)), and the order of dials never
 * matters. Because decode is linear, decode(f') − decode(f) = (f' − f) W_dec (times the
 * per-row output scale when the SAE normalises its input): only the dialled features are
 * computed, and a feature whose code does not change contributes exactly nothing.
 *
 * Rest: add 0 and scale 1 are at rest; a pin is never at rest (pin to 0 is ablation; a pin
 * "at rest" is no dial). With no dial off rest, h' is a copy of h, bit for bit, and the
 * delta is all zeros; rows no dial reaches are copied the same way.
 *
 * A composite dial (`members`) is an add along the weighted sum of its members' decoder rows
 * (./composite.ts); it never takes part in the pin/scale encode.
 *
 * Shapes: h is [n, d_in] (n = batch × positions for text, H × W positions for a spatial
 * map, 1 for a latent); a mask is [n].
 */
import { compositeDirection, membersProblem, type CompositeMember } from './composite';
import type { Sae } from './sae';

export type DialMethod = 'add' | 'pin' | 'scale';
export const DIAL_METHODS: readonly DialMethod[] = ['add', 'pin', 'scale'];

export interface Dial {
  /** Feature index in the SAE, 0 … d_sae − 1. */
  feature: number;
  method: DialMethod;
  /** Activation units for add and pin; a multiplier for scale. */
  value: number;
  /** [n] rows (positions) the dial applies to, truthy = yes; absent or null = all rows. */
  mask?: ArrayLike<number | boolean> | null;
  /**
   * The feature's typical size, e.g. its max activation in the index. When given (> 0), an
   * add or pin value beyond MAX_RELATIVE_VALUE times it is rejected as absurd.
   */
  maxActivation?: number | null;
  /**
   * A composite dial (add only): its direction is the weighted sum of these features' decoder
   * rows (./composite.ts) instead of `feature`'s own row; `feature` then names the selection
   * (its heaviest member, say) and is checked like any feature.
   */
  members?: readonly CompositeMember[] | null;
}

/** |v| above this is rejected for every dial. */
export const MAX_ABS_VALUE = 1e6;
/** add/pin: |v| above this × maxActivation is rejected; scale: |v| above this. */
export const MAX_RELATIVE_VALUE = 1e4;

export class SteeringError extends Error {
  constructor(
    readonly dialIndex: number | null,
    detail: string,
  ) {
    super(dialIndex === null ? detail : `dial ${dialIndex}: ${detail}`);
    this.name = 'SteeringError';
  }
}

export interface SteeringResult {
  /** [n, d_in] h' = h + delta (float32), a fresh array. */
  steered: Float32Array;
  /** [n, d_in] h' − h: the additive steering tensor a text graph takes. */
  delta: Float32Array;
  /** False when no dial is off rest: steered is then an exact copy of h. */
  changed: boolean;
}

/** True when the dial changes nothing wherever it applies: add 0 or scale 1. */
export function isAtRest(dial: Pick<Dial, 'method' | 'value'>): boolean {
  return (
    (dial.method === 'add' && dial.value === 0) || (dial.method === 'scale' && dial.value === 1)
  );
}

/** Checks dials against an SAE and a batch of n rows; throws SteeringError on the first problem. */
export function validateDials(sae: Sae, dials: readonly Dial[], n: number): void {
  const pinned = new Map<number, number>();
  dials.forEach((d, k) => {
    const fail = (detail: string): never => {
      throw new SteeringError(k, detail);
    };
    if (!DIAL_METHODS.includes(d.method)) {
      fail(`method ${JSON.stringify(d.method)} is not add, pin or scale`);
    }
    if (!Number.isInteger(d.feature) || d.feature < 0 || d.feature >= sae.dSae) {
      fail(`feature ${d.feature} is not in 0…${sae.dSae - 1}`);
    }
    const what = `${d.method} on feature ${d.feature}`;
    if (typeof d.value !== 'number' || !Number.isFinite(d.value)) {
      fail(`${what}: value ${d.value} is not a finite number`);
    }
    const v = Math.abs(d.value);
    if (v > MAX_ABS_VALUE) fail(`${what}: |value| ${v} exceeds ${MAX_ABS_VALUE}`);
    if (d.method === 'scale' && v > MAX_RELATIVE_VALUE) {
      fail(`${what}: a factor of ${d.value} exceeds ±${MAX_RELATIVE_VALUE}`);
    }
    const maxAct = d.maxActivation;
    if (d.method !== 'scale' && maxAct != null && Number.isFinite(maxAct) && maxAct > 0) {
      if (v > MAX_RELATIVE_VALUE * maxAct) {
        fail(
          `${what}: |value| ${v} is more than ${MAX_RELATIVE_VALUE} × the feature's max ` +
            `activation ${maxAct}`,
        );
      }
    }
    if (d.members != null) {
      if (d.method !== 'add') fail(`${what}: a composite dial can only add`);
      const problem = membersProblem(sae, d.members);
      if (problem !== null) fail(`${what}: ${problem}`);
    }
    if (d.mask != null && d.mask.length !== n) {
      fail(`${what}: mask has ${d.mask.length} entries for ${n} rows`);
    }
    if (d.method !== 'add') {
      const other = pinned.get(d.feature);
      if (other !== undefined) {
        fail(`feature ${d.feature} already has a pin/scale dial (dial ${other}); use one`);
      }
      pinned.set(d.feature, k);
    }
  });
}

/**
 * Applies dials to h [n, d_in]; returns the steered h' and the delta h' − h, both [n, d_in].
 * Throws SteeringError for a bad dial and RangeError for a bad h.
 */
export function steer(
  sae: Sae,
  h: Float32Array,
  n: number,
  dials: readonly Dial[],
): SteeringResult {
  const dIn = sae.dIn;
  if (!Number.isInteger(n) || n < 0 || h.length !== n * dIn) {
    throw new RangeError(`h has ${h.length} values, expected n × d_in = ${n} × ${dIn}`);
  }
  validateDials(sae, dials, n);
  const active = dials.filter((d) => !isAtRest(d));
  if (active.length === 0) {
    return { steered: h.slice(), delta: new Float32Array(h.length), changed: false };
  }
  const applies = (d: Dial, r: number): boolean => d.mask == null || Boolean(d.mask[r]);
  const acc = new Float64Array(n * dIn);

  for (const d of active) {
    if (d.method !== 'add') continue;
    const w = dialDirection(sae, d);
    for (let r = 0; r < n; r++) {
      if (!applies(d, r)) continue;
      axpy(acc, r * dIn, d.value, w, dIn);
    }
  }

  const coded = active.filter((d) => d.method !== 'add');
  if (coded.length > 0) {
    // Encode only the rows some pin/scale dial reaches, and only the dialled features.
    const rows: number[] = [];
    for (let r = 0; r < n; r++) if (coded.some((d) => applies(d, r))) rows.push(r);
    const features = coded.map((d) => d.feature);
    const sub = new Float32Array(rows.length * dIn);
    rows.forEach((r, s) => sub.set(h.subarray(r * dIn, (r + 1) * dIn), s * dIn));
    const { values: f, norm } = sae.encodeFeatures(sub, rows.length, features);
    const m = features.length;
    rows.forEach((r, s) => {
      const outScale = norm ? (norm.outScale[s] ?? 1) : 1;
      coded.forEach((d, q) => {
        if (!applies(d, r)) return;
        const before = f[s * m + q] ?? 0;
        // f' is stored as float32, as a decode of it would read it.
        const after = Math.fround(d.method === 'pin' ? d.value : d.value * before);
        const diff = after - before;
        if (diff !== 0) axpy(acc, r * dIn, diff * outScale, sae.decoderRow(d.feature), dIn);
      });
    });
  }

  const steered = h.slice();
  const delta = new Float32Array(h.length);
  for (let i = 0; i < acc.length; i++) {
    const a = acc[i] ?? 0;
    if (a === 0) continue;
    delta[i] = a;
    steered[i] = (h[i] ?? 0) + (delta[i] ?? 0);
  }
  return { steered, delta, changed: true };
}

/**
 * The direction an add dial moves h along, [d_in]: the feature's decoder row, or a composite
 * dial's weighted sum of its members' rows. Do not write to it (a row is a view).
 */
export function dialDirection(sae: Sae, dial: Pick<Dial, 'feature' | 'members'>): Float32Array {
  return dial.members != null
    ? compositeDirection(sae, dial.members)
    : sae.decoderRow(dial.feature);
}

/** y[yo + c] += a · x[c] for c < len. */
function axpy(y: Float64Array, yo: number, a: number, x: Float32Array, len: number): void {
  for (let c = 0; c < len; c++) y[yo + c] = (y[yo + c] ?? 0) + a * (x[c] ?? 0);
}
