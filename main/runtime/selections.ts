/**
 * The inference worker's selection calls (preload/contract/selections.ts): a selection's
 * features ranked on the current input, and the features that separate chosen examples from
 * others or from a corpus sample. The math is ./selectionMath.ts; this reads the inputs.
 */
import type { z } from 'zod';
import { OrreryError } from '../../preload/contract';
import type {
  ActivationsOutput,
  SelectionInput,
  selectionInputs,
  SeparateOutput,
} from '../../preload/contract/selections';
import type { AnyEngine, EngineContext } from './engine';
import { meanCode, meanOf, rankFeatures, separate } from './selectionMath';

export type ActivationsInput = z.output<typeof selectionInputs.activations>;
export type SeparateInput = z.output<typeof selectionInputs.separate>;

/** How many of the pack's own examples stand for its corpus when no `away` is given. */
export const CORPUS_SAMPLE = 48;

/** Corpus means by engine and SAE (an engine is dropped when its pack unloads). */
const corpusMeans = new WeakMap<AnyEngine, Map<string, Promise<Float64Array>>>();

export async function featureActivations(
  engine: AnyEngine,
  input: ActivationsInput,
  ctx: EngineContext,
): Promise<z.output<typeof ActivationsOutput>> {
  const { sae, h, n } = await engine.saeRows(input.saeId, input.input, ctx);
  const bad = input.features.find((f) => f >= sae.dSae);
  if (bad !== undefined) {
    throw new OrreryError('bad_input', `feature ${bad} is not in 0…${sae.dSae - 1}`);
  }
  const { ranked, active } = rankFeatures(sae, h, n, input.features);
  return { ranked: ranked.slice(0, input.limit), active, total: ranked.length, rows: n };
}

async function meanCodes(
  engine: AnyEngine,
  saeId: string,
  inputs: readonly SelectionInput[],
  ctx: EngineContext,
): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const x of inputs) {
    if (ctx.signal.aborted) throw new OrreryError('cancelled', 'cancelled');
    const { sae, h, n } = await engine.saeRows(saeId, x, ctx);
    out.push(meanCode(sae, h, n));
  }
  return out;
}

function corpusMean(engine: AnyEngine, saeId: string, dSae: number, ctx: EngineContext) {
  let bySae = corpusMeans.get(engine);
  if (!bySae) {
    bySae = new Map();
    corpusMeans.set(engine, bySae);
  }
  let mean = bySae.get(saeId);
  if (!mean) {
    // computed to the end whoever asked first: a later request may be waiting on it too
    const own: EngineContext = { ...ctx, signal: new AbortController().signal };
    mean = (async () => {
      const sample = await engine.corpusSample(CORPUS_SAMPLE);
      const codes = await meanCodes(engine, saeId, sample, own);
      return Object.assign(meanOf(codes, dSae), { examples: codes.length });
    })();
    bySae.set(saeId, mean);
    mean.catch(() => bySae.delete(saeId));
  }
  return mean as Promise<Float64Array & { examples?: number }>;
}

export async function separateFeatures(
  engine: AnyEngine,
  input: SeparateInput,
  ctx: EngineContext,
): Promise<z.output<typeof SeparateOutput>> {
  const like = await meanCodes(engine, input.saeId, input.like, ctx);
  const dSae = like[0]?.length ?? 0;
  let away: Float64Array;
  let baselineExamples: number;
  if (input.away.length > 0) {
    away = meanOf(await meanCodes(engine, input.saeId, input.away, ctx), dSae);
    baselineExamples = input.away.length;
  } else {
    const corpus = await corpusMean(engine, input.saeId, dSae, ctx);
    away = corpus;
    baselineExamples = corpus.examples ?? 0;
  }
  const { features, typical } = separate(meanOf(like, dSae), away, input.top);
  return {
    features,
    baseline: input.away.length > 0 ? 'away' : 'corpus',
    baselineExamples,
    typical,
  };
}
