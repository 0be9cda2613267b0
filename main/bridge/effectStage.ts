/**
 * The effect bridge's own part of a build (build.ts): both text sides' effect vectors over the
 * same contexts (effect.ts), each feature's gain written to bridge_features, and the scorer that
 * matches them by cosine. The two models must read one tokenizer, so that effect vectors are
 * over the same tokens. Effects are measured again when a cancelled build resumes (seconds to a
 * few minutes); the match stage then goes on from its last committed block.
 */
import type { Db } from '../db/connection';
import type { CorpusExample } from '../index/corpus';
import type { Gemm } from '../index/build/gemm';
import { featureEffects } from './effect';
import { BridgeCancelled, type BridgeProgress } from './meta';
import { effectRefusal } from './methods';
import { DecoderScorer } from './scorers';
import type { Side } from './sides';

/** Throws unless both sides are text models reading the same tokenizer. */
export async function checkEffectSides(a: Side, b: Side): Promise<void> {
  const why = await effectRefusal(a.pack, b.pack);
  if (why) throw new Error(why);
}

/** Measures both sides' effects, writes their gains, and returns the cosine scorer. */
export async function effectScorer(
  db: Db,
  a: Side,
  b: Side,
  examples: readonly CorpusExample[],
  gemm: Gemm,
  o: {
    threads?: number;
    signal?: AbortSignal;
    onProgress?: (p: BridgeProgress) => void;
  },
): Promise<DecoderScorer> {
  const total = a.sae.dSae + b.sae.dSae;
  const measure = (s: Side, before: number): ReturnType<typeof featureEffects> =>
    featureEffects(s, examples, {
      threads: o.threads,
      signal: o.signal,
      onProgress: (done) => o.onProgress?.({ stage: 'effects', done: before + done, total }),
    });
  o.onProgress?.({ stage: 'effects', done: 0, total });
  let ea;
  let eb;
  try {
    ea = await measure(a, 0);
    eb = await measure(b, a.sae.dSae);
  } catch (e) {
    if (o.signal?.aborted) throw new BridgeCancelled();
    throw e;
  }
  if (ea.vocab !== eb.vocab)
    throw new Error(`the two models' logits have ${ea.vocab} and ${eb.vocab} tokens`);
  const ins = db.prepare(
    'insert or replace into bridge_features(side, idx, n_active, gain) values (?, ?, ?, ?)',
  );
  db.transaction(() => {
    ea.gain.forEach((g, j) => ins.run('a', j, g > 0 ? 1 : 0, g));
    eb.gain.forEach((g, j) => ins.run('b', j, g > 0 ? 1 : 0, g));
  })();
  return new DecoderScorer(gemm, ea.effects, ea.dSae, eb.effects, eb.dSae, ea.vocab);
}
