/**
 * The text-lm engine (models/PACK_FORMAT.md, kind text-lm): generation before and after
 * dials, and the SAE features active on a prompt. The model comes as ONNX graphs split at
 * the hook: `below` (input_ids, position_ids [batch, seq] and past.{l}.key/value [batch,
 * n_heads, past, d_head] of the layers up to the hook → hook_resid [batch, seq, d_model], the
 * residual at the hook, and present.{l}.key/value) and `above` (hook_resid and an additive
 * steering tensor [batch, seq, d_model], position_ids and the upper layers' past → logits
 * [batch, seq, vocab] and their present). A pack with SAEs at several hooks (`model.hooks`)
 * has a `middle` graph between each pair of consecutive hooks (the residual at one hook plus
 * its steering → next_hook_resid, the residual at the next; main/packs/textSegments).
 *
 * How a step runs (textStep.ts): at load the graphs are also merged into one "whole" graph
 * (mergedGraph.ts, main/runtime/onnxMerge) with a steering input per hook, so a step with no
 * pin/scale dial is one ORT run for every layer, the rows' add deltas fed at their hooks;
 * each ORT run has a fixed cost that four graphs paid four times. pin and scale need the
 * row's residual h at their hook: a step with them runs up to that hook, reads the dialled
 * features' codes from the steered row's h (TopK SAEs: an int8 product in ORT, exact where
 * it matters, main/runtime/saeRank; others in JS), turns its dials into a delta and runs on
 * from there with it; the graphs before and after such a stop run as one where a merged
 * prefix or tail of them exists (textGraphs.ts). The unsteered "before" row shares every run
 * with the steered one and never touches the SAE; nothing is computed twice. While the rows
 * of a batch have the same tokens (the prompt, and the tokens before a dial first changes
 * one), their cache and hook_resid below the first hook are the same: the step stops there
 * too, `below` runs for one row and every row takes its outputs. The merged graphs give the
 * split graphs' logits (the wired residuals keep their declared shapes, so ORT fuses the
 * same nodes); when the graphs cannot be merged, every step runs them one by one. With the
 * whole graph open, the split graphs (and merged prefixes and tails) open on first need.
 *
 * Steering (DESIGN.md §3) applies at every position, the prompt (BOS included) and each
 * generated token. add dials need no activations: their delta is Σ v · W_dec[i] at every
 * position.
 *
 * "Before" is the same prompt with every dial at rest, the same seed and sampling. With a
 * dial off rest, before and after run as one batch of 2 (each row has its own PRNG with the
 * same seed; a row that reaches EOS leaves the batch); with none, one run serves both. A
 * before row an earlier generation made (a dial's earlier tick: the same prompt, seed,
 * sampling and budget) is reported again and the after row runs alone (generation.ts
 * KeptBefore; keepBefore).
 *
 * The KV cache lives in buffers reused for the whole generation (and the next ones), read as
 * each step's past without a copy (kvCache.ts); each step after the prompt feeds one token
 * per row, its ids and positions written into reused buffers. When the graphs make each
 * present as Concat(past, new), as the recipe's export does, the new keys/values are exposed
 * as outputs (onnxExpose) and a step fetches only those, appending them in place (KvAppend):
 * onnxruntime-node returns every fetched output as a fresh copy, so fetching the presents
 * would copy the whole cache out of ORT twice a step. Other graphs keep whole presents,
 * written by ORT into the other of two buffers (KvInPlace).
 *
 * Prompts: BOS first when the manifest has bos_token_id (an empty prompt is BOS alone). A
 * prompt that leaves no room to generate within the model's context is rejected with
 * bad_input, never silently cut. Generation stops at EOS (not part of the output), at
 * maxTokens, or when the sequence fills the context.
 */
