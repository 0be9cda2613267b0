/**
 * Dials → what steers a text row, shared by the text engines (DESIGN.md §3). Each dial is
 * checked against its SAE (validateDials; errors name the dial and the SAE), dials are grouped
 * by SAE, and each SAE's live dials go to the hook the SAE reads:
 * - add only: a delta that is the same at every position (computed once, from a row of zeros);
 * - with pin or scale: the SAE's dials, turned into a delta from each step's activation at the
 *   hook (codedDelta; TopK SAEs are ranked in ORT, SaeCoders and main/runtime/saeRank).
 * A row's steering is one HookSteering per hook; the split-graph engine has a single hook.
 */
import { OrreryError, type DialInput } from '../../../preload/contract';
import {
  dialDirection,
  isAtRest,
  steer,
  SteeringError,
  validateDials,
  type Dial,
  type Sae,
} from '../../sae';
import { TopkRanker } from '../saeRank';
import { topkOf } from '../saeTopk';

/** The dials of one SAE for one row, as main/sae takes them. */
export interface SaeDials {
  saeId: string;
  sae: Sae;
  /** Off rest, at least one of them pin or scale: steering needs the hook's activation. */
  dials: Dial[];
  /** The SAE's TopK ranker (null: steer() encodes in JS). */
  coder: TopkRanker | null;
}

/** What steers one row at one hook: a delta the same at every position, plus h-dependent parts. */
export interface HookSteering {
  /** [d_model] Σ of add-only SAE deltas, or null. */
  constant: Float32Array | null;
  /** SAEs with pin/scale dials, turned into a delta from each step's activation. */
  coded: SaeDials[];
}

/**
 * Dials → steering by hook for the "after" row; null when every dial is at rest. `find`
 * returns a dial's SAE and the hook it reads (or throws naming the problem). Each hook's
 * constant has its SAE's width (d_in: the fit to the hook was checked when it was attached).
 */
export function planSteering(
  dials: readonly DialInput[],
  find: (saeId: string, dialIndex: number) => { sae: Sae; hook: string },
): Map<string, HookSteering> | null {
  const groups = new Map<string, { sae: Sae; hook: string; dials: Dial[]; index: number[] }>();
  dials.forEach((input, k) => {
    const { sae, hook } = find(input.saeId, k);
    const dial: Dial = {
      feature: input.feature,
      method: input.method,
      value: input.value,
      maxActivation: input.maxActivation ?? null,
      members: input.members ?? null,
    };
    try {
      validateDials(sae, [dial], 1);
    } catch (e) {
      if (e instanceof SteeringError) {
        throw new OrreryError('bad_input', `dial ${k} (SAE "${input.saeId}"): ${stripDial(e)}`);
      }
      throw e;
    }
    let g = groups.get(input.saeId);
    if (!g) {
      g = { sae, hook, dials: [], index: [] };
      groups.set(input.saeId, g);
    }
    g.dials.push(dial);
    g.index.push(k);
  });
  const out = new Map<string, HookSteering>();
  for (const [saeId, g] of groups) {
    try {
      validateDials(g.sae, g.dials, 1);
    } catch (e) {
      if (e instanceof SteeringError) {
        const at = e.dialIndex === null ? '' : `dial ${g.index[e.dialIndex] ?? '?'} `;
        throw new OrreryError('bad_input', `${at}(SAE "${saeId}"): ${stripDial(e)}`);
      }
      throw e;
    }
    const live = g.dials.filter((x) => !isAtRest(x));
    if (live.length === 0) continue;
    let at = out.get(g.hook);
    if (!at) {
      at = { constant: null, coded: [] };
      out.set(g.hook, at);
    }
    if (live.some((x) => x.method !== 'add')) {
      at.coded.push({ saeId, sae: g.sae, dials: live, coder: null });
    } else {
      // add only: the delta does not depend on h; one row of zeros gives it. Its width is the
      // hook's (the SAE's d_in): d_model on the residual stream, n_heads·d_head at hook_z.
      const w = g.sae.dIn;
      const { delta } = steer(g.sae, new Float32Array(w), 1, live);
      const constant = (at.constant ??= new Float32Array(w));
      for (let c = 0; c < w; c++) constant[c] = (constant[c] ?? 0) + (delta[c] ?? 0);
    }
  }
  return out.size === 0 ? null : out;
}

/** A SteeringError's message without its "dial k: " prefix (k counts one SAE's dials). */
function stripDial(e: SteeringError): string {
  return e.message.replace(/^dial \d+: /, '');
}

/** The TopK rankers of pin/scale SAEs, made once per SAE on first use. */
export class SaeCoders {
  private readonly coders = new Map<string, Promise<TopkRanker | null>>();

  constructor(private readonly threads: number) {}

  /** Sets each group's coder (null for SAEs that are not TopK). */
  async prepare(groups: readonly SaeDials[]): Promise<void> {
    for (const g of groups) {
      let c = this.coders.get(g.saeId);
      if (!c) {
        const k = topkOf(g.sae);
        c = k === null ? Promise.resolve(null) : TopkRanker.create(g.sae, k, this.threads);
        this.coders.set(g.saeId, c);
      }
      g.coder = await c;
    }
  }

