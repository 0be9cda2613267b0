/**
 * The text-lm engine (models/PACK_FORMAT.md, kind text-lm): generation before and after
 * dials, and the SAE features active on a prompt. One ONNX graph serves the prefill and
 * every cached step: in input_ids/position_ids [batch, seq], past_keys/past_values
 * [n_layers, batch, n_heads, past, d_head] and an additive steering tensor [batch, seq,
 * d_model]; out logits [batch, seq, vocab], present_keys/values and hook_resid [batch, seq,
 * d_model], the residual stream at the hook BEFORE the steering is added.
 *
 * Steering (DESIGN.md §3) applies at every position, the prompt (BOS included) and each
 * generated token. add dials need no activations: their delta is Σ v · W_dec[i] at every
 * position. pin and scale need h: for the rows that have such dials (never the unsteered
 * "before" row), the step first runs up to the hook only (only hook_resid fetched, so ORT
 * skips the layers above and the unembedding), steer() turns h into a delta, and the full
 * step runs with it for the whole batch (same past). Since hook_resid never depends on the
 * steering input, the full run reads the same h.
 *
 * "Before" is the same prompt with every dial at rest, the same seed and sampling. With a
 * dial off rest, before and after run as one batch of 2 (each row has its own PRNG with the
 * same seed; a row that reaches EOS leaves the batch); with none, one run serves both.
 *
 * The KV cache stays in place between steps (KvInPlace): ORT writes each step's present
 * into buffers reused for the whole generation (and the next ones), and the next step reads
 * them as its past; each step after the prompt feeds one token per row. The graph itself
 * still copies the cache (per-layer Split and Concat, then the stacked present), so the cost
 * of a step grows with the length; a graph with per-layer past/present would copy less.
 *
 * Prompts: BOS first when the manifest has bos_token_id (an empty prompt is BOS alone). A
 * prompt that leaves no room to generate within the model's context is rejected with
 * bad_input, never silently cut. Generation stops at EOS (not part of the output), at
 * maxTokens, or when the sequence fills the context.
 */
import { createReadStream } from 'node:fs';
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
import type { Manifest } from '../../packs/manifest';
import type { LoadedPack } from '../../packs/packReader';
import {
  isAtRest,
  loadSae,
  steer,
  SteeringError,
  validateDials,
  type Dial,
  type Sae,
} from '../../sae';
import type { EngineContext, TextActiveInput, TextEngineApi, TextGenerateInput } from '../engine';
import { OnnxSession, type TensorLike } from '../onnx';
import { Prng, sampleToken, type SamplingParams } from './sampling';
import { TextTokenizer } from './tokenizer';

type TextModel = Extract<Manifest, { kind: 'text-lm' }>['model'];
type Row = 'before' | 'after';
type GenerateOutput = z.output<typeof TextGenerateOutput>;
type ActiveResult = z.output<typeof ActiveOutput>;
type TextRun = GenerateOutput['before'];

/** How many examples info() lists. */
export const INFO_EXAMPLES = 200;
const EXAMPLE_NAME_CHARS = 60;

const GRAPH_INPUTS = ['input_ids', 'position_ids', 'past_keys', 'past_values', 'steering'];
const GRAPH_OUTPUTS = ['logits', 'present_keys', 'present_values', 'hook_resid'];

export interface TextEngineOptions {
  /** ORT intra-op threads for the model session (default 1). */
  intraOpThreads?: number;
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
  sae: Sae;
  /** Off rest, at least one of them pin or scale: steering needs hook_resid. */
  dials: Dial[];
}

/** What steers one row: a delta that is the same at every position, plus h-dependent parts. */
interface RowSteering {
  /** [d_model] Σ of add-only SAE deltas, or null. */
  constant: Float32Array | null;
  /** SAEs with pin/scale dials, run through steer() on each step's hook_resid. */
  coded: SaeDials[];
}

interface KvCache {
  keys: Float32Array;
  values: Float32Array;
  /** [n_layers, batch, n_heads, len, d_head] */
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

interface RowState {
  row: Row;
  steering: RowSteering | null;
  rng: Prng;
  ids: number[];
  pieces: string[];
  stream: ReturnType<TextTokenizer['stream']>;
}

export class TextEngine implements TextEngineApi {
  readonly kind = 'text-lm' as const;
  private readonly model: TextModel;
  /** KV cache buffers of finished generations, for the next ones. */
  private readonly kvSpare: KvBuffers[] = [];

