/**
 * The text-lm engine (models/PACK_FORMAT.md, kind text-lm): generation before and after
 * dials, and the SAE features active on a prompt. The model comes as two ONNX graphs split
 * at the hook: `below` (input_ids, position_ids [batch, seq] and past.{l}.key/value [batch,
 * n_heads, past, d_head] of the layers up to the hook → hook_resid [batch, seq, d_model], the
 * residual at the hook, and present.{l}.key/value) and `above` (hook_resid and an additive
 * steering tensor [batch, seq, d_model], position_ids and the upper layers' past → logits
 * [batch, seq, vocab] and their present). One pair of calls serves the prompt and every
 * cached step.
 *
 * Steering (DESIGN.md §3) applies at every position, the prompt (BOS included) and each
 * generated token. add dials need no activations: their delta is Σ v · W_dec[i] at every
 * position. pin and scale need h, which `below` gives for every row anyway: each step runs
 * `below` once for the whole batch, encodes the steered row's h (TopK SAEs in ORT, a graph
 * built from the SAE's weights, main/runtime/saeTopk; others in JS) to turn its dials into a
 * delta, and runs `above` once for the whole batch with the deltas. The unsteered "before"
 * row shares both calls and never touches the SAE; nothing is computed twice. While the rows
 * have the same tokens (the prompt, and the tokens before a dial first changes one), their
 * cache and hook_resid below the hook are the same: `below` then runs for one row and every
 * row takes its outputs.
 *
 * "Before" is the same prompt with every dial at rest, the same seed and sampling. With a
 * dial off rest, before and after run as one batch of 2 (each row has its own PRNG with the
 * same seed; a row that reaches EOS leaves the batch); with none, one run serves both.
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
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import {
  OrreryError,
  type ActiveOutput,
  type DialInput,
  type RuntimeInfo,
  type TextGenerateOutput,
} from '../../../preload/contract';
import { isHfModel, textHookLayer, type SplitTextModel } from '../../packs/manifest';
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
import { OnnxSession, type TensorLike } from '../onnx';
import { exposeOutputs, graphNodes } from '../onnxExpose';
import { checkSaeHookName } from '../saeFit';
import { activeRows } from './activeRows';
import { ExampleTexts } from './exampleTexts';
import {
  checkCancelled,
  finishRow,
  generateRows,
  type DecodeCache,
  type RowState as GenRow,
  type Stepper,
} from './generation';
import { KvAppend, KvBuffers, KvInPlace, kvName, newKvTensors, type StepCache } from './kvCache';
import type { SamplingParams } from './sampling';
import { codedDelta, planSteering, SaeCoders, type HookSteering } from './steerPlan';
import { checkPromptFits, corpusIds, firstReadRow, withBos } from './textRule';
import { TextTokenizer } from './tokenizer';

export { codedDelta } from './steerPlan';
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

/** A KV cache outside the engine's buffers (forward()): past.{l}.key/value by name. */
export interface KvCache {
  past: Record<string, TensorLike>;
  batch: number;
  len: number;
}

interface StepResult {
  /** [batch, seq, vocab] */
  logits: Float32Array;
  /** [batch, seq, d_model] */
  hook: Float32Array;
  kv: KvCache;
}

/** What steers the after row: the one hook's steering. */
type RowSteering = HookSteering;
type RowState = GenRow<RowSteering>;

/** The two graphs and which layers' caches each holds. */
interface Graphs {
  below: OnnxSession;
  above: OnnxSession;
  /** Layers in `below` (0 … hook) and in `above` (hook + 1 … n_layers − 1). */
  lower: number[];
  upper: number[];
  /** Whether `above` reads position_ids (it has layers of its own). */
  abovePositions: boolean;
  /** present.{l}.key/value → the exposed output with only the new positions (KvAppend). */
  newKv: ReadonlyMap<string, string> | null;
}

export class TextEngine implements TextEngineApi, Stepper<RowSteering> {
  readonly kind = 'text-lm' as const;
  private readonly model: TextModel;
  /** KV cache buffers of finished generations, for the next ones. */
  private readonly kvSpare: KvBuffers[] = [];
  /** TopK encoders by SAE id, made on first use by a pin/scale dial. */
  private readonly coders: SaeCoders;