import path from 'node:path';
import type { z } from 'zod';
import {
  OrreryError,
  type ActiveOutput,
  type DialInput,
  type RuntimeInfo,
  type TextGenerateOutput,
} from '../../../preload/contract';
import { isHfModel, type SplitTextModel } from '../../packs/manifest';
import { textHooks, textSegments, type TextSegment } from '../../packs/textSegments';
import type { LoadedPack } from '../../packs/packReader';
import { loadSae, type Sae } from '../../sae';
import type { SelectionInput } from '../../../preload/contract/selections';
import type {
  EngineContext,
  SaeRows,
  TextActiveInput,
  TextEngineApi,
  TextGenerateInput,
} from '../engine';
import type { TensorLike } from '../onnx';
import { checkSaeHookName } from '../saeFit';
import { activeRows } from './activeRows';
import { ExampleTexts } from './exampleTexts';
import {
  checkCancelled,
  generateRows,
  KeptBefore,
  type DecodeCache,
  type GenerateMode,
  type RowState as GenRow,
  type Stepper,
} from './generation';
import { KvAppend, KvBuffers, KvInPlace, kvName, type NewKvNames, type StepCache } from './kvCache';
import type { SamplingParams } from './sampling';
import { planSteering, SaeCoders, type HookSteering } from './steerPlan';
import { checkPromptFits, corpusIds, firstReadRow, withBos } from './textRule';
import { openTextGraphs, type TextGraphs } from './textGraphs';
import { TextTokenizer } from './tokenizer';
import { emptyPast, textStep } from './textStep';

export { codedDelta } from './steerPlan';
export type { GenerateMode } from './generation';
export { INFO_EXAMPLES } from './exampleTexts';

type TextModel = SplitTextModel;
type GenerateOutput = z.output<typeof TextGenerateOutput>;
type ActiveResult = z.output<typeof ActiveOutput>;

export interface TextEngineOptions {
  /** ORT intra-op threads for the model sessions (default 1). */
  intraOpThreads?: number;
  /**
   * Keep the cache as whole presents (KvInPlace) even when the graphs make each present as
   * Concat(past, new) and the new keys/values alone could grow it (KvAppend, the default).
   * Tests compare the two.
   */
  wholePresents?: boolean;
  /**
   * Merge the split graphs into one whole graph for steps without pin/scale dials (default
   * true); false runs every step through the split graphs. Tests compare the two.
   */
  merge?: boolean;
  /** The model bytes its graphs besides the whole one may hold open (textGraphs keptBudget). */
  keepBytes?: number;
  /**
   * Report a before row an earlier generation made instead of making it again (default true:
   * a dial's ticks share their before, generation.ts KeptBefore); false always runs it (tests
   * of the batch, the benchmark's batch figures).
   */
  keepBefore?: boolean;
}

/** A KV cache outside the engine's buffers (forward()): past.{l}.key/value by name. */
export interface KvCache {
  past: Record<string, TensorLike>;
  batch: number;
  len: number;
}

interface StepResult {
  /** [batch, seq, vocab] */
  logits: Float32Array;
  /** [batch, seq, d_model] at the first hook (model.hook). */
  hook: Float32Array;
  /** [batch, seq, d_model] at every hook, before its steering. */
  hooks: Map<string, Float32Array>;
  kv: KvCache;
}

/** What steers the after row: its steering at each hook that has live dials. */
type RowSteering = ReadonlyMap<string, HookSteering>;
type RowState = GenRow<RowSteering>;

export class TextEngine implements TextEngineApi, Stepper<RowSteering> {
  readonly kind = 'text-lm' as const;
  private readonly model: TextModel;
  /** The hooks the graphs are split at, in layer order. */
  private readonly hooks: readonly string[];
  /** KV cache buffers of finished generations, for the next ones. */
  private readonly kvSpare: KvBuffers[] = [];
  /** TopK rankers by SAE id, made on first use by a pin/scale dial. */
  private readonly coders: SaeCoders;
  /** Before rows of recent generations (a dial's ticks share theirs), or null (keepBefore). */
  private readonly kept: KeptBefore | null;
  /** Every split graph's present.{l}.key/value → its new keys/values output (KvAppend). */
  private readonly splitNewKv: NewKvNames;

