/**
 * The text-lm engine (models/PACK_FORMAT.md, kind text-lm): generation before and after
 * dials, and the SAE features active on a prompt. The model comes as ONNX graphs split at
 * the hook: `below` (input_ids, position_ids [batch, seq] and past.{l}.key/value [batch,
 * n_heads, past, d_head] of the layers up to the hook → hook_resid [batch, seq, d_model], the
 * residual at the hook, and present.{l}.key/value) and `above` (hook_resid and an additive
 * steering tensor [batch, seq, d_model], position_ids and the upper layers' past → logits
 * [batch, seq, vocab] and their present). A pack with SAEs at several hooks (`model.hooks`)
 * has a `middle` graph between each pair of consecutive hooks (the residual at one hook plus
 * its steering → next_hook_resid, the residual at the next; main/packs/textSegments): a step
 * runs them in order, steering each hook with the dials of the SAEs that read it, so dials on
 * SAEs at different hooks work together in one run. One call per graph serves the prompt and
 * every cached step.
 *
 * Steering (DESIGN.md §3) applies at every position, the prompt (BOS included) and each
 * generated token. add dials need no activations: their delta is Σ v · W_dec[i] at every
 * position. pin and scale need h, which `below` gives for every row anyway: each step runs
 * `below` once for the whole batch, reads the dialled features' codes from the steered row's
 * h (TopK SAEs: an int8 product in ORT, exact where it matters, main/runtime/saeRank; others
 * in JS) to turn its dials into a delta, and runs `above` once for the whole batch with the
 * deltas. The unsteered "before" row shares both calls and never touches the SAE; nothing is
 * computed twice. While the rows have the same tokens (the prompt, and the tokens before a
 * dial first changes one), their cache and hook_resid below the hook are the same: `below`
 * then runs for one row and every row takes its outputs.
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
  /** [batch, seq, d_model] at the first hook (model.hook). */
  hook: Float32Array;
  /** [batch, seq, d_model] at every hook, before its steering. */
  hooks: Map<string, Float32Array>;
  kv: KvCache;
}

/** What steers the after row: its steering at each hook that has live dials. */
type RowSteering = ReadonlyMap<string, HookSteering>;
type RowState = GenRow<RowSteering>;

/** One graph with its session; `positions`: whether it reads position_ids. */
interface Segment extends TextSegment {
  session: OnnxSession;
  positions: boolean;
}

/** The graphs in run order (below, middle…, above) and how the cache grows. */
interface Graphs {
  segments: Segment[];
  /** present.{l}.key/value → the exposed output with only the new positions (KvAppend). */
  newKv: ReadonlyMap<string, string> | null;
}