  private constructor(
    private readonly pack: LoadedPack,
    private readonly session: OnnxSession,
    readonly tokenizer: TextTokenizer,
    private readonly saes: ReadonlyMap<string, { sae: Sae; hook: string }>,
    private readonly examples: RuntimeInfo['examples'],
    private readonly loadMs: number,
  ) {
    if (pack.manifest.kind !== 'text-lm') throw new Error('unreachable: not a text pack');
    this.model = pack.manifest.model;
  }

  /**
   * Opens a text-lm pack: tokenizer, ONNX session, SAEs (each SAE's d_in must equal the
   * model's d_model) and the first INFO_EXAMPLES examples. Errors are OrreryError('bad_pack')
   * naming the file or the SAE.
   */
  static async load(pack: LoadedPack, options: TextEngineOptions = {}): Promise<TextEngine> {
    const t0 = performance.now();
    const manifest = pack.manifest;
    if (manifest.kind !== 'text-lm') {
      throw new OrreryError('bad_pack', `pack ${manifest.id} is ${manifest.kind}, not text-lm`);
    }
    const model = manifest.model;
    const file = (rel: string): string => path.join(pack.dir, rel);

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

    let session: OnnxSession;
    try {
      session = await OnnxSession.create(file(model.onnx), {
        intraOpThreads: options.intraOpThreads ?? 1,
      });
    } catch (e) {
      throw new OrreryError(
        'bad_pack',
        `pack ${manifest.id}: ${model.onnx} cannot be loaded by ONNX Runtime (${(e as Error).message})`,
      );
    }
    const inputs = new Set(session.inputs.map((i) => i.name));
    const outputs = new Set(session.outputs.map((o) => o.name));
    const missing = [
      ...GRAPH_INPUTS.filter((n) => !inputs.has(n)).map((n) => `input ${n}`),
      ...GRAPH_OUTPUTS.filter((n) => !outputs.has(n)).map((n) => `output ${n}`),
    ];
    if (missing.length > 0) {
      await session.release();
      throw new OrreryError(
        'bad_pack',
        `pack ${manifest.id}: ${model.onnx} lacks ${missing.join(', ')} (see PACK_FORMAT.md, text-lm)`,
      );
    }
    return new TextEngine(pack, session, tokenizer, saes, examples, performance.now() - t0);
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
    await this.session.release();
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
    const newRow = (row: Row, s: RowSteering | null): RowState => ({
      row,
      steering: s,
      rng: new Prng(seed),
      ids: [],
      pieces: [],
      stream: this.tokenizer.stream(),
    });

    let before: RowState;
    let after: RowState;
    let usedBatch = false;
    if (steering === null) {
      before = newRow('before', null);
      await this.decode([before], prompt, params, limit, eos, cache, ctx, ['before', 'after']);
      after = before;
    } else if (batched) {
      before = newRow('before', null);
      after = newRow('after', steering);
      await this.decode([before, after], prompt, params, limit, eos, cache, ctx);
      usedBatch = true;
    } else {
      before = newRow('before', null);
      after = newRow('after', steering);
      await this.decode([before], prompt, params, limit, eos, cache, ctx);
      await this.decode([after], prompt, params, limit, eos, cache, ctx);
    }
    return {
      before: this.finish(before),
      after: this.finish(after),
      promptTokens: prompt.map((id) => this.tokenizer.tokenText(id)),
      ms: performance.now() - t0,
      batched: usedBatch,
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
    const d = this.model.d_model;
    const step = await this.forward([prompt], 0, null, new Float32Array(n * d));
    const f = sae.encode(step.hook, n);
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

  /**
   * Runs the graph: ids [batch][seq] at positions pos0 … pos0+seq−1 after `past` (null =
   * none), with steering [batch, seq, d_model].
   */
  async forward(
    ids: readonly (readonly number[])[],
    pos0: number,
    past: KvCache | null,
    steering: Float32Array,
  ): Promise<StepResult> {
    const { n_layers: L, n_heads: H, d_head: Dh, d_model: d } = this.model;
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
    const pastLen = past ? past.len : 0;
    const kvDims = [L, batch, H, pastLen, Dh];
    const out = await this.session.run({
      input_ids: { dims: [batch, seq], data: inputIds },
      position_ids: { dims: [batch, seq], data: positions },
      past_keys: { dims: kvDims, data: past ? past.keys : new Float32Array(0) },
      past_values: { dims: kvDims, data: past ? past.values : new Float32Array(0) },
      steering: { dims: [batch, seq, d], data: steering },
    });
    const f32 = (name: string): Float32Array => {
      const t: TensorLike | undefined = out[name];
      if (!t || !(t.data instanceof Float32Array)) {
        throw new OrreryError('internal', `${this.model.onnx}: output ${name} is not float32`);
      }
      return t.data;
    };
    return {
      logits: f32('logits'),
      hook: f32('hook_resid'),
      kv: { keys: f32('present_keys'), values: f32('present_values'), batch, len: pastLen + seq },
    };
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
        coded.push({ sae: g.sae, dials: live });
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

  /**
   * Generates for each row in lockstep from the same prompt, as one batch. A row is done at
   * EOS, at `limit` tokens, or when the sequence fills the context; done rows leave the
   * batch. `streamAs` names the rows a token is reported for (default: the row's own).
   *
   * With the cache, the prompt runs once and each later step feeds one token per row; the
   * cache stays in place (KvInPlace). Without it, every step runs the whole sequence.
   */
  private async decode(
    rows: RowState[],
    prompt: readonly number[],
    params: SamplingParams,
    limit: number,
    eos: number | undefined,
    cache: boolean,
    ctx: EngineContext,
    streamAs?: Row[],
  ): Promise<void> {
    const V = this.model.vocab_size;
    const buffers = cache ? this.takeKvBuffers() : null;
    const kv = buffers ? new KvInPlace(buffers, this.model, rows.length) : null;
    try {
      let live = rows;
      // The ids fed this step, [live, seq]: the prompt first, then (cached) the last token.
      let seq = prompt.length;
      let ids = new BigInt64Array(live.length * seq);
      live.forEach((_, b) => prompt.forEach((id, t) => (ids[b * seq + t] = BigInt(id))));
      for (;;) {
        checkCancelled(ctx);
        const logits = await this.step(live, ids, seq, kv);
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
          kv?.keep(keep);
          live = keep.map((b) => live[b] as RowState);
        }
        if (kv) {
          seq = 1;
          ids = new BigInt64Array(live.length);
          live.forEach((r, b) => (ids[b] = BigInt(r.ids[r.ids.length - 1] ?? 0)));
        } else {
          seq = prompt.length + (live[0]?.ids.length ?? 0);
          ids = new BigInt64Array(live.length * seq);
          live.forEach((r, b) => {
            const o = b * seq;
            prompt.forEach((id, t) => (ids[o + t] = BigInt(id)));
            r.ids.forEach((id, t) => (ids[o + prompt.length + t] = BigInt(id)));
          });
        }
      }
    } finally {
      if (buffers) this.kvSpare.push(buffers);
    }
  }

  /**
   * One step for the live rows: ids [rows, seq] at the positions after the cache (or from 0
   * without one), each row with its steering; the logits [rows, seq, vocab]. With a cache,
   * ORT writes the present keys/values straight into the cache's other buffers.
   *
   * A row with pin/scale dials needs hook_resid at its new positions before its steering is
   * known: a first run over those rows alone, stopped at the hook (only hook_resid fetched,
   * so ORT skips the layers above and the unembedding), gives h; rows without such dials
   * (the unsteered "before") never take part in it. hook_resid does not depend on the
   * steering input, so the full run that follows sees the same h.
   */
  private async step(
    rows: readonly RowState[],
    ids: BigInt64Array,
    seq: number,
    kv: KvInPlace | null,
  ): Promise<Float32Array> {
    const d = this.model.d_model;
    const B = rows.length;
    const pos0 = kv ? kv.len : 0;
    const positions = new BigInt64Array(B * seq);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < seq; t++) positions[b * seq + t] = BigInt(pos0 + t);
    }
    const steering = new Float32Array(B * seq * d);
    rows.forEach((r, b) => {
      const c = r.steering?.constant;
      if (!c) return;
      for (let t = 0; t < seq; t++) steering.set(c, (b * seq + t) * d);
    });
    const coded = rows.flatMap((r, b) => ((r.steering?.coded.length ?? 0) > 0 ? [b] : []));
    if (coded.length > 0) {
      const h = await this.hookOf(coded, B, ids, positions, seq, kv);
      coded.forEach((b, k) => {
        const hb = h.subarray(k * seq * d, (k + 1) * seq * d);
        for (const { sae, dials } of rows[b]?.steering?.coded ?? []) {
          const { delta } = steer(sae, hb, seq, dials);
          const o = b * seq * d;
          for (let i = 0; i < delta.length; i++) {
            steering[o + i] = (steering[o + i] ?? 0) + (delta[i] ?? 0);
          }
        }
      });
    }
    const feeds = {
      input_ids: { dims: [B, seq], data: ids },
      position_ids: { dims: [B, seq], data: positions },
      ...this.pastFeeds(kv, B),
      steering: { dims: [B, seq, d], data: steering },
    };
    if (!kv) {
      // No cache to keep: the presents are not even computed.
      const out = await this.session.run(feeds, ['logits']);
      return this.f32(out, 'logits');
    }
    const next = kv.next(seq);
    const out = await this.session.runInto(feeds, {
      logits: seq === 1 ? { dims: [B, 1, this.model.vocab_size], data: kv.logits(B) } : null,
      present_keys: { dims: next.dims, data: next.keys },
      present_values: { dims: next.dims, data: next.values },
    });
    kv.advance(seq);
    return this.f32(out, 'logits');
  }