  private constructor(
    private readonly pack: LoadedPack,
    private readonly graphs: TextGraphs,
    readonly tokenizer: TextTokenizer,
    private readonly saes: ReadonlyMap<string, { sae: Sae; hook: string }>,
    private readonly examples: ExampleTexts,
    private readonly listed: RuntimeInfo['examples'],
    private readonly loadMs: number,
    private readonly threads: number,
    keepBefore: boolean,
  ) {
    const m = pack.manifest;
    if (m.kind !== 'text-lm' || isHfModel(m.model))
      throw new Error('unreachable: not a split pack');
    this.kept = keepBefore ? new KeptBefore() : null;
    this.model = m.model;
    this.hooks = textHooks(m.model);
    this.coders = new SaeCoders(threads);
    this.splitNewKv = new Map(graphs.segments.flatMap((g) => [...(g.newKv ?? [])]));
  }

  /**
   * Opens a text-lm pack: tokenizer, the graphs (textGraphs.ts: merged into one, or each
   * opened), SAEs (each SAE's d_in must equal the model's d_model) and the first
   * INFO_EXAMPLES examples. Errors are
   * OrreryError('bad_pack') naming the file or the SAE.
   */
  static async load(pack: LoadedPack, options: TextEngineOptions = {}): Promise<TextEngine> {
    const t0 = performance.now();
    const manifest = pack.manifest;
    if (manifest.kind !== 'text-lm') {
      throw new OrreryError('bad_pack', `pack ${manifest.id} is ${manifest.kind}, not text-lm`);
    }
    const model = manifest.model;
    if (isHfModel(model)) {
      throw new OrreryError(
        'bad_pack',
        `pack ${manifest.id} is a Hugging Face export; it runs in the Hugging Face engine`,
      );
    }
    const file = (rel: string): string => path.join(pack.dir, rel);
    if (typeof model.onnx === 'string') {
      throw new OrreryError(
        'bad_pack',
        `pack ${manifest.id}: ${model.onnx} is the single-graph layout of older packs; this ` +
          'version runs the graph split at the hook (PACK_FORMAT.md, text-lm): convert the ' +
          'pack with models/recipes/text/reexport.py (same weights, no retraining)',
      );
    }
    const graphFiles = model.onnx;
    let plan: TextSegment[];
    try {
      plan = textSegments({ ...model, onnx: graphFiles });
    } catch (e) {
      throw new OrreryError('bad_pack', `pack ${manifest.id}: ${(e as Error).message}`);
    }

    let tokenizer: TextTokenizer;
    try {
      tokenizer = await TextTokenizer.load(file(model.tokenizer), model.vocab_size);
    } catch (e) {
      throw new OrreryError('bad_pack', `pack ${manifest.id}: ${(e as Error).message}`);
    }

    const saes = new Map<string, { sae: Sae; hook: string }>();
    for (const ref of manifest.saes) {
      let sae: Sae;
      try {
        sae = await loadSae(file(ref.dir), { dIn: model.d_model });
      } catch (e) {
        throw new OrreryError(
          'bad_pack',
          `pack ${manifest.id}, SAE "${ref.id}": ${(e as Error).message}`,
        );
      }
      checkSaeHookName(ref, sae);
      saes.set(ref.id, { sae, hook: ref.hook });
    }
    const examples = new ExampleTexts(manifest.examples ? file(manifest.examples.texts) : null);
    const listed = await examples.listed();

    const threads = options.intraOpThreads ?? 1;
    const graphs = await openTextGraphs({
      packId: manifest.id,
      dir: pack.dir,
      plan,
      model,
      hooks: textHooks(model),
      threads,
      wholePresents: options.wholePresents ?? false,
      merge: options.merge ?? true,
      ...(options.keepBytes === undefined ? {} : { keepBytes: options.keepBytes }),
    });
    return new TextEngine(
      pack,
      graphs,
      tokenizer,
      saes,
      examples,
      listed,
      performance.now() - t0,
      threads,
      options.keepBefore ?? true,
    );
  }

