/**
 * Model activations at an SAE's hook for chunks of the corpus, per pack kind:
 * - text-lm: through the runtime's own model adapter and text rule (runtime/text/textRule):
 *   a split pack's below.onnx (above.onnx, steering zero, only when logits are asked for), or
 *   a Hugging Face export through HfDecoder at any hook it exposes; ids as the SAE reads them
 *   (BOS first when the model has one and the SAE's prepend_bos says so, cut to the window
 *   min(context, context_size)); the BOS row is left out (the same for every example);
 * - image-vae: through the image engine's hook reader (runtime/image/imageHooks): encoder →
 *   mu (hook `latent`), or decoder_head(mu) → spatial, one row per H×W position (the
 *   manifest's spatial hook, e.g. `decoder.hook_spatial`);
 * - glyph-cvae: through the typeface engine's reader (runtime/glyph/glyphHooks): encoder
 *   over the face's encoder_chars → style.
 * Rows come with the example and the position they belong to.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';
import { allHooksWithZ } from '../../onnx/hookNames';
import { imageHookWidths, LATENT_HOOK, STYLE_HOOK } from '../../packs/kindHooks';
import { isHfModel, type HfTextModel } from '../../packs/manifest';
import { textHooks, textSegments, type TextSegment } from '../../packs/textSegments';
import type { LoadedPack } from '../../packs/packReader';
import { GlyphHooks } from '../../runtime/glyph/glyphHooks';
import { f32, HfDecoder } from '../../runtime/hf/hfDecoder';
import { ImageHooks } from '../../runtime/image/imageHooks';
import { OnnxSession, type TensorLike } from '../../runtime/onnx';
import { corpusIds, firstReadRow, type SaeReading } from '../../runtime/text/textRule';
import { TextTokenizer } from '../../runtime/text/tokenizer';
import { sheetGlyph, sheetTile, type Corpus, type CorpusExample } from '../corpus';
import { tokenizers } from '../../packages';

export interface ActivationChunk {
  /** [rows, d_in] */
  x: Float32Array;
  rows: number;
  /** [rows] example id of each row */
  example: Int32Array;
  /** [rows] position of each row inside its example (token index, spatial cell, 0) */
  position: Int32Array;
  /** text: the display string of each token of each example, by example id (BOS excluded) */
  tokens: Map<number, string[]>;
}

export interface ActivationSource {
  readonly dIn: number;
  /** What one row is, for a person ("token", "image", "spatial cell", "face"). */
  readonly unit: string;
  /** Spatial sources: [height, width] of the map, so a top example can show where. */
  readonly grid: [number, number] | null;
  run(examples: readonly CorpusExample[]): Promise<ActivationChunk>;
  dispose(): Promise<void>;
}

function int64(values: number[]): BigInt64Array {
  return BigInt64Array.from(values, (v) => BigInt(v));
}

async function session(pack: LoadedPack, rel: string, threads: number): Promise<OnnxSession> {
  return OnnxSession.create(path.join(pack.dir, rel), { intraOpThreads: threads });
}

function output(out: Record<string, TensorLike>, name: string): Float32Array {
  const t = out[name];
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`the model gave no float "${name}"`);
  return t.data;
}

export interface TextModelInfo {
  /** The width of the rows this reader gives: d_model on the residual stream (n_heads·d_head
   * when an HF reader reads attn.hook_z). */
  dModel: number;
  nLayers: number;
  nHeads: number;
  dHead: number;
  context: number;
  vocab: number;
  /** The model's BOS and EOS ids, undefined when it has none. */
  bos: number | undefined;
  eos: number | undefined;
}

export type { SaeReading } from '../../runtime/text/textRule';

/** The text model with its tokenizer: forward passes for the index build and logit lens. */
export interface TextModel {
  readonly info: TextModelInfo;
  /** A text's ids as the SAE reads them (the text rule): BOS first when due, cut to the window. */
  encode(text: string): number[];
  /** The display string of one token. */
  tokenText(id: number): string;
  /**
   * One forward pass, no cache: ids [batch, seq] (right-padded with 0; causal attention keeps
   * padding out of earlier positions) and steering [batch, seq, d_model] at the hook (zeros
   * when null) → logits [batch, seq, vocab] and the hook's rows [batch, seq, d_model].
   */
  forward(
    ids: number[][],
    steering?: Float32Array | null,
  ): Promise<{ logits: Float32Array; resid: Float32Array; seq: number }>;
  /** The hook's rows only [batch, seq, d_model]. */
  resid(ids: number[][]): Promise<{ resid: Float32Array; seq: number }>;
  dispose(): Promise<void>;
}