  /**
   * hook_resid [rows.length, seq, d_model] for the batch rows `rows` (of B) at the step's new
   * positions. When they are a subset of the batch, their past is gathered into the cache's
   * scratch buffers first.
   */
  private async hookOf(
    rows: readonly number[],
    B: number,
    ids: BigInt64Array,
    positions: BigInt64Array,
    seq: number,
    kv: KvInPlace | null,
  ): Promise<Float32Array> {
    const d = this.model.d_model;
    const all = rows.length === B;
    const pick = (src: BigInt64Array): BigInt64Array => {
      if (all) return src;
      const out = new BigInt64Array(rows.length * seq);
      rows.forEach((b, k) => out.set(src.subarray(b * seq, (b + 1) * seq), k * seq));
      return out;
    };
    const k = rows.length;
    const out = await this.session.run(
      {
        input_ids: { dims: [k, seq], data: pick(ids) },
        position_ids: { dims: [k, seq], data: pick(positions) },
        ...(kv && !all ? kv.gather(rows) : this.pastFeeds(kv, B)),
        steering: { dims: [k, seq, d], data: new Float32Array(k * seq * d) },
      },
      ['hook_resid'],
    );
    return this.f32(out, 'hook_resid');
  }

  /** past_keys/past_values for a batch of B: the cache's current buffers, or empty. */
  private pastFeeds(
    kv: KvInPlace | null,
    B: number,
  ): { past_keys: TensorLike; past_values: TensorLike } {
    if (kv) {
      const past = kv.past();
      return {
        past_keys: { dims: past.dims, data: past.keys },
        past_values: { dims: past.dims, data: past.values },
      };
    }
    const { n_layers: L, n_heads: H, d_head: Dh } = this.model;
    const empty = { dims: [L, B, H, 0, Dh], data: new Float32Array(0) };
    return { past_keys: empty, past_values: empty };
  }