  info(): RuntimeInfo {
    return {
      packId: this.pack.manifest.id,
      kind: 'text-lm',
      saes: [...this.saes].map(([id, { sae, hook }]) => ({
        id,
        hook,
        dIn: sae.dIn,
        dSae: sae.dSae,
        architecture: sae.architecture,
      })),
      examples: this.listed,
      charset: null,
      loadMs: this.loadMs,
    };
  }

  async dispose(): Promise<void> {
    await this.graphs.release();
    await this.coders.dispose();
  }

  /** The prompt as the model reads it: BOS (when the model has one), then the text's ids. */
  promptIds(prompt: string): number[] {
    return withBos(this.tokenizer.encode(prompt), this.model.bos_token_id);
  }

  generate(input: TextGenerateInput, ctx: EngineContext): Promise<GenerateOutput> {
    return this.generateWith(input, ctx, {});
  }

  /** generate() with a choice of KV cache and batching (the benchmark compares them). */
  async generateWith(
    input: TextGenerateInput,
    ctx: EngineContext,
    mode: GenerateMode,
  ): Promise<GenerateOutput> {
    const t0 = performance.now();
    const cache = mode.cache ?? true;
    const batched = mode.batched ?? true;
    const steering = this.planSteering(input.dials);
    if (steering) await this.coders.prepare([...steering.values()].flatMap((at) => at.coded));
    const prompt = this.promptIds(input.prompt);
    const context = this.model.context;
    checkPromptFits(prompt.length, context, 1);
    checkCancelled(ctx);
    const { maxTokens, temperature, topK, topP, seed } = input.sampling;
    const params: SamplingParams = { temperature, topK, topP };
    const limit = Math.min(maxTokens, context - prompt.length);
    const eos = mode.ignoreEos ? undefined : this.model.eos_token_id;
    const run = await generateRows(
      this,
      this.tokenizer,
      { prompt, steering, params, seed, limit, eos, cache, batched },
      ctx,
      this.kept,
    );
    return {
      before: run.before,
      after: run.after,
      promptTokens: prompt.map((id) => this.tokenizer.tokenText(id)),
      ms: performance.now() - t0,
      batched: run.batched,
    };
  }

  /** The features of one SAE active at each prompt token, and each feature's strongest value. */
  async active(input: TextActiveInput, ctx: EngineContext): Promise<ActiveResult> {
    const { sae, hook } = this.steerableSae(input.saeId, null);
    const prompt = this.promptIds(input.prompt);
    if (prompt.length === 0) return { rows: [], strongest: [] };
    checkPromptFits(prompt.length, this.model.context, 0);
    checkCancelled(ctx);
    const f = sae.encode(await this.hookResid([prompt], hook), prompt.length);
    return activeRows(
      f,
      sae.dSae,
      prompt,
      this.model.bos_token_id,
      (id) => this.tokenizer.tokenText(id),
      input.topK,
    );
  }

  /** Each token's hook activation for a text (BOS left out; the SAE's window, textRule). */
  async saeRows(saeId: string, input: SelectionInput, ctx: EngineContext): Promise<SaeRows> {
    const { sae, hook: at } = this.steerableSae(saeId, null);
    const text = 'text' in input ? input.text : await this.examples.text(input.source);
    const rule = { bos: this.model.bos_token_id, context: this.model.context };
    const { ids } = corpusIds(this.tokenizer.encode(text), rule, sae.config);
    checkCancelled(ctx);
    const d = this.model.d_model;
    const skip = firstReadRow(ids, this.model.bos_token_id);
    if (ids.length <= skip) return { sae, h: new Float32Array(0), n: 0 };
    const hook = await this.hookResid([ids], at);
    return { sae, h: hook.subarray(skip * d), n: ids.length - skip };
  }

