/**
 * The model adapter for a Hugging Face decoder-only export (optimum's I/O: input_ids,
 * attention_mask, position_ids, past_key_values.N.key/value → logits, present.N.key/value),
 * used by the runtime engine (hfTextEngine) and the index build (main/index/build/activations)
 * alike. It opens the graph rewired at its residual stream (main/onnx: each exposed hook an
 * output named by its TransformerLens name, the value before that hook's steering; each
 * steered hook an input steer.<hook> added there), cached by content under `cacheDir`, and
 * checks it with the one-token self-check before use.
 *
 * One call, run(): ids [batch, seq] at positions pos0 … after a past [batch, kv_heads, pos0,
 * d_head] per layer (named past.{l}.key/value as the text KV cache names them; null = none),
 * the steering per hook ([batch or 1, seq or 1, width]: d_model on the residual stream,
 * n_heads·d_head at attn.hook_z; hooks not given are zeros), into the
 * outputs asked for (logits, present.{l}.key/value, hook names). Rows of one batch have equal
 * length (no padding): attention_mask is all ones. onnxruntime runs the whole graph whatever
 * is fetched (bench/hfEngine), so runUpTo() reads a hook through a second session on the graph
 * cut after it (prefixGraph), opened on first use.
 */
import path from 'node:path';
import { OrreryError } from '../../../preload/contract/result';
import type { HfTextModel } from '../../packs/manifest';
import { rewiredModelFile } from '../../onnx/graphCache';
import { allHooksWithZ, steerInputName } from '../../onnx/hookNames';
import { verifyRewired } from '../../onnx/verify';
import { OnnxSession, type TensorLike } from '../onnx';
import { kvName } from '../text/kvCache';
import { prefixModelFile } from './prefixGraph';

export interface HfDecoderOptions {
  /** Where rewired graphs are cached (by content hash). */
  cacheDir: string;
  /** Hooks to expose as outputs. */
  expose: readonly string[];
  /** Hooks that take a steering input. */
  steer: readonly string[];
  /** ORT intra-op threads (default 1). */
  threads?: number;
  /** Run the one-token self-check (default true). */
  verify?: boolean;
}

export interface DecoderRun {
  /** int64 [batch, seq] */
  ids: BigInt64Array;
  batch: number;
  seq: number;
  /** Positions already in `past`: the new ids sit at pos0 … pos0 + seq − 1. */
  pos0: number;
  /** int64 [batch, seq]: pos0 … for each row (the caller's reused buffer), or null to make one. */
  positions?: BigInt64Array | null;
  /** past.{l}.key/value [batch, kv_heads, pos0, d_head]; null = empty. */
  past: Record<string, TensorLike> | null;
  /** hook → steering [batch | 1, seq | 1, d_model]. */
  steer?: ReadonlyMap<string, TensorLike>;
}

/** The shape of an HF decoder as the engine needs it. */
export interface HfShape {
  nLayers: number;
  dModel: number;
  /** Width of attn.hook_z: n_heads·d_head. */
  zWidth: number;
  nKvHeads: number;
  dHead: number;
  vocab: number;
  context: number;
}

/** The model's graph file (absolute): `dir/graph`. */
export function hfGraphFile(model: HfTextModel): string {
  return path.join(model.dir, model.graph);
}

export class HfDecoder {
  /** Every hook a graph of this many blocks has (pre, attn.hook_z, mid, post of each block). */
  readonly hooks: readonly string[];
  readonly exposed: ReadonlySet<string>;
  readonly steered: ReadonlySet<string>;
  /** What the self-check found (one line per check). */
  readonly checks: readonly string[];
  private readonly pastNames: Map<string, string>;
  private readonly feedsMask: boolean;
  private readonly feedsPositions: boolean;
  private ones = new BigInt64Array(0);
  private readonly zeros: TensorLike;
  private readonly zZeros: TensorLike;
  /** Sessions of the graph up to a hook (runUpTo), by hook. */
  private readonly prefixes = new Map<string, Promise<OnnxSession>>();

