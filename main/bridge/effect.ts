/**
 * What a text feature's direction writes: its effect on the model's next-token logits, measured
 * through the model. Each feature's decoder row, scaled to a reference length (STEP × the hook's
 * median row length on the contexts), is added at every position of a few short contexts from
 * the corpus (as an add dial steers: the same delta everywhere); the change in logits, averaged
 * over the positions and centred over the vocabulary (a shift of every logit changes nothing),
 * is the feature's effect vector. Two models with one tokenizer have effect vectors over the
 * same vocabulary, so a feature of one can be compared with a feature of the other by what it
 * makes the model say (cosine of effect vectors: an 'effect' bridge), where a correlation of
 * activations only says they fire on the same tokens.
 * gain[j] is the effect vector's length per unit of the feature's activation (a dial's value),
 * so a strength on one model can be carried to the strength that moves the other model's
 * logits as much (carry.ts).
 */
import type { CorpusExample } from '../index/corpus';
import { TextModel } from '../index/build/activations';
import type { Side } from './sides';

/** Contexts per side and their length in tokens (the first is BOS when the model reads one). */
export const EFFECT_CONTEXTS = 4;
export const EFFECT_TOKENS = 8;
/** The steering length, as a multiple of the hook's median row length on the contexts. */
export const EFFECT_STEP = 1;

export interface FeatureEffects {
  dSae: number;
  vocab: number;
  /** [dSae, vocab] centred mean change of the logits; a zero row for a zero decoder row */
  effects: Float32Array;
  /** [dSae] |effect| per unit of activation (0 for a zero decoder row) */
  gain: Float32Array;
  /** the steering length used (activation-independent: STEP × median hook row length) */
  step: number;
}

export interface EffectOptions {
  contexts?: number;
  tokens?: number;
  /** features per forward pass (each runs all contexts) */
  batch?: number;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** The first `n` examples (spread over the corpus) long enough for `tokens` ids, as ids. */
function pickContexts(
  model: TextModel,
  examples: readonly CorpusExample[],
  n: number,
  tokens: number,
): number[][] {
  const out: number[][] = [];
  const stride = Math.max(1, Math.floor(examples.length / Math.max(1, n)));
  for (let s = 0; s < stride && out.length < n; s++)
    for (let i = s; i < examples.length && out.length < n; i += stride) {
      const e = examples[i] as CorpusExample;
      const ids = model.encode(e.body ?? e.name);
      if (ids.length >= tokens) out.push(ids.slice(0, tokens));
    }
  if (out.length === 0) throw new Error(`no example of the corpus has ${tokens} tokens`);
  return out;
}

/** The effect vectors and gains of every feature of a text side (see the file's comment). */
export async function featureEffects(
  side: Side,
  examples: readonly CorpusExample[],
  o: EffectOptions = {},
): Promise<FeatureEffects> {
  if (side.pack.manifest.kind !== 'text-lm')
    throw new Error(`${side.pack.manifest.id} is not a text model: effects are over a vocabulary`);
  const model = await TextModel.open(side.pack, {
    hook: side.hook,
    threads: o.threads ?? 1,
    read: side.sae.config,
  });
  try {
    const { dModel, vocab } = model.info;
    const sae = side.sae;
    if (sae.dIn !== dModel)
      throw new Error(`SAE ${side.saeId} reads width ${sae.dIn}, the model's hook ${dModel}`);
    const ctx = pickContexts(
      model,
      examples,
      o.contexts ?? EFFECT_CONTEXTS,
      o.tokens ?? EFFECT_TOKENS,
    );
    const seq = Math.min(...ctx.map((c) => c.length));
    const ids = ctx.map((c) => c.slice(0, seq));
    const nc = ids.length;
    const base = await model.forward(ids);
    // the hook's median row length: the reference for the steering length
    const lengths: number[] = [];
    for (let r = 0; r < nc * seq; r++) {
      let s = 0;
      for (let c = 0; c < dModel; c++) s += (base.resid[r * dModel + c] ?? 0) ** 2;
      lengths.push(Math.sqrt(s));
    }
    lengths.sort((x, y) => x - y);
    const step = EFFECT_STEP * (lengths[Math.floor(lengths.length / 2)] ?? 1);
    const baseMean = meanOverPositions(base.logits, 0, nc * seq, vocab);

    const effects = new Float32Array(sae.dSae * vocab);
    const gain = new Float32Array(sae.dSae);
    const batch = o.batch ?? 16;
    for (let f0 = 0; f0 < sae.dSae; f0 += batch) {
      o.signal?.throwIfAborted();
      const group: { f: number; norm: number }[] = [];
      for (let f = f0; f < Math.min(sae.dSae, f0 + batch); f++) {
        const row = sae.decoderRow(f);
        let s = 0;
        for (let c = 0; c < dModel; c++) s += (row[c] ?? 0) ** 2;
        if (s > 0) group.push({ f, norm: Math.sqrt(s) });
      }
      if (group.length > 0) {
        const rows = group.flatMap(() => ids);
        const steering = new Float32Array(rows.length * seq * dModel);
        group.forEach(({ f, norm }, g) => {
          const row = sae.decoderRow(f);
          for (let r = 0; r < nc * seq; r++) {
            const o0 = (g * nc * seq + r) * dModel;
            for (let c = 0; c < dModel; c++) steering[o0 + c] = ((row[c] ?? 0) / norm) * step;
          }
        });
        const { logits } = await model.forward(rows, steering);
        group.forEach(({ f, norm }, g) => {
          const mean = meanOverPositions(logits, g * nc * seq, nc * seq, vocab);
          let centre = 0;
          for (let t = 0; t < vocab; t++) centre += (mean[t] as number) - (baseMean[t] as number);
          centre /= vocab;
          let len = 0;
          const e = effects.subarray(f * vocab, (f + 1) * vocab);
          for (let t = 0; t < vocab; t++) {
            const v = (mean[t] as number) - (baseMean[t] as number) - centre;
            e[t] = v;
            len += v * v;
          }
          // the steering was `step` long: `step / norm` units of activation
          gain[f] = Math.sqrt(len) / (step / norm);
        });
      }
      o.onProgress?.(Math.min(sae.dSae, f0 + batch), sae.dSae);
    }
    return { dSae: sae.dSae, vocab, effects, gain, step };
  } finally {
    await model.dispose();
  }
}

/** Mean over rows r0 … r0 + n − 1 of [*, vocab] logits, in float64. */
function meanOverPositions(
  logits: Float32Array,
  r0: number,
  n: number,
  vocab: number,
): Float64Array {
  const m = new Float64Array(vocab);
  for (let r = r0; r < r0 + n; r++)
    for (let t = 0; t < vocab; t++) m[t] = (m[t] as number) + (logits[r * vocab + t] ?? 0);
  for (let t = 0; t < vocab; t++) m[t] = (m[t] as number) / n;
  return m;
}

/** Cosine of feature i's effect on side a and feature j's on side b (NaN when either is 0). */
export function effectCosine(a: FeatureEffects, i: number, b: FeatureEffects, j: number): number {
  if (a.vocab !== b.vocab) throw new Error(`vocabularies of ${a.vocab} and ${b.vocab} tokens`);
  const v = a.vocab;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let t = 0; t < v; t++) {
    const x = a.effects[i * v + t] as number;
    const y = b.effects[j * v + t] as number;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : NaN;
}
