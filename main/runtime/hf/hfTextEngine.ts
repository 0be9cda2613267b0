/**
 * The text-lm engine for a Hugging Face decoder-only export opened in place (manifest model
 * `format: 'hf'`): the same contract as the split-graph engine (generate before/after, active
 * features, selection rows, a corpus sample), run through one rewired graph (HfDecoder) with
 * the SAEs' hooks exposed and steerable. Tokenizer, sampling, the KV cache, the generation
 * loop, the steering plan and the text rule are the text engine's own (main/runtime/text).
 *
 * Steering (DESIGN.md §3), at every position, the prompt (BOS included) and each generated
 * token: add dials are a constant delta at their SAE's hook. pin and scale need the hook's
 * unsteered value at the current positions: for each steered row, hooks shallowest first, the
 * graph up to the hook runs for that row alone (HfDecoder.runUpTo, with the steering found so
 * far at shallower hooks), the SAE turns it into a delta; then one run for the whole batch with every
 * delta gives the logits and the cache. The unsteered "before" row only takes part in that last
 * run, with zero steering, so "before" equals a plain run of the original graph.
 *
 * SAEs: each one's cfg hook must be the manifest's and one the graph has (pre/mid/post of every
 * block) and d_in the model's width, else the load fails naming both (runtime/saeFit).
 * RuntimeInfo.warnings says once what a person should know (a jumprelu SAE with negative
 * thresholds). The rewired graph is cached by content under `cacheDir` (default: the library
 * entry's own folder, `cache/`); the user's files are only read.
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
import type { SelectionInput } from '../../../preload/contract/selections';
import { allHooksWithZ } from '../../onnx/hookNames';
import { isHfModel, packFile, type HfTextModel } from '../../packs/manifest';
import type { LoadedPack } from '../../packs/packReader';
import { loadSae, type Sae } from '../../sae';
import type {
  EngineContext,
  SaeRows,
  TextActiveInput,
  TextEngineApi,
  TextGenerateInput,
} from '../engine';
import type { TensorLike } from '../onnx';
import { checkSaeFits, saeWarnings } from '../saeFit';
import { activeRows } from '../text/activeRows';
import { ExampleTexts } from '../text/exampleTexts';
import {
  checkCancelled,
  generateRows,
  KeptBefore,
  type DecodeCache,
  type GenerateMode,
  type RowState,
  type Stepper,
} from '../text/generation';
import { KvBuffers, KvInPlace, MAX_BATCH, type KvShape, type StepCache } from '../text/kvCache';
import { codedDelta, planSteering, SaeCoders, type HookSteering } from '../text/steerPlan';
import { checkPromptFits, corpusIds, firstReadRow, withBos } from '../text/textRule';
import { TextTokenizer } from '../text/tokenizer';
import { f32, HfDecoder, isZHook } from './hfDecoder';

type GenerateOutput = z.output<typeof TextGenerateOutput>;
type ActiveResult = z.output<typeof ActiveOutput>;
/** A steered row's steering, by hook. */
export type HfSteering = Map<string, HookSteering>;
export type HfRow = RowState<HfSteering>;

export interface HfEngineOptions {
  /** Where rewired graphs are cached (default `<pack dir>/cache`). */
  cacheDir?: string;
  /** ORT intra-op threads (default 1). */
  threads?: number;
  /** As the split engine's (TextEngineOptions.keepBefore): default true. */
  keepBefore?: boolean;
}

interface LoadedSae {
  sae: Sae;
  hook: string;
}

/** Spare KV buffers and the positions they hold. */
interface Spare {
  buffers: KvBuffers;
  positions: number;
}

export class HfTextEngine implements TextEngineApi, Stepper<HfSteering> {
  readonly kind = 'text-lm' as const;
  private readonly spares: Spare[] = [];
  private readonly coders: SaeCoders;
  /** Before rows of recent generations (a dial's ticks share theirs), or null (keepBefore). */
  private readonly kept: KeptBefore | null;
  /** The steered hooks, shallowest first. */
  private readonly steerOrder: string[];