export interface TextModelOptions {
  /** The hook to read (default: a split pack's own hook; an HF model needs one). */
  hook?: string;
  threads?: number;
  read?: SaeReading;
  /** Where an HF model's rewired graph is cached (default `<pack dir>/cache`, as the engine). */
  cacheDir?: string;
}

/** Opens a text pack's model: split graphs, or a Hugging Face export at `hook`. */
async function openTextModel(pack: LoadedPack, o: TextModelOptions = {}): Promise<TextModel> {
  const m = pack.manifest;
  if (m.kind !== 'text-lm') throw new Error(`pack ${m.id} is not a text-lm pack`);
  const read = o.read ?? { prependBos: true, contextSize: null };
  if (isHfModel(m.model)) {
    return HfModel.open(pack.dir, m.model, o.hook, o.threads ?? 1, read, o.cacheDir);
  }
  const hooks = textHooks(m.model);
  const hook = o.hook ?? m.model.hook;
  if (!hooks.includes(hook)) {
    throw new Error(`the text model exposes ${hooks.join(', ')}, not ${hook}`);
  }
  return SplitModel.open(pack, hook, o.threads ?? 1, read);
}

export const TextModel = { open: openTextModel };

/** Per-token display strings, cached (the corpus repeats a few thousand ids). */
class TokenTexts {
  private readonly texts = new Map<number, string>();
  constructor(private readonly decode: (id: number) => string) {}
  get(id: number): string {
    let t = this.texts.get(id);
    if (t === undefined) {
      t = this.decode(id);
      this.texts.set(id, t);
    }
    return t;
  }
}

/** Ids [batch][≤ seq] right-padded with 0 into int64 [batch, seq]. */
function padded(ids: number[][]): { flat: BigInt64Array; seq: number } {
  const seq = Math.max(1, ...ids.map((r) => r.length));
  const flat = new BigInt64Array(ids.length * seq);
  ids.forEach((row, b) => row.forEach((id, t) => (flat[b * seq + t] = BigInt(id))));
  return { flat, seq };
}

/** A Hugging Face export through the runtime's adapter, exposing and steering one hook. */
class HfModel implements TextModel {
  private readonly texts: TokenTexts;

  private constructor(
    readonly info: TextModelInfo,
    private readonly decoder: HfDecoder,
    private readonly hook: string,
    private readonly tokenizer: TextTokenizer,
    private readonly read: SaeReading,
  ) {
    this.texts = new TokenTexts((id) => tokenizer.tokenText(id));
  }

  static async open(
    packDir: string,
    model: HfTextModel,
    hook: string | undefined,
    threads: number,
    read: SaeReading,
    cacheDir: string | undefined,
  ): Promise<HfModel> {
    const hooks = allHooksWithZ(model.n_layers);
    if (hook === undefined || !hooks.includes(hook)) {
      throw new Error(
        `the ${model.architecture} model has no hook ${hook ?? '(none given)'} ` +
          `(blocks.0.hook_resid_pre … blocks.${model.n_layers - 1}.hook_resid_post, blocks.N.attn.hook_z)`,
      );
    }
    const tokenizer = await TextTokenizer.load(
      path.join(model.dir, model.tokenizer),
      model.vocab_size,
    );
    const decoder = await HfDecoder.open(model, {
      cacheDir: cacheDir ?? path.join(packDir, 'cache'),
      expose: [hook],
      steer: [hook],
      threads,
    });
    const info: TextModelInfo = {
      // the width at the hook this reader reads and steers (n_heads·d_head at attn.hook_z)
      dModel: decoder.widthOf(hook),
      nLayers: model.n_layers,
      nHeads: model.n_kv_heads ?? model.n_heads,
      dHead: model.d_head,
      context: model.context,
      vocab: model.vocab_size,
      bos: model.bos_token_id,
      eos: model.eos_token_id,
    };
    return new HfModel(info, decoder, hook, tokenizer, read);
  }

  encode(text: string): number[] {
    return corpusIds(this.tokenizer.encode(text), this.info, this.read).ids;
  }

  tokenText(id: number): string {
    return this.texts.get(id);
  }