  private constructor(
    private readonly pack: LoadedPack,
    private readonly graphs: Graphs,
    readonly tokenizer: TextTokenizer,
    private readonly saes: ReadonlyMap<string, { sae: Sae; hook: string }>,
    private readonly examples: ExampleTexts,
    private readonly listed: RuntimeInfo['examples'],
    private readonly loadMs: number,
    private readonly threads: number,
  ) {
    const m = pack.manifest;
    if (m.kind !== 'text-lm' || isHfModel(m.model))
      throw new Error('unreachable: not a split pack');
    this.model = m.model;
    this.coders = new SaeCoders(threads);
  }

  /**
   * Opens a text-lm pack: tokenizer, the two ONNX sessions, SAEs (each SAE's d_in must equal
   * the model's d_model) and the first INFO_EXAMPLES examples. Errors are
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
    const hookLayer = textHookLayer(model.hook, model.n_layers);
    if (hookLayer === null) {
      throw new OrreryError(
        'bad_pack',
        `pack ${manifest.id}: model.hook "${model.hook}" is not blocks.<layer>.hook_resid_post`,
      );
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
    const layers = (from: number, to: number): number[] =>
      Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
    const lower = layers(0, hookLayer + 1);
    const upper = layers(hookLayer + 1, model.n_layers);
    // Each graph with its layers' new keys/values exposed as outputs when it makes every
    // present as Concat(past, new): the cache then grows by those alone (KvAppend).
    const open = async (
      rel: string,
      ls: number[],
    ): Promise<{ session: OnnxSession; newKv: Map<string, string> | null }> => {
      try {
        const bytes = new Uint8Array(await fs.readFile(file(rel)));
        const newKv = options.wholePresents ? null : newKvTensors(graphNodes(bytes), ls);
        const exposed = [...(newKv?.values() ?? [])].map((name) => ({
          name,
          type: 'float32' as const,
          shape: ['batch', model.n_heads, 'seq', model.d_head],
        }));
        const session = await OnnxSession.create(exposeOutputs(bytes, exposed), {
          intraOpThreads: threads,
        });
        return { session, newKv };
      } catch (e) {
        throw new OrreryError(
          'bad_pack',
          `pack ${manifest.id}: ${rel} cannot be loaded by ONNX Runtime (${(e as Error).message})`,
        );
      }
    };
    const low = await open(model.onnx.below, lower);
    const below = low.session;
    let high: Awaited<ReturnType<typeof open>>;
    try {
      high = await open(model.onnx.above, upper);
    } catch (e) {
      await below.release();
      throw e;
    }
    const above = high.session;
    const newKv = low.newKv && high.newKv ? new Map([...low.newKv, ...high.newKv]) : null;
    const want = (g: OnnxSession, rel: string, ins: string[], outs: string[]): string[] => {
      const i = new Set(g.inputs.map((x) => x.name));
      const o = new Set(g.outputs.map((x) => x.name));
      return [
        ...ins.filter((n) => !i.has(n)).map((n) => `${rel} input ${n}`),
        ...outs.filter((n) => !o.has(n)).map((n) => `${rel} output ${n}`),
      ];
    };
    const kvNames = (io: 'past' | 'present', ls: number[]): string[] =>
      ls.flatMap((l) => [kvName(io, l, 'key'), kvName(io, l, 'value')]);
    const missing = [
      ...want(
        below,
        model.onnx.below,
        ['input_ids', 'position_ids', ...kvNames('past', lower)],
        ['hook_resid', ...kvNames('present', lower)],
      ),
      ...want(
        above,
        model.onnx.above,
        [
          'hook_resid',
          'steering',
          ...(upper.length > 0 ? ['position_ids'] : []),
          ...kvNames('past', upper),
        ],
        ['logits', ...kvNames('present', upper)],
      ),
    ];
    if (missing.length > 0) {
      await below.release();
      await above.release();
      throw new OrreryError(
        'bad_pack',
        `pack ${manifest.id}: the graphs lack ${missing.join(', ')} (see PACK_FORMAT.md, text-lm)`,
      );
    }
    const abovePositions = above.inputs.some((x) => x.name === 'position_ids');
    return new TextEngine(
      pack,
      { below, above, lower, upper, abovePositions, newKv },
      tokenizer,
      saes,
      examples,
      listed,
      performance.now() - t0,
      threads,
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
    await this.graphs.below.release();
    await this.graphs.above.release();
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
    if (steering) await this.coders.prepare(steering.coded);
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
    );
    return {
      before: finishRow(this.tokenizer, run.before),
      after: finishRow(this.tokenizer, run.after),
      promptTokens: prompt.map((id) => this.tokenizer.tokenText(id)),
      ms: performance.now() - t0,
      batched: run.batched,
    };
  }

  /** The features of one SAE active at each prompt token, and each feature's strongest value. */
  async active(input: TextActiveInput, ctx: EngineContext): Promise<ActiveResult> {
    const { sae } = this.steerableSae(input.saeId, null);
    const prompt = this.promptIds(input.prompt);
    if (prompt.length === 0) return { rows: [], strongest: [] };
    checkPromptFits(prompt.length, this.model.context, 0);
    checkCancelled(ctx);
    const f = sae.encode(await this.hookResid([prompt]), prompt.length);
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
    const { sae } = this.steerableSae(saeId, null);
    const text = 'text' in input ? input.text : await this.examples.text(input.source);
    const rule = { bos: this.model.bos_token_id, context: this.model.context };
    const { ids } = corpusIds(this.tokenizer.encode(text), rule, sae.config);
    checkCancelled(ctx);
    const d = this.model.d_model;
    const skip = firstReadRow(ids, this.model.bos_token_id);
    if (ids.length <= skip) return { sae, h: new Float32Array(0), n: 0 };
    const hook = await this.hookResid([ids]);
    return { sae, h: hook.subarray(skip * d), n: ids.length - skip };
  }