  private f32(out: Record<string, TensorLike>, name: string): Float32Array {
    const t = out[name];
    if (!t || !(t.data instanceof Float32Array)) {
      throw new OrreryError('internal', `${this.model.onnx}: output ${name} is not float32`);
    }
    return t.data;
  }

  /** Cache buffers for a generation: a spare one from an earlier call, or new ones. */
  private takeKvBuffers(): KvBuffers {
    return this.kvSpare.pop() ?? new KvBuffers(this.model);
  }

  private finish(r: RowState): TextRun {
    const tokens = [...r.pieces];
    const rest = r.stream.flush();
    if (rest && tokens.length > 0) tokens[tokens.length - 1] += rest;
    return { text: this.tokenizer.decode(r.ids), tokens, tokenIds: [...r.ids] };
  }
}

function checkCancelled(ctx: EngineContext): void {
  if (ctx.signal.aborted) throw new OrreryError('cancelled', 'text generation was cancelled');
}

function byValue(a: { feature: number; value: number }, b: { feature: number; value: number }) {
  return b.value - a.value || a.feature - b.feature;
}

/** A SteeringError's message without its "dial k: " prefix (k counts one SAE's dials). */
function stripDial(e: SteeringError): string {
  return e.message.replace(/^dial \d+: /, '');
}

/** The most rows one generation runs as a batch: before and after. */
const MAX_BATCH = 2;

/**
 * Room for the KV cache of one generation: two pairs of keys/values buffers, each big enough
 * for [n_layers, MAX_BATCH, n_heads, context, d_head], plus a scratch pair for the rows of a
 * hook-only run and a logits row per batch row. Reused from one generation to the next.
 */
class KvBuffers {
  readonly keys: [Float32Array, Float32Array];
  readonly values: [Float32Array, Float32Array];
  readonly scratchKeys: Float32Array;
  readonly scratchValues: Float32Array;
  readonly logits: Float32Array;