  async dispose(): Promise<void> {
    for (const c of this.coders.values()) await (await c)?.release();
    this.coders.clear();
  }
}

/**
 * The delta [n, d_model] that one SAE's dials (pin/scale, and adds of the same SAE) give for
 * the rows h [n, d_model], exactly as steer() computes it (float64 sums, f' rounded to
 * float32, error term kept): with a TopK ranker (main/runtime/saeRank), the dialled features'
 * codes are encode's without the float product of the whole row; otherwise steer() encodes in
 * JS.
 */
export async function codedDelta(
  g: Pick<SaeDials, 'sae' | 'dials' | 'coder'>,
  h: Float32Array,
  n: number,
): Promise<Float32Array> {
  if (!g.coder) return steer(g.sae, h, n, g.dials).delta;
  const out = new Float32Array(n * g.sae.dIn);
  await rankedDelta(g, g.coder, h, n, (r, acc) => out.set(acc, r * g.sae.dIn));
  return out;
}

/**
 * Adds codedDelta(g, h, n), as float32, to into[o …]: what a step's steering takes, with no
 * array made for the delta itself.
 */
export async function addCodedDelta(
  g: Pick<SaeDials, 'sae' | 'dials' | 'coder'>,
  h: Float32Array,
  n: number,
  into: Float32Array,
  o: number,
): Promise<void> {
  const dIn = g.sae.dIn;
  if (!g.coder) {
    const delta = steer(g.sae, h, n, g.dials).delta;
    for (let i = 0; i < n * dIn; i++) into[o + i] = (into[o + i] as number) + (delta[i] as number);
    return;
  }
  await rankedDelta(g, g.coder, h, n, (r, acc) => {
    const at = o + r * dIn;
    for (let c = 0; c < dIn; c++) {
      into[at + c] = (into[at + c] as number) + Math.fround(acc[c] as number);
    }
  });
}

/** What codedDelta reads of a group's dials at every step, worked out on its first. */
interface RankedDials {
  /** [d_in] Σ value · direction of the group's add dials, in dial order (float64), or null. */
  adds: Float64Array | null;
  /** The pin/scale dials, their features and decoder rows. */
  coded: Dial[];
  features: number[];
  rows: Float32Array[];
  /** One row's sum, reused (filled and read with no await in between). */
  acc: Float64Array;
}

const ranked = new WeakMap<readonly Dial[], RankedDials>();

function rankedDials(sae: Sae, dials: readonly Dial[]): RankedDials {
  let r = ranked.get(dials);
  if (!r) {
    const dIn = sae.dIn;
    let adds: Float64Array | null = null;
    for (const dial of dials) {
      if (dial.method !== 'add') continue;
      adds ??= new Float64Array(dIn);
      axpy(adds, 0, dial.value, dialDirection(sae, dial), dIn);
    }
    const coded = dials.filter((x) => x.method !== 'add');
    r = {
      adds,
      coded,
      features: coded.map((dial) => dial.feature),
      rows: coded.map((dial) => sae.decoderRow(dial.feature)),
      acc: new Float64Array(dIn),
    };
    ranked.set(dials, r);
  }
  return r;
}

/**
 * codedDelta with a TopK ranker: each row's delta as float64 sums, handed to `take(r, acc)`
 * (acc [d_in], valid until take returns). The adds' part is the same for every row; each
 * row starts from it (as steer() sums the adds first) and adds its pin/scale terms.
 */
async function rankedDelta(
  g: Pick<SaeDials, 'sae' | 'dials'>,
  coder: TopkRanker,
  h: Float32Array,
  n: number,
  take: (r: number, acc: Float64Array) => void,
): Promise<void> {
  const sae = g.sae;
  const dIn = sae.dIn;
  const { adds, coded, features, rows, acc } = rankedDials(sae, g.dials);
  const { xp, norm } = sae.prepareInput(h, n);
  const codes = await coder.codes(xp, n, features);
  const m = coded.length;
  for (let r = 0; r < n; r++) {
    if (adds) acc.set(adds);
    else acc.fill(0);
    const outScale = norm ? (norm.outScale[r] ?? 1) : 1;
    for (let s = 0; s < m; s++) {
      const dial = coded[s] as Dial;
      const before = codes[r * m + s] ?? 0;
      // f' is stored as float32, as a decode of it would read it.
      const after = Math.fround(dial.method === 'pin' ? dial.value : dial.value * before);
      const diff = after - before;
      if (diff !== 0) axpy(acc, 0, diff * outScale, rows[s] as Float32Array, dIn);
    }
    take(r, acc);
  }
}

/** y[yo + c] += a · x[c] for c < len. */
function axpy(y: Float64Array, yo: number, a: number, x: Float32Array, len: number): void {
  for (let c = 0; c < len; c++) y[yo + c] = (y[yo + c] ?? 0) + a * (x[c] ?? 0);
}