  /** `count` of the pack's example texts, evenly spread over the file. */
  corpusSample(count: number): Promise<SelectionInput[]> {
    return this.examples.sample(count);
  }

  /**
   * One step outside generation (tests, tools): ids [batch][seq] at positions pos0 …
   * pos0+seq−1 after `past` (null = none), with steering [batch, seq, d_model]. Returns the
   * logits, hook_resid and the cache including this step.
   */
  async forward(
    ids: readonly (readonly number[])[],
    pos0: number,
    past: KvCache | null,
    steering: Float32Array,
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
    const g = this.graphs;
    const low = await g.below.run({
      input_ids: { dims: [batch, seq], data: inputIds },
      position_ids: { dims: [batch, seq], data: positions },
      ...pasts(g.lower),
    });
    const hook = this.f32(low, 'hook_resid');
    const high = await g.above.run({
      hook_resid: { dims: [batch, seq, d], data: hook },
      steering: { dims: [batch, seq, d], data: steering },
      ...(g.abovePositions ? { position_ids: { dims: [batch, seq], data: positions } } : {}),
      ...pasts(g.upper),
    });
    const next: Record<string, TensorLike> = {};
    for (const [name, t] of Object.entries({ ...low, ...high })) {
      if (name.startsWith('present.')) next[name.replace('present.', 'past.')] = t;
    }
    return {
      logits: this.f32(high, 'logits'),
      hook,
      kv: { past: next, batch, len: pastLen + seq },
    };
  }

