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
 * row shares both calls and never touches the SAE; nothing is computed twice.
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
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
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
import {
  dialDirection,
  isAtRest,
  loadSae,
  steer,
  SteeringError,
  validateDials,
  type Dial,
  type Sae,
} from '../../sae';
import type { SelectionInput } from '../../../preload/contract/selections';
import type {
  EngineContext,
  SaeRows,
  TextActiveInput,
  TextEngineApi,
  TextGenerateInput,
} from '../engine';
import { spreadIndices } from '../selectionMath';
import { OnnxSession, type TensorLike } from '../onnx';
import { exposeOutputs, graphNodes } from '../onnxExpose';
import { topkGraph, topkOf } from '../saeTopk';
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
import { TextTokenizer } from './tokenizer';

type TextModel = SplitTextModel;
type GenerateOutput = z.output<typeof TextGenerateOutput>;
type ActiveResult = z.output<typeof ActiveOutput>;

/** How many examples info() lists. */
export const INFO_EXAMPLES = 200;
const EXAMPLE_NAME_CHARS = 60;

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

/** The dials of one SAE for one row, as main/sae takes them. */
interface SaeDials {
  saeId: string;
  sae: Sae;
  /** Off rest, at least one of them pin or scale: steering needs hook_resid. */
  dials: Dial[];
  /** The SAE's TopK encoder in ORT (null: steer() encodes in JS). */
  coder: OnnxSession | null;
}

/** What steers one row: a delta that is the same at every position, plus h-dependent parts. */
interface RowSteering {
  /** [d_model] Σ of add-only SAE deltas, or null. */
  constant: Float32Array | null;
  /** SAEs with pin/scale dials, turned into a delta from each step's hook_resid. */
  coded: SaeDials[];
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
  /** The example texts' lines, read when a selection first needs them. */
  private lines: Promise<string[]> | null = null;
  /** TopK encoders by SAE id, made on first use by a pin/scale dial. */
  private readonly coders = new Map<string, Promise<OnnxSession | null>>();

