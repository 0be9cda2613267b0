/**
 * Generation before and after dials, shared by every text engine (the split-graph pack engine
 * and the Hugging Face decoder engine): rows in lockstep from one prompt, each with its own
 * seeded PRNG; EOS, the token budget and the context end a row; finished rows leave the
 * batch; each new token streams to the caller. An engine supplies only its step (ids at the
 * positions after the cache → logits) and its cache.
 *
 * "Before" is the same prompt with every dial at rest, the same seed and sampling. With a
 * dial off rest, before and after run as one batch of 2 (or one after the other when
 * `batched` is false); with none, one run serves both and streams as both rows. A before row
 * an earlier generation made (KeptBefore: a dial's earlier tick) is not made again.
 */
import type { z } from 'zod';
import { OrreryError, type TextGenerateOutput } from '../../../preload/contract';
import type { EngineContext } from '../engine';
import type { KvBuffers, StepCache } from './kvCache';
import { Prng, sampleToken, type SamplingParams } from './sampling';
import type { TextTokenizer } from './tokenizer';

export type Row = 'before' | 'after';
export type TextRun = z.output<typeof TextGenerateOutput>['before'];

export interface RowState<S> {
  row: Row;
  /** What steers this row (engine-specific), null for an unsteered row. */
  steering: S | null;
  rng: Prng;
  ids: number[];
  pieces: string[];
  stream: ReturnType<TextTokenizer['stream']>;
}

/** The cache and buffers of one decode: `kv` null when the cache is off. */
export interface DecodeCache {
  kv: StepCache | null;
  buffers: KvBuffers;
  /** Hands the buffers back for the next generation. */
  close(): void;
}

/** What a text engine gives the shared generation loop. */
export interface Stepper<S> {
  readonly vocab: number;
  /** Buffers and cache for `rows` rows of at most `positions` positions. */
  openCache(rows: number, cache: boolean, positions: number): DecodeCache;
  /**
   * One step for the live rows: ids [rows, seq] at the positions after the cache (or from 0
   * without one), each row with its steering → logits [rows, seq, vocab].
   */
  step(
    rows: readonly RowState<S>[],
    ids: BigInt64Array,
    seq: number,
    kv: StepCache | null,
    buf: KvBuffers,
  ): Promise<Float32Array>;
}

/** How generate() runs; the defaults are what the app uses, the rest serve the benchmark. */
export interface GenerateMode {
  /** Reuse the KV cache (default true); false recomputes the whole sequence every step. */
  cache?: boolean;
  /** Before and after in one batch of 2 when a dial is active (default true). */
  batched?: boolean;
  /** Benchmark only: never stop at EOS, so every run generates the whole token budget. */
  ignoreEos?: boolean;
}

export interface GenerationPlan<S> {
  prompt: readonly number[];
  /** The after row's steering; null when every dial is at rest. */
  steering: S | null;
  params: SamplingParams;
  seed: number;
  /** Tokens per row at most. */
  limit: number;
  eos: number | undefined;
  cache: boolean;
  batched: boolean;
}

export function checkCancelled(ctx: EngineContext): void {
  if (ctx.signal.aborted) throw new OrreryError('cancelled', 'text generation was cancelled');
}

/**
 * The "before" rows of recent generations, by everything a before row depends on: the
 * prompt's ids, the seed, the sampling, the token budget and EOS. Every tick of a dial has the
 * same before (the same prompt with every dial at rest, DESIGN.md §3), so a generation that
 * finds its before here reports it again, its tokens streamed at once, and runs the after row
 * alone. A few are kept, the least recently used dropped: a session steers one prompt at a
 * time.
 */
export class KeptBefore {
  private readonly runs = new Map<string, TextRun>();

  constructor(private readonly max = 8) {}

  private static key(plan: GenerationPlan<unknown>): string {
    // every sampling parameter (a field added to SamplingParams is part of the key)
    const { prompt, seed, params, limit, eos } = plan;
    return JSON.stringify([prompt, seed, params, limit, eos ?? null]);
  }

  /** The kept before row of `plan` (a copy), or undefined. */
  get(plan: GenerationPlan<unknown>): TextRun | undefined {
    const key = KeptBefore.key(plan);
    const run = this.runs.get(key);
    if (!run) return undefined;
    this.runs.delete(key);
    this.runs.set(key, run);
    return copyRun(run);
  }

  set(plan: GenerationPlan<unknown>, run: TextRun): void {
    const key = KeptBefore.key(plan);
    this.runs.delete(key);
    this.runs.set(key, copyRun(run));
    for (const old of this.runs.keys()) {
      if (this.runs.size <= this.max) break;
      this.runs.delete(old);
    }
  }
}

/** A run whose arrays are its own (a kept run is never shared with a caller). */
const copyRun = (run: TextRun): TextRun => ({
  ...run,
  tokens: [...run.tokens],
  tokenIds: [...run.tokenIds],
});

/** Finished before and after rows; `after` is `before` when nothing steers. */
export interface Generated {
  before: TextRun;
  after: TextRun;
  /** Whether before and after ran as one batch (not when before was kept: after ran alone). */
  batched: boolean;
}