  async forward(
    ids: number[][],
    steering: Float32Array | null = null,
  ): Promise<{ logits: Float32Array; resid: Float32Array; seq: number }> {
    const { flat, seq } = padded(ids);
    const batch = ids.length;
    const steer = steering
      ? new Map([[this.hook, { dims: [batch, seq, this.info.dModel], data: steering }]])
      : undefined;
    const out = await this.decoder.run(
      { ids: flat, batch, seq, pos0: 0, past: null, ...(steer ? { steer } : {}) },
      { logits: null, [this.hook]: null },
    );
    return { logits: f32(out, 'logits'), resid: f32(out, this.hook), seq };
  }

  async resid(ids: number[][]): Promise<{ resid: Float32Array; seq: number }> {
    const { flat, seq } = padded(ids);
    const out = await this.decoder.run(
      { ids: flat, batch: ids.length, seq, pos0: 0, past: null },
      { [this.hook]: null },
    );
    return { resid: f32(out, this.hook), seq };
  }

  async dispose(): Promise<void> {
    await this.decoder.release();
  }
}

/**
 * A split text pack read and steered at one of its hooks: below.onnx (tokens → the first
 * hook's residual), the middle graphs of a pack with several hooks, above.onnx (→ logits);
 * main/packs/textSegments.
 */
class SplitModel implements TextModel {
  private readonly texts: TokenTexts;

  private constructor(
    readonly info: TextModelInfo,
    private readonly segments: { plan: TextSegment; session: OnnxSession }[],
    private readonly hook: string,
    readonly tokenizer: Tokenizer,
    private readonly read: SaeReading,
  ) {
    this.texts = new TokenTexts((id) => tokenizer.decode([id], { skip_special_tokens: false }));
  }

  static async open(
    pack: LoadedPack,
    hook: string,
    threads: number,
    read: SaeReading,
  ): Promise<SplitModel> {
    const m = pack.manifest;
    if (m.kind !== 'text-lm' || isHfModel(m.model))
      throw new Error(`pack ${m.id} is a Hugging Face export, not a split pack`);
    const json = JSON.parse(
      await fs.readFile(path.join(pack.dir, m.model.tokenizer), 'utf8'),
    ) as object;
    const tokenizer = new (tokenizers().Tokenizer)(json, { clean_up_tokenization_spaces: false });
    const graphs = m.model.onnx;
    if (typeof graphs === 'string') {
      throw new Error(
        `pack ${m.id}: ${graphs} is the single-graph layout of older packs; convert it with ` +
          'models/recipes/text/reexport.py',
      );
    }
    const segments: { plan: TextSegment; session: OnnxSession }[] = [];
    try {
      for (const plan of textSegments({ ...m.model, onnx: graphs }))
        segments.push({ plan, session: await session(pack, plan.rel, threads) });
    } catch (e) {
      for (const g of segments) await g.session.release();
      throw e;
    }
    const info: TextModelInfo = {
      dModel: m.model.d_model,
      nLayers: m.model.n_layers,
      nHeads: m.model.n_heads,
      dHead: m.model.d_head,
      context: m.model.context,
      vocab: m.model.vocab_size,
      bos: m.model.bos_token_id,
      eos: m.model.eos_token_id,
    };
    return new SplitModel(info, segments, hook, tokenizer, read);
  }

  encode(text: string): number[] {
    const ids = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    return corpusIds(ids, this.info, this.read).ids;
  }

  tokenText(id: number): string {
    return this.texts.get(id);
  }

  async forward(
    ids: number[][],
    steering: Float32Array | null = null,
  ): Promise<{ logits: Float32Array; resid: Float32Array; seq: number }> {
    const { resid, logits, seq } = await this.run(ids, steering, true);
    if (!logits) throw new Error('the model gave no "logits"');
    return { logits, resid, seq };
  }

  /** The hook's rows only [batch, seq, d_model]: the graphs up to it alone. */
  async resid(ids: number[][]): Promise<{ resid: Float32Array; seq: number }> {
    const { resid, seq } = await this.run(ids, null, false);
    return { resid, seq };
  }