  private constructor(
    private readonly pack: LoadedPack,
    private readonly model: HfTextModel,
    readonly decoder: HfDecoder,
    readonly tokenizer: TextTokenizer,
    private readonly saes: ReadonlyMap<string, LoadedSae>,
    private readonly examples: ExampleTexts,
    private readonly listed: RuntimeInfo['examples'],
    private readonly warnings: string[],
    private readonly loadMs: number,
    threads: number,
    keepBefore: boolean,
  ) {
    this.coders = new SaeCoders(threads);
    this.kept = keepBefore ? new KeptBefore() : null;
    this.steerOrder = decoder.hooks.filter((h) => decoder.steered.has(h));
  }

  /**
   * Opens an HF text-lm library entry: tokenizer, SAEs (checked against the hooks), the
   * rewired graph (self-checked) and the examples. Errors are OrreryErrors naming the file,
   * the SAE or the graph node.
   */
  static async load(pack: LoadedPack, options: HfEngineOptions = {}): Promise<HfTextEngine> {
    const t0 = performance.now();
    const m = pack.manifest;
    if (m.kind !== 'text-lm' || !isHfModel(m.model)) {
      throw new OrreryError('bad_pack', `pack ${m.id} is not a Hugging Face text model`);
    }
    const model = m.model;
    let tokenizer: TextTokenizer;
    try {
      tokenizer = await TextTokenizer.load(path.join(model.dir, model.tokenizer), model.vocab_size);
    } catch (e) {
      throw new OrreryError('bad_pack', `pack ${m.id}: ${(e as Error).message}`);
    }
    const hooks = allHooksWithZ(model.n_layers);
    const zWidth = model.n_heads * model.d_head;
    const saes = new Map<string, LoadedSae>();
    const warnings: string[] = [];
    for (const ref of m.saes) {
      let sae: Sae;
      try {
        sae = await loadSae(packFile(pack.dir, ref.dir));
      } catch (e) {
        throw new OrreryError('bad_pack', `pack ${m.id}, SAE "${ref.id}": ${(e as Error).message}`);
      }
      const hook = checkSaeFits(ref, sae, {
        name: `${model.architecture} model ${m.id}`,
        hooks,
        width: isZHook(ref.hook) ? zWidth : model.d_model,
      });
      saes.set(ref.id, { sae, hook });
      warnings.push(...saeWarnings(ref, sae));
    }
    const saeHooks = [...new Set([...saes.values()].map((s) => s.hook))];
    const threads = options.threads ?? 1;
    const decoder = await HfDecoder.open(model, {
      cacheDir: options.cacheDir ?? path.join(pack.dir, 'cache'),
      expose: saeHooks,
      steer: saeHooks,
      threads,
    });
    try {
      const examples = new ExampleTexts(m.examples ? packFile(pack.dir, m.examples.texts) : null);
      return new HfTextEngine(
        pack,
        model,
        decoder,
        tokenizer,
        saes,
        examples,
        await examples.listed(),
        warnings,
        performance.now() - t0,
        threads,
        options.keepBefore ?? true,
      );
    } catch (e) {
      await decoder.release();
      throw e;
    }
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
      ...(this.warnings.length > 0 ? { warnings: [...this.warnings] } : {}),
    };
  }

  async dispose(): Promise<void> {
    await this.decoder.release();
    await this.coders.dispose();
  }

  /** The prompt as the model reads it: BOS (when the model has one), then the text's ids. */
  promptIds(prompt: string): number[] {
    return withBos(this.tokenizer.encode(prompt), this.model.bos_token_id);
  }

  generate(input: TextGenerateInput, ctx: EngineContext): Promise<GenerateOutput> {
    return this.generateWith(input, ctx, {});
  }

  async generateWith(
    input: TextGenerateInput,
    ctx: EngineContext,
    mode: GenerateMode,
  ): Promise<GenerateOutput> {
    const t0 = performance.now();
    const steering = await this.planDials(input.dials);
    const prompt = this.promptIds(input.prompt);
    const context = this.model.context;
    checkPromptFits(prompt.length, context, 1);
    checkCancelled(ctx);
    const { maxTokens, temperature, topK, topP, seed } = input.sampling;
    const run = await generateRows(
      this,
      this.tokenizer,
      {
        prompt,
        steering,
        params: { temperature, topK, topP },
        seed,
        limit: Math.min(maxTokens, context - prompt.length),
        eos: mode.ignoreEos ? undefined : this.model.eos_token_id,
        cache: mode.cache ?? true,
        batched: mode.batched ?? true,
      },
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

  /** Dials → the after row's steering by hook (TopK rankers ready); null when all rest. */
  async planDials(dials: readonly DialInput[]): Promise<HfSteering | null> {
    const steering = planSteering(dials, (saeId, k) => this.saeOf(saeId, k));
    for (const at of steering?.values() ?? []) await this.coders.prepare(at.coded);
    return steering;
  }

  /** The features of one SAE active at each prompt token, and each feature's strongest value. */
  async active(input: TextActiveInput, ctx: EngineContext): Promise<ActiveResult> {
    const { sae, hook } = this.saeOf(input.saeId, null);
    const prompt = this.idsFor(sae, input.prompt);
    if (prompt.length === 0) return { rows: [], strongest: [] };
    checkPromptFits(prompt.length, this.model.context, 0);
    checkCancelled(ctx);
    const f = sae.encode(await this.decoder.hookRows(hook, [prompt]), prompt.length);
    return activeRows(
      f,
      sae.dSae,
      prompt,
      this.model.bos_token_id,
      (id) => this.tokenizer.tokenText(id),
      input.topK,
    );
  }

  /** Each token's activation at the SAE's hook (BOS left out; the first window of the text). */
  async saeRows(saeId: string, input: SelectionInput, ctx: EngineContext): Promise<SaeRows> {
    const { sae, hook } = this.saeOf(saeId, null);
    const text = 'text' in input ? input.text : await this.examples.text(input.source);
    const rule = { bos: this.model.bos_token_id, context: this.model.context };
    const { ids } = corpusIds(this.tokenizer.encode(text), rule, sae.config);
    checkCancelled(ctx);
    const skip = firstReadRow(ids, this.model.bos_token_id);
    if (ids.length <= skip) return { sae, h: new Float32Array(0), n: 0 };
    const h = await this.decoder.hookRows(hook, [ids]);
    return { sae, h: h.subarray(skip * this.decoder.widthOf(hook)), n: ids.length - skip };
  }

  corpusSample(count: number): Promise<SelectionInput[]> {
    return this.examples.sample(count);
  }

  /** A text's ids as an SAE reads them: BOS first when the model has one and the SAE did. */
  private idsFor(sae: Sae, text: string): number[] {
    return withBos(this.tokenizer.encode(text), this.model.bos_token_id, sae.config.prependBos);
  }

  /** The SAE a dial or call names. */
  private saeOf(saeId: string, dialIndex: number | null): LoadedSae {
    const entry = this.saes.get(saeId);
    if (!entry) {
      const at = dialIndex === null ? '' : `dial ${dialIndex}: `;
      const known = [...this.saes.keys()].map((k) => `"${k}"`).join(', ') || 'none';
      throw new OrreryError(
        'bad_input',
        `${at}pack ${this.pack.manifest.id} has no SAE "${saeId}" (it has ${known})`,
      );
    }
    return entry;
  }

  get vocab(): number {
    return this.model.vocab_size;
  }

  /** KV buffers big enough for `positions` (a spare one, or new), with the cache over them. */
  openCache(rows: number, cache: boolean, positions: number): DecodeCache {
    const need = Math.min(this.model.context, Math.max(positions, 64));
    const at = this.spares.findIndex((s) => s.positions >= need);
    const spare = at >= 0 ? (this.spares.splice(at, 1)[0] as Spare) : null;
    const shape = this.kvShape(spare?.positions ?? roundUp(need, this.model.context));
    const buffers = spare?.buffers ?? new KvBuffers(shape, 2);
    const kv: StepCache | null = cache ? new KvInPlace(buffers, shape, rows) : null;
    return {
      kv,
      buffers,
      close: () => {
        this.spares.push({ buffers, positions: shape.context });
        // keep the two largest
        this.spares.sort((a, b) => b.positions - a.positions).splice(MAX_BATCH);
      },
    };
  }

  private kvShape(positions: number): KvShape {
    const m = this.model;
    return {
      n_layers: m.n_layers,
      n_heads: m.n_kv_heads ?? m.n_heads,
      d_head: m.d_head,
      d_model: m.d_model,
      context: positions,
      vocab_size: m.vocab_size,
    };
  }

  /**
   * One step for the live rows (see the file's comment): ids [rows, seq] at the positions
   * after the cache (or from 0 without one) → logits [rows, seq, vocab]; with a cache, ORT
   * writes every layer's present into the cache's other buffers.
   */
  async step(
    rows: readonly HfRow[],
    ids: BigInt64Array,
    seq: number,
    kv: StepCache | null,
    buf: KvBuffers,
  ): Promise<Float32Array> {
    const V = this.model.vocab_size;
    const B = rows.length;
    const pos0 = kv ? kv.len : 0;
    const positions = buf.positions.subarray(0, B * seq);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < seq; t++) positions[b * seq + t] = BigInt(pos0 + t);
    }
    const steer = await this.steering(rows, ids, seq, positions, kv);
    const run = { ids, batch: B, seq, pos0, positions, steer };
    const layers = Array.from({ length: this.model.n_layers }, (_, l) => l);
    if (!kv) {
      return f32(await this.decoder.run({ ...run, past: null }, { logits: null }), 'logits');
    }
    const out = await this.decoder.run(
      { ...run, past: kv.past(layers) },
      {
        logits: seq === 1 ? { dims: [B, 1, V], data: buf.logits.subarray(0, B * V) } : null,
        ...kv.outputs(layers, seq),
      },
    );
    kv.store(layers, out, seq);
    kv.advance(seq);
    return f32(out, 'logits');
  }

  /**
   * The steering tensors of one step by hook: constants as [B, 1, d] (or written at every
   * position where a hook also has pin/scale dials, [B, seq, d]); pin/scale deltas from each
   * steered row's own run up to the hook, shallowest hook first.
   */
  private async steering(
    rows: readonly HfRow[],
    ids: BigInt64Array,
    seq: number,
    positions: BigInt64Array,
    kv: StepCache | null,
  ): Promise<Map<string, TensorLike>> {
    const B = rows.length;
    const out = new Map<string, TensorLike>();
    for (const hook of this.steerOrder) {
      const d = this.decoder.widthOf(hook);
      const at = rows.map((r) => r.steering?.get(hook) ?? null);
      if (at.every((s) => s === null)) continue;
      const width = at.some((s) => s !== null && s.coded.length > 0) ? seq : 1;
      const data = new Float32Array(B * width * d);
      at.forEach((s, b) => {
        if (!s?.constant) return;
        for (let t = 0; t < width; t++) data.set(s.constant, (b * width + t) * d);
      });
      out.set(hook, { dims: [B, width, d], data });
    }
    const layers = Array.from({ length: this.model.n_layers }, (_, l) => l);
    for (const hook of this.steerOrder) {
      const d = this.decoder.widthOf(hook);
      for (let b = 0; b < B; b++) {
        const coded = rows[b]?.steering?.get(hook)?.coded ?? [];
        if (coded.length === 0) continue;
        // This row alone, up to the hook, with the steering found so far.
        const rowSteer = new Map<string, TensorLike>();
        for (const [h, t] of out) rowSteer.set(h, rowOf(t, b));
        const past = kv ? rowPast(kv.past(layers), b) : null;
        const h = await this.decoder.runUpTo(hook, {
          ids: ids.subarray(b * seq, (b + 1) * seq),
          batch: 1,
          seq,
          pos0: kv ? kv.len : 0,
          positions: positions.subarray(b * seq, (b + 1) * seq),
          past,
          steer: rowSteer,
        });
        const target = out.get(hook)?.data as Float32Array;
        for (const g of coded) {
          const delta = await codedDelta(g, h, seq);
          const o = b * seq * d;
          for (let i = 0; i < delta.length; i++)
            target[o + i] = (target[o + i] ?? 0) + (delta[i] ?? 0);
        }
      }
    }
    return out;
  }
}

/** Batch row b of a [B, …] tensor, as a [1, …] view. */
function rowOf(t: TensorLike, b: number): TensorLike {
  const [B = 1, ...rest] = t.dims;
  const per = t.data.length / B;
  return { dims: [1, ...rest], data: t.data.subarray(b * per, (b + 1) * per) };
}

/** Batch row b of every past tensor. */
function rowPast(past: Record<string, TensorLike>, b: number): Record<string, TensorLike> {
  const out: Record<string, TensorLike> = {};
  for (const [name, t] of Object.entries(past)) out[name] = rowOf(t, b);
  return out;
}

/** n rounded up to a multiple of 64, at most `max`. */
function roundUp(n: number, max: number): number {
  return Math.min(max, Math.ceil(n / 64) * 64);
}