/**
 * Runs before and after (`after` is `before` when nothing steers). With `kept`, a before
 * row found there is not run again (only the after row is), and one that runs is kept.
 */
export async function generateRows<S>(
  model: Stepper<S>,
  tokenizer: TextTokenizer,
  plan: GenerationPlan<S>,
  ctx: EngineContext,
  kept: KeptBefore | null = null,
): Promise<Generated> {
  const newRow = (row: Row, s: S | null): RowState<S> => ({
    row,
    steering: s,
    rng: new Prng(plan.seed),
    ids: [],
    pieces: [],
    stream: tokenizer.stream(),
  });
  const found = kept?.get(plan);
  if (found) {
    const as: Row[] = plan.steering === null ? ['before', 'after'] : ['before'];
    found.tokens.forEach((text, i) => {
      for (const row of as) ctx.token?.(row, i, found.tokenIds[i] as number, text);
    });
    if (plan.steering === null) {
      return { before: found, after: found, batched: false };
    }
    const after = newRow('after', plan.steering);
    await decodeRows(model, [after], plan, ctx);
    return { before: found, after: finishRow(tokenizer, after), batched: false };
  }
  const before = newRow('before', null);
  const done = (after: RowState<S> | null, batched: boolean): Generated => {
    const b = finishRow(tokenizer, before);
    kept?.set(plan, b);
    return { before: b, after: after ? finishRow(tokenizer, after) : b, batched };
  };
  if (plan.steering === null) {
    await decodeRows(model, [before], plan, ctx, ['before', 'after']);
    return done(null, false);
  }
  const after = newRow('after', plan.steering);
  if (plan.batched) {
    await decodeRows(model, [before, after], plan, ctx);
    return done(after, true);
  }
  await decodeRows(model, [before], plan, ctx);
  await decodeRows(model, [after], plan, ctx);
  return done(after, false);
}

/**
 * Generates for each row in lockstep from the same prompt, as one batch. A row is done at
 * EOS, at `limit` tokens, or when the sequence fills the context; done rows leave the
 * batch. `streamAs` names the rows a token is reported for (default: the row's own).
 *
 * With the cache, the prompt runs once and each later step feeds one token per row. Without
 * it, every step runs the whole sequence.
 */
export async function decodeRows<S>(
  model: Stepper<S>,
  rows: RowState<S>[],
  plan: GenerationPlan<S>,
  ctx: EngineContext,
  streamAs?: Row[],
): Promise<void> {
  const V = model.vocab;
  const { prompt, params, limit, eos } = plan;
  const opened = model.openCache(rows.length, plan.cache, prompt.length + limit);
  const { kv, buffers } = opened;
  // The ids fed this step, [live, seq]: the prompt first, then (cached) each row's last
  // token; without a cache, the whole sequence, each row's new token written once.
  const ids = buffers.ids;
  try {
    let live = rows;
    let seq = prompt.length;
    live.forEach((_, b) => prompt.forEach((id, t) => (ids[b * seq + t] = BigInt(id))));
    for (;;) {
      checkCancelled(ctx);
      const logits = await model.step(live, ids.subarray(0, live.length * seq), seq, kv, buffers);
      const keep: number[] = [];
      live.forEach((r, b) => {
        const o = (b * seq + seq - 1) * V;
        const token = sampleToken(logits.subarray(o, o + V), params, r.rng);
        if (token === eos) return; // done; EOS is not part of the text
        const index = r.ids.length;
        r.ids.push(token);
        const text = r.stream.push(token);
        r.pieces.push(text);
        for (const as of streamAs ?? [r.row]) ctx.token?.(as, index, token, text);
        if (r.ids.length < limit) keep.push(b);
      });
      if (keep.length === 0) return;
      if (keep.length < live.length) {
        if (kv) kv.keep(keep);
        else keep.forEach((b, k) => ids.copyWithin(k * seq, b * seq, (b + 1) * seq));
        live = keep.map((b) => live[b] as RowState<S>);
      }
      if (kv) {
        seq = 1;
        live.forEach((r, b) => (ids[b] = BigInt(r.ids.at(-1) ?? 0)));
      } else {
        // Rows are [seq] apart: each row's ids move to their place [seq + 1] apart (from
        // the last row down; the first stays), its new token goes after them.
        const next = seq + 1;
        for (let b = live.length - 1; b >= 0; b--) {
          if (b > 0) ids.copyWithin(b * next, b * seq, (b + 1) * seq);
          ids[b * next + seq] = BigInt(live[b]?.ids.at(-1) ?? 0);
        }
        seq = next;
      }
    }
  } finally {
    opened.close();
  }
}

/** A finished row as the contract reports it (the stream's held-back bytes on the last piece). */
export function finishRow<S>(tokenizer: TextTokenizer, r: RowState<S>): TextRun {
  const tokens = [...r.pieces];
  const rest = r.stream.flush();
  if (rest && tokens.length > 0) tokens[tokens.length - 1] += rest;
  return { text: tokenizer.decode(r.ids), tokens, tokenIds: [...r.ids] };
}