  private constructor(
    private readonly session: OnnxSession,
    private readonly file: string,
    private readonly threads: number,
    readonly shape: HfShape,
    exposed: readonly string[],
    steered: readonly string[],
    checks: readonly string[],
  ) {
    this.hooks = allHooksWithZ(shape.nLayers);
    this.exposed = new Set(exposed);
    this.steered = new Set(steered);
    this.checks = checks;
    const inputs = new Set(session.inputs.map((i) => i.name));
    this.feedsMask = inputs.has('attention_mask');
    this.feedsPositions = inputs.has('position_ids');
    this.pastNames = new Map();
    const missing: string[] = [];
    for (let l = 0; l < shape.nLayers; l++) {
      for (const kv of ['key', 'value'] as const) {
        const name = [`past_key_values.${l}.${kv}`, `past.${l}.${kv}`].find((n) => inputs.has(n));
        if (name) this.pastNames.set(kvName('past', l, kv), name);
        else missing.push(`past_key_values.${l}.${kv}`);
      }
    }
    if (!inputs.has('input_ids')) missing.unshift('input_ids');
    const outputs = new Set(session.outputs.map((o) => o.name));
    for (const name of ['logits', ...this.presentNames()]) {
      if (!outputs.has(name)) missing.push(`output ${name}`);
    }
    if (missing.length > 0) {
      throw new OrreryError(
        'bad_pack',
        `the decoder graph lacks ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', …' : ''} ` +
          "(a Hugging Face decoder export has optimum's input_ids, attention_mask, position_ids, " +
          'past_key_values.N.key/value → logits, present.N.key/value)',
      );
    }
    this.zeros = { dims: [1, 1, shape.dModel], data: new Float32Array(shape.dModel) };
    this.zZeros = { dims: [1, 1, shape.zWidth], data: new Float32Array(shape.zWidth) };
  }

  /** A hook's last dimension: n_heads·d_head at attn.hook_z, d_model elsewhere. */
  widthOf(hook: string): number {
    return isZHook(hook) ? this.shape.zWidth : this.shape.dModel;
  }