  /** `count` of the pack's example texts, evenly spread over the file. */
  corpusSample(count: number): Promise<SelectionInput[]> {
    return this.examples.sample(count);
  }

  /**
   * One step outside generation (tests, tools): ids [batch][seq] at positions pos0 …
   * pos0+seq−1 after `past` (null = none), with steering [batch, seq, d_model] at the first
   * hook (a Float32Array) or at each hook named (a map). Returns the logits, the residual at
   * every hook and the cache including this step.
   */
  async forward(
    ids: readonly (readonly number[])[],
    pos0: number,
    past: KvCache | null,
    steering: Float32Array | ReadonlyMap<string, Float32Array>,
  ): Promise<StepResult> {
    const { n_heads: H, d_head: Dh, d_model: d } = this.model;
    const batch = ids.length;
    const seq = ids[0]?.length ?? 0;
    const { inputIds, positions } = this.idTensors(ids, pos0);
    const pastLen = past ? past.len : 0;
    const empty = { dims: [batch, H, 0, Dh], data: new Float32Array(0) };
    const pastOf = (l: number, kv: 'key' | 'value'): TensorLike =>
      past?.past[kvName('past', l, kv)] ?? empty;
    const pasts = (ls: number[]): Record<string, TensorLike> =>
      Object.fromEntries(
        ls.flatMap((l) => [
          [kvName('past', l, 'key'), pastOf(l, 'key')],
          [kvName('past', l, 'value'), pastOf(l, 'value')],
        ]),
      );
    const steerAt = (hook: string): Float32Array =>
      (steering instanceof Float32Array
        ? hook === this.model.hook
          ? steering
          : null
        : steering.get(hook)) ?? new Float32Array(batch * seq * d);
    const posT = { dims: [batch, seq], data: positions };
    const next: Record<string, TensorLike> = {};
    const hooks = new Map<string, Float32Array>();
    let h: Float32Array = new Float32Array(0);
    let logits: Float32Array = new Float32Array(0);
    for (const g of this.graphs.segments) {
      const feeds: Record<string, TensorLike> =
        g.from === null
          ? { input_ids: { dims: [batch, seq], data: inputIds }, position_ids: posT }
          : {
              hook_resid: { dims: [batch, seq, d], data: h },
              steering: { dims: [batch, seq, d], data: steerAt(g.from) },
              ...(g.positions ? { position_ids: posT } : {}),
            };
      const out = await (await g.session()).run({ ...feeds, ...pasts(g.layers) });
      for (const [name, t] of Object.entries(out)) {
        if (name.startsWith('present.')) next[name.replace('present.', 'past.')] = t;
      }
      if (g.to === null) logits = this.f32(out, 'logits');
      else hooks.set(g.to, (h = this.f32(out, g.output)));
    }
    return {
      logits,
      hook: hooks.get(this.model.hook) ?? new Float32Array(0),
      hooks,
      kv: { past: next, batch, len: pastLen + seq },
    };
  }

  /** The residual [batch, seq, d_model] at `hook` of a prompt from the start, unsteered: the graphs up to it alone. */
  private async hookResid(
    ids: readonly (readonly number[])[],
    hook: string,
  ): Promise<Float32Array> {
    const batch = ids.length;
    const seq = ids[0]?.length ?? 0;
    const d = this.model.d_model;
    const { inputIds, positions } = this.idTensors(ids, 0);
    const posT = { dims: [batch, seq], data: positions };
    let h: Float32Array = new Float32Array(0);
    for (const g of this.graphs.segments) {
      if (g.to === null) break;
      const feeds: Record<string, TensorLike> =
        g.from === null
          ? { input_ids: { dims: [batch, seq], data: inputIds }, position_ids: posT }
          : {
              hook_resid: { dims: [batch, seq, d], data: h },
              steering: { dims: [batch, seq, d], data: new Float32Array(batch * seq * d) },
              ...(g.positions ? { position_ids: posT } : {}),
            };
      const session = await g.session();
      const out = await session.run({ ...feeds, ...this.emptyPast(g.layers, batch) }, [g.output]);
      h = this.f32(out, g.output);
      if (g.to === hook) return h;
    }
    throw new OrreryError('internal', `text graph: no graph gives the residual at ${hook}`);
  }