  private constructor(
    private readonly pack: LoadedPack,
    private readonly graphs: Graphs,
    readonly tokenizer: TextTokenizer,
    private readonly saes: ReadonlyMap<string, { sae: Sae; hook: string }>,
    private readonly examples: RuntimeInfo['examples'],
    private readonly loadMs: number,
    private readonly threads: number,
  ) {
    const m = pack.manifest;
    if (m.kind !== 'text-lm' || isHfModel(m.model))
      throw new Error('unreachable: not a split pack');
    this.model = m.model;
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
      try {
        saes.set(ref.id, {
          sae: await loadSae(file(ref.dir), { dIn: model.d_model }),
          hook: ref.hook,
        });
      } catch (e) {
        throw new OrreryError(
          'bad_pack',
          `pack ${manifest.id}, SAE "${ref.id}": ${(e as Error).message}`,
        );
      }
    }
    const examples = manifest.examples ? await readExamples(file(manifest.examples.texts)) : [];

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
      examples: this.examples,
      charset: null,
      loadMs: this.loadMs,
    };
  }

  async dispose(): Promise<void> {
    await this.graphs.below.release();
    await this.graphs.above.release();
    for (const c of this.coders.values()) await (await c)?.release();
    this.coders.clear();
  }

  /** The prompt as the model reads it: BOS (when the model has one), then the text's ids. */
  promptIds(prompt: string): number[] {
    const ids = this.tokenizer.encode(prompt);
    const bos = this.model.bos_token_id;
    return bos === undefined ? ids : [bos, ...ids];
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
    if (steering) await this.prepareCoders(steering);
    const prompt = this.promptIds(input.prompt);
    const context = this.model.context;
    if (prompt.length === 0) {
      throw new OrreryError('bad_input', 'the prompt is empty and this model has no BOS token');
    }
    if (prompt.length >= context) {
      throw new OrreryError(
        'bad_input',
        `the prompt is ${prompt.length} tokens; this model's context is ${context} tokens, ` +
          `so a prompt may have at most ${context - 1} (shorten it)`,
      );
    }
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
    if (prompt.length > this.model.context) {
      throw new OrreryError(
        'bad_input',
        `the prompt is ${prompt.length} tokens; this model's context is ${this.model.context} tokens`,
      );
    }
    if (prompt.length === 0) return { rows: [], strongest: [] };
    checkCancelled(ctx);
    const n = prompt.length;
    const hook = await this.hookResid([prompt]);
    const f = sae.encode(hook, n);
    const dSae = sae.dSae;
    const rows: ActiveResult['rows'] = [];
    const strongest = new Float32Array(dSae);
    const bos = this.model.bos_token_id;
    // The BOS position is a row like any other but does not count towards `strongest`
    // (its activations are the same for every prompt), unless it is the whole prompt.
    const firstCounted = bos !== undefined && prompt[0] === bos && n > 1 ? 1 : 0;
    for (let r = 0; r < n; r++) {
      const row = f.subarray(r * dSae, (r + 1) * dSae);
      const feats: { feature: number; value: number }[] = [];
      for (let j = 0; j < dSae; j++) {
        const v = row[j] ?? 0;
        if (v > 0) {
          feats.push({ feature: j, value: v });
          if (r >= firstCounted && v > (strongest[j] ?? 0)) strongest[j] = v;
        }
      }
      feats.sort(byValue);
      rows.push({
        label: this.tokenizer.tokenText(prompt[r] ?? 0),
        features: feats.slice(0, input.topK),
      });
    }
    const top: ActiveResult['strongest'] = [];
    for (let j = 0; j < dSae; j++) {
      const v = strongest[j] ?? 0;
      if (v > 0) top.push({ feature: j, value: v });
    }
    top.sort(byValue);
    return { rows, strongest: top };
  }

  /** Each token's hook activation for a text (BOS left out; cut at the context). */
  async saeRows(saeId: string, input: SelectionInput, ctx: EngineContext): Promise<SaeRows> {
    const { sae } = this.steerableSae(saeId, null);
    const text = 'text' in input ? input.text : await this.exampleText(input.source);
    const ids = this.promptIds(text).slice(0, this.model.context);
    checkCancelled(ctx);
    const d = this.model.d_model;
    if (ids.length === 0) return { sae, h: new Float32Array(0), n: 0 };
    const hook = await this.hookResid([ids]);
    const bos = this.model.bos_token_id;
    const skip = bos !== undefined && ids[0] === bos && ids.length > 1 ? 1 : 0;
    return { sae, h: hook.subarray(skip * d), n: ids.length - skip };
  }

  /** `count` of the pack's example texts, evenly spread over the file. */
  async corpusSample(count: number): Promise<SelectionInput[]> {
    const total = (await this.exampleLines()).length;
    return spreadIndices(total, count).map((example) => ({ source: { example } }));
  }

  /** The pack's example texts, one JSON line each (read once, when first asked). */
  private exampleLines(): Promise<string[]> {
    const ex = this.pack.manifest.kind === 'text-lm' ? this.pack.manifest.examples : undefined;
    if (!ex) return Promise.resolve([]);
    this.lines ??= fs
      .readFile(path.join(this.pack.dir, ex.texts), 'utf8')
      .then((t) => t.split('\n').filter((l) => l.trim() !== ''));
    return this.lines;
  }

  /** A pack example's whole text (a person's uploaded text is not a source here). */
  private async exampleText(source: { example: number } | { blob: string }): Promise<string> {
    const lines = await this.exampleLines();
    const i = 'example' in source ? source.example : -1;
    const line = lines[i];
    if (line === undefined) {
      throw new OrreryError(
        'bad_input',
        'example' in source
          ? `example ${i} is not in this pack (0…${lines.length - 1})`
          : 'a text pack reads texts and its own examples, not uploaded files',
      );
    }
    const { text } = JSON.parse(line) as { text?: unknown };
    return typeof text === 'string' ? text : '';
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

  /** The TopK encoder of each pin/scale SAE the steering names (made once per SAE). */
  private async prepareCoders(steering: RowSteering): Promise<void> {
    for (const g of steering.coded) {
      let c = this.coders.get(g.saeId);
      if (!c) {
        const k = topkOf(g.sae);
        c =
          k === null
            ? Promise.resolve(null)
            : OnnxSession.create(topkGraph(g.sae, k), { intraOpThreads: this.threads });
        this.coders.set(g.saeId, c);
      }
      g.coder = await c;
    }
  }

  /** Dials → per-SAE sae dials for the "after" row; null when every dial is at rest. */
  private planSteering(dials: readonly DialInput[]): RowSteering | null {
    const groups = new Map<string, { sae: Sae; dials: Dial[]; index: number[] }>();
    dials.forEach((input, k) => {
      const { sae } = this.steerableSae(input.saeId, k);
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
        g = { sae, dials: [], index: [] };
        groups.set(input.saeId, g);
      }
      g.dials.push(dial);
      g.index.push(k);
    });
    const d = this.model.d_model;
    let constant: Float32Array | null = null;
    const coded: SaeDials[] = [];
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
      if (live.some((x) => x.method !== 'add')) {
        coded.push({ saeId, sae: g.sae, dials: live, coder: null });
      } else {
        // add only: the delta does not depend on h; one row of zeros gives it.
        const { delta } = steer(g.sae, new Float32Array(d), 1, live);
        constant ??= new Float32Array(d);
        for (let c = 0; c < d; c++) constant[c] = (constant[c] ?? 0) + (delta[c] ?? 0);
      }
    }
    return constant === null && coded.length === 0 ? null : { constant, coded };
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
    if (kv) {
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

function byValue(a: { feature: number; value: number }, b: { feature: number; value: number }) {
  return b.value - a.value || a.feature - b.feature;
}

/** A SteeringError's message without its "dial k: " prefix (k counts one SAE's dials). */
function stripDial(e: SteeringError): string {
  return e.message.replace(/^dial \d+: /, '');
}

/**
 * The delta [n, d_model] that one SAE's dials (pin/scale, and adds of the same SAE) give for
 * the rows h [n, d_model], exactly as steer() computes it (float64 sums, f' rounded to
 * float32, error term kept): with a TopK encoder in ORT, only the k largest codes per row come
 * back and the dialled features are read from them; otherwise steer() encodes in JS.
 */
export async function codedDelta(
  g: Pick<SaeDials, 'sae' | 'dials' | 'coder'>,
  h: Float32Array,
  n: number,
): Promise<Float32Array> {
  if (!g.coder) return steer(g.sae, h, n, g.dials).delta;
  const sae = g.sae;
  const dIn = sae.dIn;
  const acc = new Float64Array(n * dIn);
  for (const dial of g.dials) {
    if (dial.method !== 'add') continue;
    const w = dialDirection(sae, dial);
    for (let r = 0; r < n; r++) axpy(acc, r * dIn, dial.value, w, dIn);
  }
  const coded = g.dials.filter((x) => x.method !== 'add');
  const { xp, norm } = sae.prepareInput(h, n);
  // A TopK code is 0 wherever the feature's pre-activation is ≤ 0, whatever the rest of the
  // row: that takes 1 dot product per dialled feature. Only rows where a dialled feature is
  // positive need the whole row ranked (the encoder in ORT: d_in × d_sae weights).
  const wEncT = sae.encoderTransposed;
  const bias = sae.encoderBias;
  const rank: number[] = [];
  for (let r = 0; r < n; r++) {
    const positive = coded.some((dial) => {
      let pre = bias[dial.feature] ?? 0;
      const w = dial.feature * dIn;
      for (let c = 0; c < dIn; c++) pre += (xp[r * dIn + c] ?? 0) * (wEncT[w + c] ?? 0);
      return pre > 0;
    });
    if (positive) rank.push(r);
  }
  let values: Float32Array = new Float32Array(0);
  let indices: Int32Array = new Int32Array(0);
  if (rank.length > 0) {
    const sub = rank.length === n ? xp : new Float32Array(rank.length * dIn);
    if (sub !== xp) rank.forEach((r, i) => sub.set(xp.subarray(r * dIn, (r + 1) * dIn), i * dIn));
    const out = await g.coder.run({ x: { dims: [rank.length, dIn], data: sub } });
    if (!(out.values?.data instanceof Float32Array) || !(out.indices?.data instanceof Int32Array)) {
      throw new OrreryError('internal', 'the SAE encoder gave no values or indices');
    }
    values = out.values.data;
    indices = out.indices.data;
  }
  const k = rank.length > 0 ? values.length / rank.length : 0;
  let ranked = 0;
  for (let r = 0; r < n; r++) {
    const slot = rank[ranked] === r ? ranked++ : -1;
    const outScale = norm ? (norm.outScale[r] ?? 1) : 1;
    for (const dial of coded) {
      let before = 0;
      for (let s = 0; slot >= 0 && s < k; s++) {
        if (indices[slot * k + s] === dial.feature) {
          const v = values[slot * k + s] ?? 0;
          before = v > 0 ? v : 0;
          break;
        }
      }
      // f' is stored as float32, as a decode of it would read it.
      const after = Math.fround(dial.method === 'pin' ? dial.value : dial.value * before);
      const diff = after - before;
      if (diff !== 0) axpy(acc, r * dIn, diff * outScale, sae.decoderRow(dial.feature), dIn);
    }
  }
  return Float32Array.from(acc);
}

/** y[yo + c] += a · x[c] for c < len. */
function axpy(y: Float64Array, yo: number, a: number, x: Float32Array, len: number): void {
  for (let c = 0; c < len; c++) y[yo + c] = (y[yo + c] ?? 0) + a * (x[c] ?? 0);
}

/** The first INFO_EXAMPLES lines of examples.jsonl as {index, name, meta}. */
async function readExamples(file: string): Promise<RuntimeInfo['examples']> {
  const out: RuntimeInfo['examples'] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (out.length >= INFO_EXAMPLES) break;
      const index = out.length;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (e) {
        throw new OrreryError(
          'bad_pack',
          `${file}, line ${index + 1}: not JSON (${(e as Error).message})`,
        );
      }
      const { text, meta } = (row ?? {}) as { text?: unknown; meta?: unknown };
      if (typeof text !== 'string') {
        throw new OrreryError('bad_pack', `${file}, line ${index + 1}: no "text" string`);
      }
      out.push({
        index,
        name: [...text].slice(0, EXAMPLE_NAME_CHARS).join(''),
        meta:
          meta !== null && typeof meta === 'object' && !Array.isArray(meta)
            ? (meta as Record<string, unknown>)
            : {},
      });
    }
  } finally {
    lines.close();
  }
  return out;
}
