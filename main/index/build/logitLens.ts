/**
 * The logit lens of a text feature, measured through the model rather than read off W_U:
 * the change in next-token logits when the feature's decoder direction, scaled to its max
 * activation, is added at the hook on a BOS-only context (the graph's steering input).
 * Top = most promoted tokens, bottom = most suppressed. The context is the text rule's
 * (lensContext: BOS, or EOS for a model without BOS); a model with neither gets no lens. The
 * same for split packs and Hugging Face exports (steering at the SAE's hook of the rewired
 * graph): exact through the model, with no W_U or final norm read off the graph.
 */
import { lensContext } from '../../runtime/text/textRule';
import type { TextModel } from './activations';

export interface LensToken {
  token: string;
  logit: number;
}

export interface Lens {
  top: LensToken[];
  bottom: LensToken[];
}

export async function logitLens(
  model: TextModel,
  directions: (i: number) => Float32Array,
  scales: ArrayLike<number>,
  features: readonly number[],
  options: {
    batch?: number;
    n?: number;
    signal?: AbortSignal;
    onBatch?: (done: number) => void;
  } = {},
): Promise<Map<number, Lens>> {
  const { dModel, vocab, bos, eos } = model.info;
  const context = lensContext(bos, eos);
  if (context === null) return new Map();
  const batch = options.batch ?? 64;
  const nShow = options.n ?? 10;
  const base = (await model.forward([context])).logits;
  const out = new Map<number, Lens>();
  const names = new Map<number, string>();
  const name = (t: number): string => {
    let s = names.get(t);
    if (s === undefined) names.set(t, (s = model.tokenText(t)));
    return s;
  };
  for (let s = 0; s < features.length; s += batch) {
    options.signal?.throwIfAborted();
    const group = features.slice(s, s + batch);
    const steering = new Float32Array(group.length * dModel);
    group.forEach((f, b) => {
      const dir = directions(f);
      const scale = scales[f] ?? 0;
      for (let c = 0; c < dModel; c++) steering[b * dModel + c] = (dir[c] ?? 0) * scale;
    });
    const { logits } = await model.forward(
      group.map(() => context),
      steering,
    );
    group.forEach((f, b) => {
      const diff = new Float32Array(vocab);
      for (let t = 0; t < vocab; t++) diff[t] = (logits[b * vocab + t] ?? 0) - (base[t] ?? 0);
      const pick = (ts: number[]): LensToken[] =>
        ts.map((t) => ({ token: name(t), logit: Math.round((diff[t] ?? 0) * 1e4) / 1e4 }));
      // Highest first (ties: lower id first); lowest first (ties: higher id first).
      const at = (t: number): number => diff[t] ?? 0;
      const top = firstN(vocab, nShow, (a, b) => at(a) > at(b) || (at(a) === at(b) && a < b));
      const bottom = firstN(vocab, nShow, (a, b) => at(a) < at(b) || (at(a) === at(b) && a > b));
      out.set(f, { top: pick(top), bottom: pick(bottom) });
    });
    options.onBatch?.(Math.min(features.length, s + batch));
  }
  return out;
}

/** The n first of 0…count-1 under `before`, in order, by insertion into a short list. */
export function firstN(
  count: number,
  n: number,
  before: (a: number, b: number) => boolean,
): number[] {
  const list: number[] = [];
  for (let t = 0; t < count; t++) {
    if (list.length === n && !before(t, list[n - 1] as number)) continue;
    let i = list.length;
    while (i > 0 && before(t, list[i - 1] as number)) i--;
    list.splice(i, 0, t);
    if (list.length > n) list.pop();
  }
  return list;
}