  private idTensors(
    ids: readonly (readonly number[])[],
    pos0: number,
  ): { inputIds: BigInt64Array; positions: BigInt64Array } {
    const batch = ids.length;
    const seq = ids[0]?.length ?? 0;
    const inputIds = new BigInt64Array(batch * seq);
    const positions = new BigInt64Array(batch * seq);
    ids.forEach((row, b) => {
      for (let t = 0; t < seq; t++) {
        inputIds[b * seq + t] = BigInt(row[t] ?? 0);
        positions[b * seq + t] = BigInt(pos0 + t);
      }
    });
    return { inputIds, positions };
  }

  /** Dials → the after row's steering at each hook; null when every dial is at rest. */
  private planSteering(dials: readonly DialInput[]): RowSteering | null {
    return planSteering(dials, (saeId, k) => this.steerableSae(saeId, k));
  }

  /** The SAE a dial or an active() call names; it must read a hook the graphs are split at. */
  private steerableSae(saeId: string, dialIndex: number | null): { sae: Sae; hook: string } {
    const at = dialIndex === null ? '' : `dial ${dialIndex}: `;
    const entry = this.saes.get(saeId);
    if (!entry) {
      const known = [...this.saes.keys()].map((k) => `"${k}"`).join(', ') || 'none';
      throw new OrreryError(
        'bad_input',
        `${at}pack ${this.pack.manifest.id} has no SAE "${saeId}" (it has ${known})`,
      );
    }
    if (!this.hooks.includes(entry.hook)) {
      throw new OrreryError(
        'bad_input',
        `${at}SAE "${saeId}" reads ${entry.hook}, but this model's graphs expose only ` +
          this.hooks.join(', '),
      );
    }
    return entry;
  }

  get vocab(): number {
    return this.model.vocab_size;
  }

  /** Cache buffers for a generation (a spare one from an earlier call, or new ones). */
  openCache(rows: number, cache: boolean): DecodeCache {
    const buffers = this.takeKvBuffers();
    const kv: StepCache | null = !cache
      ? null
      : this.graphs.appendable
        ? new KvAppend(buffers, this.model, rows, this.splitNewKv)
        : new KvInPlace(buffers, this.model, rows);
    return { kv, buffers, close: () => this.kvSpare.push(buffers) };
  }

  /**
   * One step for the live rows: ids [rows, seq] at the positions after the cache (or from 0
   * without one), each row with its steering; the logits [rows, seq, vocab]. The graphs it
   * runs, and where it stops between them, are textStep's.
   */
  step(
    rows: readonly RowState[],
    ids: BigInt64Array,
    seq: number,
    kv: StepCache | null,
    buf: KvBuffers,
  ): Promise<Float32Array> {
    return textStep(this.graphs, this.model, this.hooks, rows, ids, seq, kv, buf);
  }

  /** past.{l}.key/value of the layers `ls`, empty, for a batch of B. */
  private emptyPast(ls: readonly number[], B: number): Record<string, TensorLike> {
    return emptyPast(this.model, ls, B);
  }

  private f32(out: Record<string, TensorLike>, name: string): Float32Array {
    const t = out[name];
    if (!t || !(t.data instanceof Float32Array)) {
      throw new OrreryError('internal', `text graph: output ${name} is not float32`);
    }
    return t.data;
  }

  /** Cache buffers for a generation: a spare one from an earlier call, or new ones. */
  private takeKvBuffers(): KvBuffers {
    return (
      this.kvSpare.pop() ??
      new KvBuffers(this.model, this.graphs.appendable ? 1 : 2, this.hooks.length)
    );
  }
}