  /** The graphs in order, `steering` added at this reader's hook (zeros at any other). */
  private async run(
    ids: number[][],
    steering: Float32Array | null,
    logits: boolean,
  ): Promise<{ resid: Float32Array; logits: Float32Array | null; seq: number }> {
    const { dModel, nHeads, dHead } = this.info;
    const batch = ids.length;
    const seq = Math.max(1, ...ids.map((r) => r.length));
    const flat: number[] = [];
    const pos: number[] = [];
    for (const row of ids) {
      for (let s = 0; s < seq; s++) {
        flat.push(row[s] ?? 0);
        pos.push(s);
      }
    }
    const empty = new Float32Array(0);
    const given: Record<string, TensorLike> = {
      input_ids: { dims: [batch, seq], data: int64(flat) },
      position_ids: { dims: [batch, seq], data: int64(pos) },
    };
    const zeros = new Float32Array(batch * seq * dModel);
    // Each graph's own inputs: the ids, positions and steering, and an empty past per layer.
    const feeds = (g: OnnxSession): Record<string, TensorLike> =>
      Object.fromEntries(
        g.inputs.map((i) => [
          i.name,
          given[i.name] ?? { dims: [batch, nHeads, 0, dHead], data: empty },
        ]),
      );
    let resid: Float32Array | null = null;
    for (const { plan, session: g } of this.segments) {
      if (plan.from !== null) {
        const data = plan.from === this.hook && steering ? steering : zeros;
        given.steering = { dims: [batch, seq, dModel], data };
      }
      const out = await g.run(feeds(g), [plan.output]);
      if (plan.to === null) return { resid: resid ?? zeros, logits: output(out, 'logits'), seq };
      given.hook_resid = { dims: [batch, seq, dModel], data: output(out, plan.output) };
      if (plan.to === this.hook) {
        resid = output(out, plan.output);
        if (!logits) return { resid, logits: null, seq };
      }
    }
    throw new Error('the text graphs give no logits');
  }

  async dispose(): Promise<void> {
    for (const g of this.segments) await g.session.release();
  }
}

class TextSource implements ActivationSource {
  readonly unit = 'token';
  readonly grid = null;
  constructor(private readonly model: TextModel) {}

  get dIn(): number {
    return this.model.info.dModel;
  }

  async run(examples: readonly CorpusExample[]): Promise<ActivationChunk> {
    const d = this.dIn;
    const bos = this.model.info.bos;
    const ids = examples.map((e) => this.model.encode(e.body ?? ''));
    // The rows an SAE reads of each example: all but the BOS position.
    const skip = ids.map((row) => firstReadRow(row, bos));
    const counts = ids.map((row, b) => row.length - (skip[b] ?? 0));
    const rows = counts.reduce((s, c) => s + c, 0);
    const x = new Float32Array(rows * d);
    const example = new Int32Array(rows);
    const position = new Int32Array(rows);
    const tokens = new Map<number, string[]>();
    // Rows keep the examples' order; where each example's rows start:
    const rowStart: number[] = [];
    counts.reduce((r, c) => (rowStart.push(r), r + c), 0);
    const read = ids.map((row, b) => (row.length > (skip[b] ?? 0) ? b : -1)).filter((b) => b >= 0);
    for (const batch of lengthBatches(read.map((b) => ids[b] as number[]))) {
      const group = batch.map((i) => read[i] as number);
      const { resid, seq } = await this.model.resid(group.map((b) => ids[b] as number[]));
      group.forEach((b, g) => {
        const row = ids[b] as number[];
        const from = skip[b] ?? 0;
        const ex = examples[b] as CorpusExample;
        tokens.set(
          ex.id,
          row.slice(from).map((t) => this.model.tokenText(t)),
        );
        let r = rowStart[b] ?? 0;
        for (let s = from; s < row.length; s++) {
          x.set(resid.subarray((g * seq + s) * d, (g * seq + s + 1) * d), r * d);
          example[r] = ex.id;
          position[r] = s - from;
          r++;
        }
      });
    }
    return { x, rows, example, position, tokens };
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/**
 * Batches of examples of similar length (indices into `ids`), so that right-padding to the
 * longest in a batch wastes at most about a fifth of the work.
 */
export function lengthBatches(ids: readonly (readonly unknown[])[], maxBatch = 16): number[][] {
  const order = ids.map((_, i) => i).sort((a, b) => (ids[a]?.length ?? 0) - (ids[b]?.length ?? 0));
  const out: number[][] = [];
  let group: number[] = [];
  let sum = 0;
  for (const i of order) {
    const len = ids[i]?.length ?? 0;
    const padded = len * (group.length + 1);
    if (group.length > 0 && (group.length >= maxBatch || padded > 1.2 * (sum + len))) {
      out.push(group);
      group = [];
      sum = 0;
    }
    group.push(i);
    sum += len;
  }
  if (group.length > 0) out.push(group);
  return out;
}

/** An image pack's rows through the engine's own reader (runtime/image/imageHooks). */
class ImageSource implements ActivationSource {
  readonly unit: string;
  readonly grid: [number, number] | null;
  readonly dIn: number;
  private readonly spatial: boolean;
  constructor(
    private readonly pack: LoadedPack & { manifest: { kind: 'image-vae' } },
    private readonly corpus: Corpus,
    private readonly hooks: ImageHooks,
    private readonly hook: string,
  ) {
    const sp = pack.manifest.model.spatial;
    this.spatial = hook !== LATENT_HOOK;
    this.grid = this.spatial && sp ? [sp.height, sp.width] : null;
    this.unit = this.spatial ? 'spatial cell' : 'image';
    this.dIn = hooks.widths.get(hook) ?? 0;
  }

  async run(examples: readonly CorpusExample[]): Promise<ActivationChunk> {
    const m = this.pack.manifest.model;
    const sheet = this.corpus.sheet;
    if (!sheet) throw new Error('the image corpus has no sheet');
    const { size, channels, range } = m.image;
    const per = channels * size * size;
    const batch = examples.length;
    const image = new Float32Array(batch * per);
    examples.forEach((e, b) => {
      sheetTile(sheet, e.id, channels, range, m.image.background, image, b * per);
    });
    const { h: x, rows } = await this.hooks.rows(this.hook, image, batch);
    // rows of one example are consecutive: one (latent) or one per spatial cell
    const per1 = rows / Math.max(1, batch);
    const example = new Int32Array(rows);
    const position = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      example[r] = (examples[Math.floor(r / per1)] as CorpusExample).id;
      position[r] = r % per1;
    }
    return { x, rows, example, position, tokens: new Map() };
  }

  async dispose(): Promise<void> {
    await this.hooks.dispose();
  }
}

/** A typeface pack's style rows through the engine's own reader (runtime/glyph/glyphHooks). */
class GlyphSource implements ActivationSource {
  readonly unit = 'face';
  readonly grid = null;
  constructor(
    private readonly pack: LoadedPack & { manifest: { kind: 'glyph-cvae' } },
    private readonly corpus: Corpus,
    private readonly hooks: GlyphHooks,
  ) {}