export class TextEngine implements TextEngineApi, Stepper<RowSteering> {
  readonly kind = 'text-lm' as const;
  private readonly model: TextModel;
  /** The hooks the graphs are split at, in layer order. */
  private readonly hooks: readonly string[];
  /** KV cache buffers of finished generations, for the next ones. */
  private readonly kvSpare: KvBuffers[] = [];
  /** TopK rankers by SAE id, made on first use by a pin/scale dial. */
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
    this.hooks = textHooks(m.model);
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
    const segments: Segment[] = [];
    const release = async (): Promise<void> => {
      for (const g of segments) await g.session.release();
    };
    let newKv: Map<string, string> | null = new Map();
    try {
      for (const seg of plan) {
        const opened = await open(seg.rel, seg.layers);
        const positions = opened.session.inputs.some((x) => x.name === 'position_ids');
        segments.push({ ...seg, session: opened.session, positions });
        newKv = newKv && opened.newKv ? new Map([...newKv, ...opened.newKv]) : null;
      }
    } catch (e) {
      await release();
      throw e;
    }
    const kvNames = (io: 'past' | 'present', ls: number[]): string[] =>
      ls.flatMap((l) => [kvName(io, l, 'key'), kvName(io, l, 'value')]);
    const missing = segments.flatMap((g) => {
      const ins =
        g.from === null
          ? ['input_ids', 'position_ids']
          : ['hook_resid', 'steering', ...(g.layers.length > 0 ? ['position_ids'] : [])];
      const i = new Set(g.session.inputs.map((x) => x.name));
      const o = new Set(g.session.outputs.map((x) => x.name));
      return [
        ...[...ins, ...kvNames('past', g.layers)]
          .filter((n) => !i.has(n))
          .map((n) => `${g.rel} input ${n}`),
        ...[g.output, ...kvNames('present', g.layers)]
          .filter((n) => !o.has(n))
          .map((n) => `${g.rel} output ${n}`),
      ];
    });
    if (missing.length > 0) {
      await release();
      throw new OrreryError(
        'bad_pack',
        `pack ${manifest.id}: the graphs lack ${missing.join(', ')} (see PACK_FORMAT.md, text-lm)`,
      );
    }
    return new TextEngine(
      pack,
      { segments, newKv },
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
    for (const g of this.graphs.segments) await g.session.release();
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
      const out = await g.session.run({ ...feeds, ...pasts(g.layers) });
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
      const out = await g.session.run({ ...feeds, ...this.emptyPast(g.layers, batch) }, [g.output]);
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
   * `below` runs once for all rows and gives the residual at the first hook; at each hook a
   * row with pin/scale dials turns its own residual there into a delta (the SAE encode runs
   * for that row only), and the next graph (a middle one, then `above`) runs once for all rows
   * on the residual plus each row's delta. With a cache, ORT writes every layer's present
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
    const [below, ...rest] = this.graphs.segments;
    if (!below) throw new OrreryError('internal', 'text graph: no graphs');
    const B = rows.length;
    const pos0 = kv ? kv.len : 0;
    const positions = buf.positions.subarray(0, B * seq);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < seq; t++) positions[b * seq + t] = BigInt(pos0 + t);
    }
    const idsT = { dims: [B, seq], data: ids };
    const posT = { dims: [B, seq], data: positions };
    const hookT = { dims: [B, seq, d], data: buf.hook.subarray(0, B * seq * d) };
    const lower = below.layers;
    if (kv && B > 1 && sameSoFar(rows)) {
      // Rows with the same tokens so far (the prompt, and after it until a dial changes a
      // token) have the same cache and hook_resid below the first hook: `below` runs for the
      // first row alone, and every row takes its keys, values and hook_resid.
      const n = seq * d;
      const low = await below.session.runInto(
        {
          input_ids: { dims: [1, seq], data: ids.subarray(0, seq) },
          position_ids: { dims: [1, seq], data: positions.subarray(0, seq) },
          ...kv.past(lower, 1),
        },
        {
          hook_resid: { dims: [1, seq, d], data: hookT.data.subarray(0, n) },
          ...kv.outputs(lower, seq, 1),
        },
      );
      kv.store(lower, low, seq, 1);
      for (let b = 1; b < B; b++) hookT.data.copyWithin(b * n, 0, n);
    } else if (kv) {
      const low = await below.session.runInto(
        { input_ids: idsT, position_ids: posT, ...kv.past(lower) },
        { hook_resid: hookT, ...kv.outputs(lower, seq) },
      );
      kv.store(lower, low, seq);
    } else {
      await below.session.runInto(
        { input_ids: idsT, position_ids: posT, ...this.emptyPast(lower, B) },
        { hook_resid: hookT },
      );
    }
    let h = hookT.data;

    for (const g of rest) {
      const feeds = {
        hook_resid: { dims: [B, seq, d], data: h },
        steering: { dims: [B, seq, d], data: await this.steeringAt(g.from, rows, h, seq, buf) },
        ...(g.positions ? { position_ids: posT } : {}),
      };
      if (g.to !== null) {
        // A middle graph: the residual at the next hook (a fresh array from ORT).
        const out = kv
          ? await g.session.runInto(
              { ...feeds, ...kv.past(g.layers) },
              { next_hook_resid: null, ...kv.outputs(g.layers, seq) },
            )
          : await g.session.run({ ...feeds, ...this.emptyPast(g.layers, B) }, ['next_hook_resid']);
        kv?.store(g.layers, out, seq);
        h = this.f32(out, 'next_hook_resid');
        continue;
      }
      if (!kv) {
        // No cache to keep: the presents are not even fetched.
        const out = await g.session.run({ ...feeds, ...this.emptyPast(g.layers, B) }, ['logits']);
        return this.f32(out, 'logits');
      }
      const out = await g.session.runInto(
        { ...feeds, ...kv.past(g.layers) },
        {
          logits: seq === 1 ? { dims: [B, 1, V], data: buf.logits.subarray(0, B * V) } : null,
          ...kv.outputs(g.layers, seq),
        },
      );
      kv.store(g.layers, out, seq);
      kv.advance(seq);
      return this.f32(out, 'logits');
    }
    throw new OrreryError('internal', 'text graph: no graph gives logits');
  }

  /**
   * The steering [B, seq, d_model] added at `hook` (in buf.steering): each row's constant
   * delta there plus the deltas of its pin/scale SAEs at that hook, from the row's residual h.
   */
  private async steeringAt(
    hook: string | null,
    rows: readonly RowState[],
    h: Float32Array,
    seq: number,
    buf: KvBuffers,
  ): Promise<Float32Array> {
    const d = this.model.d_model;
    const steering = buf.steering.subarray(0, rows.length * seq * d);
    steering.fill(0);
    for (let b = 0; b < rows.length; b++) {
      const st = hook === null ? undefined : rows[b]?.steering?.get(hook);
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
    return steering;
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