  /**
   * Rewires (or takes from the cache) and opens the model's graph; runs the self-check.
   * Errors: OrreryError('bad_input') from the surgery (a merged decoder, an unmappable graph,
   * naming the node), ('bad_pack') for a graph without the decoder's inputs or a failed
   * self-check.
   */
  static async open(model: HfTextModel, options: HfDecoderOptions): Promise<HfDecoder> {
    const shape: HfShape = {
      nLayers: model.n_layers,
      dModel: model.d_model,
      zWidth: model.n_heads * model.d_head,
      nKvHeads: model.n_kv_heads ?? model.n_heads,
      dHead: model.d_head,
      vocab: model.vocab_size,
      context: model.context,
    };
    const expose = [...new Set(options.expose)];
    const steer = [...new Set(options.steer)];
    const rewired = await rewiredModelFile(hfGraphFile(model), { expose, steer }, options.cacheDir);
    if (rewired.hooks.nLayers !== shape.nLayers) {
      throw new OrreryError(
        'bad_pack',
        `${model.graph} has ${rewired.hooks.nLayers} blocks on its residual stream, but ` +
          `config.json says ${shape.nLayers} layers`,
      );
    }
    if (rewired.hooks.dModel !== null && rewired.hooks.dModel !== shape.dModel) {
      throw new OrreryError(
        'bad_pack',
        `${model.graph}'s residual stream has width ${rewired.hooks.dModel}, but config.json ` +
          `says ${shape.dModel}`,
      );
    }
    for (const hook of [...expose, ...steer].filter(isZHook)) {
      const width = rewired.hooks.widths.get(hook);
      if (width !== undefined && width !== shape.zWidth) {
        throw new OrreryError(
          'bad_pack',
          `${model.graph}'s ${hook} has width ${width}, but config.json says ` +
            `${model.n_heads} heads × ${model.d_head} = ${shape.zWidth}`,
        );
      }
    }
    let session: OnnxSession;
    try {
      session = await OnnxSession.create(rewired.file, { intraOpThreads: options.threads ?? 1 });
    } catch (e) {
      throw new OrreryError(
        'bad_pack',
        `${hfGraphFile(model)} cannot be loaded by ONNX Runtime (${(e as Error).message})`,
      );
    }
    try {
      const checks =
        options.verify === false ? [] : (await verifyRewired(session, rewired.hooks)).checks;
      return new HfDecoder(
        session,
        rewired.file,
        options.threads ?? 1,
        shape,
        expose,
        steer,
        checks,
      );
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  /** present.{l}.key/value of every layer. */
  presentNames(): string[] {
    const out: string[] = [];
    for (let l = 0; l < this.shape.nLayers; l++) {
      out.push(kvName('present', l, 'key'), kvName('present', l, 'value'));
    }
    return out;
  }

  /**
   * One forward pass into `outputs` (by name: logits, present.{l}.key/value, exposed hooks;
   * a TensorLike is written into, null is allocated by ORT). Only the outputs named are fetched.
   */
  async run(
    r: DecoderRun,
    outputs: Record<string, TensorLike | null>,
  ): Promise<Record<string, TensorLike>> {
    for (const name of Object.keys(outputs)) {
      if (this.hooks.includes(name) && !this.exposed.has(name)) {
        throw new OrreryError('internal', `hook ${name} is not exposed by this decoder`);
      }
    }
    return this.session.runInto(this.feeds(r), outputs);
  }

  /**
   * The exposed hook's value [batch, seq, d_model] for a run, computing only the blocks up to
   * it (the value before that hook's steering; steering at shallower hooks applies).
   */
  async runUpTo(hook: string, r: DecoderRun): Promise<Float32Array> {
    if (!this.exposed.has(hook)) {
      throw new OrreryError('internal', `hook ${hook} is not exposed by this decoder`);
    }
    let p = this.prefixes.get(hook);
    if (!p) {
      p = prefixModelFile(this.file, hook).then((file) =>
        OnnxSession.create(file, { intraOpThreads: this.threads }),
      );
      this.prefixes.set(hook, p);
      p.catch(() => this.prefixes.delete(hook));
    }
    const session = await p;
    const all = this.feeds(r);
    const feeds: Record<string, TensorLike> = {};
    for (const i of session.inputs) {
      const t = all[i.name];
      if (t) feeds[i.name] = t;
    }
    return f32(await session.runInto(feeds, { [hook]: null }), hook);
  }

  /** The graph's feeds for a run. */
  private feeds(r: DecoderRun): Record<string, TensorLike> {
    const { batch: B, seq, pos0 } = r;
    const { nKvHeads: H, dHead: Dh } = this.shape;
    const feeds: Record<string, TensorLike> = {
      input_ids: { dims: [B, seq], data: r.ids.subarray(0, B * seq) },
    };
    if (this.feedsMask) {
      const n = B * (pos0 + seq);
      if (this.ones.length < n)
        this.ones = new BigInt64Array(Math.max(n, 2 * this.ones.length)).fill(1n);
      feeds.attention_mask = { dims: [B, pos0 + seq], data: this.ones.subarray(0, n) };
    }
    if (this.feedsPositions) {
      let positions = r.positions ?? null;
      if (!positions) {
        positions = new BigInt64Array(B * seq);
        for (let b = 0; b < B; b++) {
          for (let t = 0; t < seq; t++) positions[b * seq + t] = BigInt(pos0 + t);
        }
      }
      feeds.position_ids = { dims: [B, seq], data: positions.subarray(0, B * seq) };
    }
    const empty = { dims: [B, H, 0, Dh], data: new Float32Array(0) };
    for (const [ours, theirs] of this.pastNames) feeds[theirs] = r.past?.[ours] ?? empty;
    for (const hook of this.steered) {
      feeds[steerInputName(hook)] =
        r.steer?.get(hook) ?? (isZHook(hook) ? this.zZeros : this.zeros);
    }
    return feeds;
  }

  /** A hook's rows [batch, seq, width] for ids from position 0 (no past, no steering). */
  async hookRows(hook: string, ids: readonly (readonly number[])[]): Promise<Float32Array> {
    const batch = ids.length;
    const seq = ids[0]?.length ?? 0;
    const flat = new BigInt64Array(batch * seq);
    ids.forEach((row, b) => row.forEach((id, t) => (flat[b * seq + t] = BigInt(id))));
    const out = await this.run({ ids: flat, batch, seq, pos0: 0, past: null }, { [hook]: null });
    return f32(out, hook);
  }

  async release(): Promise<void> {
    await this.session.release();
    for (const p of this.prefixes.values()) await (await p.catch(() => null))?.release();
    this.prefixes.clear();
  }
}

/** Whether a hook is an attention's hook_z (blocks.N.attn.hook_z). */
export function isZHook(hook: string): boolean {
  return /^blocks\.\d+\.attn\.hook_z$/.test(hook);
}

/** A float32 output by name. */
export function f32(out: Record<string, TensorLike>, name: string): Float32Array {
  const t = out[name];
  if (!t || !(t.data instanceof Float32Array)) {
    throw new OrreryError('internal', `decoder graph: output ${name} is not float32`);
  }
  return t.data;
}