  constructor(m: TextModel) {
    const n = m.n_layers * MAX_BATCH * m.n_heads * m.context * m.d_head;
    this.keys = [new Float32Array(n), new Float32Array(n)];
    this.values = [new Float32Array(n), new Float32Array(n)];
    this.scratchKeys = new Float32Array(n);
    this.scratchValues = new Float32Array(n);
    this.logits = new Float32Array(MAX_BATCH * m.vocab_size);
  }
}

/**
 * The KV cache of one generation, kept in place: a step reads the past [n_layers, batch,
 * n_heads, len, d_head] from one pair of buffers and ORT writes the present (len + seq
 * positions) straight into the other pair, which then becomes the past. No step allocates
 * or copies the cache in JS; only a row leaving the batch, or a hook-only run over some of
 * the rows, copies rows.
 */
class KvInPlace {
  len = 0;
  private side: 0 | 1 = 0;

  constructor(
    private readonly buf: KvBuffers,
    private readonly m: TextModel,
    private batch: number,
  ) {
    if (batch > MAX_BATCH) throw new Error(`a batch of ${batch} is more than ${MAX_BATCH}`);
  }

  private dims(len: number, batch = this.batch): number[] {
    return [this.m.n_layers, batch, this.m.n_heads, len, this.m.d_head];
  }

  private size(len: number, batch = this.batch): number {
    return this.m.n_layers * batch * this.m.n_heads * len * this.m.d_head;
  }

  /** The cache so far, as views (no copy). */
  past(): { dims: number[]; keys: Float32Array; values: Float32Array } {
    const n = this.size(this.len);
    return {
      dims: this.dims(this.len),
      keys: this.buf.keys[this.side].subarray(0, n),
      values: this.buf.values[this.side].subarray(0, n),
    };
  }

  /** Where the next step's present (len + seq positions) goes, as views. */
  next(seq: number): { dims: number[]; keys: Float32Array; values: Float32Array } {
    const n = this.size(this.len + seq);
    const other = this.side === 0 ? 1 : 0;
    return {
      dims: this.dims(this.len + seq),
      keys: this.buf.keys[other].subarray(0, n),
      values: this.buf.values[other].subarray(0, n),
    };
  }

  /** The present written by next(seq) is now the cache. */
  advance(seq: number): void {
    this.side = this.side === 0 ? 1 : 0;
    this.len += seq;
  }

  /** A logits buffer [batch, 1, vocab] for a one-token step. */
  logits(batch: number): Float32Array {
    return this.buf.logits.subarray(0, batch * this.m.vocab_size);
  }

  /** Keeps only the batch rows `rows` (in that order). */
  keep(rows: readonly number[]): void {
    const other = this.side === 0 ? 1 : 0;
    this.copyRows(rows, this.buf.keys[other], this.buf.values[other] as Float32Array);
    this.side = other;
    this.batch = rows.length;
  }

  /** past_keys/past_values of the batch rows `rows` alone, gathered into the scratch pair. */
  gather(rows: readonly number[]): { past_keys: TensorLike; past_values: TensorLike } {
    const { scratchKeys: k, scratchValues: v } = this.buf;
    this.copyRows(rows, k, v);
    const n = this.size(this.len, rows.length);
    const dims = this.dims(this.len, rows.length);
    return {
      past_keys: { dims, data: k.subarray(0, n) },
      past_values: { dims, data: v.subarray(0, n) },
    };
  }

  private copyRows(rows: readonly number[], keys: Float32Array, values: Float32Array): void {
    const slot = this.m.n_heads * this.len * this.m.d_head;
    const from = { keys: this.buf.keys[this.side], values: this.buf.values[this.side] };
    for (let l = 0; l < this.m.n_layers; l++) {
      rows.forEach((b, k) => {
        const src = (l * this.batch + b) * slot;
        const dst = (l * rows.length + k) * slot;
        keys.set(from.keys.subarray(src, src + slot), dst);
        values.set(from.values.subarray(src, src + slot), dst);
      });
    }
  }
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