  /** hook_resid [batch, seq, d_model] of a prompt from the start: `below` alone. */
  private async hookResid(ids: readonly (readonly number[])[]): Promise<Float32Array> {
    const batch = ids.length;
    const seq = ids[0]?.length ?? 0;
    const { inputIds, positions } = this.idTensors(ids, 0);
    const out = await this.graphs.below.run(
      {
        input_ids: { dims: [batch, seq], data: inputIds },
        position_ids: { dims: [batch, seq], data: positions },
        ...this.emptyPast(this.graphs.lower, batch),
      },
      ['hook_resid'],
    );
    return this.f32(out, 'hook_resid');
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

  /** Dials → the after row's steering at the hook; null when every dial is at rest. */
  private planSteering(dials: readonly DialInput[]): RowSteering | null {
    const plan = planSteering(dials, (saeId, k) => this.steerableSae(saeId, k));
    return plan?.get(this.model.hook) ?? null;
  }

  /** The SAE a dial or an active() call names; it must read the hook the graph exposes. */
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
    if (entry.hook !== this.model.hook) {
      throw new OrreryError(
        'bad_input',
        `${at}SAE "${saeId}" reads ${entry.hook}, but this model's graph exposes only ${this.model.hook}`,
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
    const newKv = this.graphs.newKv;
    const kv: StepCache | null = !cache
      ? null
      : newKv
        ? new KvAppend(buffers, this.model, rows, newKv)
        : new KvInPlace(buffers, this.model, rows);
    return { kv, buffers, close: () => this.kvSpare.push(buffers) };
  }

  /**
   * One step for the live rows: ids [rows, seq] at the positions after the cache (or from 0
   * without one), each row with its steering; the logits [rows, seq, vocab].
   *
   * `below` runs once for all rows and gives hook_resid; a row with pin/scale dials turns
   * its own h into a delta (the SAE encode runs for that row only); `above` runs once for
   * all rows on h plus each row's delta. With a cache, ORT writes every layer's present
   * straight into the cache's other buffers, and hook_resid and one-token logits into
   * buffers reused from step to step.
   */
  async step(
    rows: readonly RowState[],
    ids: BigInt64Array,
    seq: number,
    kv: StepCache | null,
    buf: KvBuffers,
  ): Promise<Float32Array> {
    const { d_model: d, vocab_size: V } = this.model;
    const g = this.graphs;
    const B = rows.length;
    const pos0 = kv ? kv.len : 0;
    const positions = buf.positions.subarray(0, B * seq);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < seq; t++) positions[b * seq + t] = BigInt(pos0 + t);
    }
    const idsT = { dims: [B, seq], data: ids };
    const posT = { dims: [B, seq], data: positions };
    const hookT = { dims: [B, seq, d], data: buf.hook.subarray(0, B * seq * d) };
    if (kv && B > 1 && sameSoFar(rows)) {
      // Rows with the same tokens so far (the prompt, and after it until a dial changes a
      // token) have the same cache and hook_resid below the hook: `below` runs for the
      // first row alone, and every row takes its keys, values and hook_resid.
      const n = seq * d;
      const low = await g.below.runInto(
        {
          input_ids: { dims: [1, seq], data: ids.subarray(0, seq) },
          position_ids: { dims: [1, seq], data: positions.subarray(0, seq) },
          ...kv.past(g.lower, 1),
        },
        {
          hook_resid: { dims: [1, seq, d], data: hookT.data.subarray(0, n) },
          ...kv.outputs(g.lower, seq, 1),
        },
      );
      kv.store(g.lower, low, seq, 1);
      for (let b = 1; b < B; b++) hookT.data.copyWithin(b * n, 0, n);
    } else if (kv) {
      const low = await g.below.runInto(
        { input_ids: idsT, position_ids: posT, ...kv.past(g.lower) },
        { hook_resid: hookT, ...kv.outputs(g.lower, seq) },
      );
      kv.store(g.lower, low, seq);
    } else {
      await g.below.runInto(
        { input_ids: idsT, position_ids: posT, ...this.emptyPast(g.lower, B) },
        { hook_resid: hookT },
      );
    }
    const h = hookT.data;

    const steering = buf.steering.subarray(0, B * seq * d);
    steering.fill(0);
    for (let b = 0; b < B; b++) {
      const st = rows[b]?.steering;
      if (!st) continue;
      const o = b * seq * d;
      if (st.constant) {
        for (let t = 0; t < seq; t++) steering.set(st.constant, o + t * d);
      }
      for (const group of st.coded) {
        const delta = await codedDelta(group, h.subarray(o, o + seq * d), seq);
        for (let i = 0; i < delta.length; i++) {
          steering[o + i] = (steering[o + i] ?? 0) + (delta[i] ?? 0);
        }
      }
    }

    const feeds = {
      hook_resid: hookT,
      steering: { dims: [B, seq, d], data: steering },
      ...(g.abovePositions ? { position_ids: posT } : {}),
    };
    if (!kv) {
      // No cache to keep: the presents are not even fetched.
      const out = await g.above.run({ ...feeds, ...this.emptyPast(g.upper, B) }, ['logits']);
      return this.f32(out, 'logits');
    }
    const out = await g.above.runInto(
      { ...feeds, ...kv.past(g.upper) },
      {
        logits: seq === 1 ? { dims: [B, 1, V], data: buf.logits.subarray(0, B * V) } : null,
        ...kv.outputs(g.upper, seq),
      },
    );
    kv.store(g.upper, out, seq);
    kv.advance(seq);
    return this.f32(out, 'logits');
  }

  /** past.{l}.key/value of the layers `ls`, empty, for a batch of B. */
  private emptyPast(ls: readonly number[], B: number): Record<string, TensorLike> {
    const { n_heads: H, d_head: Dh } = this.model;
    const empty = { dims: [B, H, 0, Dh], data: new Float32Array(0) };
    const out: Record<string, TensorLike> = {};
    for (const l of ls) {
      out[kvName('past', l, 'key')] = empty;
      out[kvName('past', l, 'value')] = empty;
    }
    return out;
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
    return this.kvSpare.pop() ?? new KvBuffers(this.model, this.graphs.newKv ? 1 : 2);
  }
}

/** Whether every row has generated the same tokens so far (so each is fed the same ids). */
function sameSoFar(rows: readonly RowState[]): boolean {
  const first = rows[0]?.ids ?? [];
  return rows.every((r) => r.ids.length === first.length && r.ids.every((t, i) => t === first[i]));
}