  get dIn(): number {
    return this.pack.manifest.model.style_dim;
  }

  async run(examples: readonly CorpusExample[]): Promise<ActivationChunk> {
    const m = this.pack.manifest.model;
    const sheet = this.corpus.sheet;
    if (!sheet) throw new Error('the glyph corpus has no sheet');
    const size = m.glyph.size;
    const chars = [...m.encoder_chars].map((ch) => {
      const i = [...m.charset].indexOf(ch);
      if (i < 0) throw new Error(`encoder_chars has "${ch}", which is not in the charset`);
      return i;
    });
    const per = chars.length * size * size;
    const batch = examples.length;
    const glyphs = new Float32Array(batch * per);
    examples.forEach((e, b) => {
      chars.forEach((ci, k) =>
        sheetGlyph(sheet, e.id, ci, m.glyph.range, glyphs, b * per + k * size * size),
      );
    });
    return {
      x: await this.hooks.styleRows(glyphs, batch),
      rows: batch,
      example: Int32Array.from(examples, (e) => e.id),
      position: new Int32Array(batch),
      tokens: new Map(),
    };
  }

  async dispose(): Promise<void> {
    await this.hooks.dispose();
  }
}

/** Opens the ONNX sessions that produce the activations an SAE at `hook` reads. */
export async function openActivationSource(
  pack: LoadedPack,
  corpus: Corpus,
  hook: string,
  threads = 1,
  read?: SaeReading,
): Promise<ActivationSource> {
  const m = pack.manifest;
  if (m.kind === 'text-lm') {
    return new TextSource(await openTextModel(pack, { hook, threads, ...(read ? { read } : {}) }));
  }
  if (m.kind === 'image-vae') {
    const p = pack as LoadedPack & { manifest: { kind: 'image-vae' } };
    const widths = imageHookWidths(m.model);
    if (!widths.has(hook)) {
      throw new Error(
        `the image model has no hook ${hook} (latent or ${m.model.spatial?.hook ?? '—'})`,
      );
    }
    return new ImageSource(p, corpus, await ImageHooks.open(pack, threads), hook);
  }
  if (hook !== STYLE_HOOK) throw new Error(`the glyph model has no hook ${hook} (style)`);
  const p = pack as LoadedPack & { manifest: { kind: 'glyph-cvae' } };
  return new GlyphSource(p, corpus, await GlyphHooks.open(pack, threads));
}
