/**
 * Model activations at an SAE's hook for chunks of the corpus, per pack kind:
 * - text-lm: below.onnx over [BOS] + tokens, past empty; hook_resid per token (above.onnx,
 *   steering zero, only when logits are asked for)
 *   (the BOS position is skipped: it is the same for every example);
 * - image-vae: encoder → mu (hook `latent`), or decoder_head(mu) → spatial, one row per
 *   H×W position (hook `decoder.hook_spatial`);
 * - glyph-cvae: encoder over the face's encoder_chars → style.
 * Rows come with the example and the position they belong to.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { isHfModel } from '../../packs/manifest';
import type { LoadedPack } from '../../packs/packReader';
import { OnnxSession, type TensorLike } from '../../runtime/onnx';
import { nchwToRows } from '../../sae/layout';
import { sheetGlyph, sheetTile, type Corpus, type CorpusExample } from '../corpus';

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
  dModel: number;
  nLayers: number;
  nHeads: number;
  dHead: number;
  context: number;
  vocab: number;
  bos: number;
}

/** The text model with its tokenizer: forward passes for the index build and logit lens. */
export class TextModel {
  private readonly tokenTexts = new Map<number, string>();

  private constructor(
    readonly info: TextModelInfo,
    private readonly below: OnnxSession,
    private readonly above: OnnxSession,
    readonly tokenizer: Tokenizer,
  ) {}

  static async open(pack: LoadedPack, threads = 1): Promise<TextModel> {
    const m = pack.manifest;
    if (m.kind !== 'text-lm') throw new Error(`pack ${m.id} is not a text-lm pack`);
    if (isHfModel(m.model))
      throw new Error(`pack ${m.id} is a Hugging Face export, not a split pack`);
    const json = JSON.parse(
      await fs.readFile(path.join(pack.dir, m.model.tokenizer), 'utf8'),
    ) as object;
    const tokenizer = new Tokenizer(json, { clean_up_tokenization_spaces: false });
    const graphs = m.model.onnx;
    if (typeof graphs === 'string') {
      throw new Error(
        `pack ${m.id}: ${graphs} is the single-graph layout of older packs; convert it with ` +
          'models/recipes/text/reexport.py',
      );
    }
    const below = await session(pack, graphs.below, threads);
    const above = await session(pack, graphs.above, threads);
    return new TextModel(
      {
        dModel: m.model.d_model,
        nLayers: m.model.n_layers,
        nHeads: m.model.n_heads,
        dHead: m.model.d_head,
        context: m.model.context,
        vocab: m.model.vocab_size,
        bos: m.model.bos_token_id ?? 1,
      },
      below,
      above,
      tokenizer,
    );
  }

  /** Token ids of a text, BOS first, cut to the context. */
  encode(text: string): number[] {
    const ids = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    return [this.info.bos, ...ids.slice(0, this.info.context - 1)];
  }

  /** The display string of one token (cached: the corpus repeats a few thousand ids). */
  tokenText(id: number): string {
    let t = this.tokenTexts.get(id);
    if (t === undefined) {
      t = this.tokenizer.decode([id], { skip_special_tokens: false });
      this.tokenTexts.set(id, t);
    }
    return t;
  }

  /**
   * One forward pass, no cache: ids [batch, seq] (right-padded with 0; causal attention
   * keeps padding out of earlier positions) and steering [batch, seq, d_model] (zeros when
   * null) → logits [batch, seq, vocab] and hook_resid [batch, seq, d_model].
   */
  async forward(
    ids: number[][],
    steering: Float32Array | null = null,
  ): Promise<{ logits: Float32Array; resid: Float32Array; seq: number }> {
    const { out, seq } = await this.run(ids, steering, null);
    return { logits: output(out, 'logits'), resid: output(out, 'hook_resid'), seq };
  }

  /** hook_resid only [batch, seq, d_model]: below.onnx alone. */
  async resid(ids: number[][]): Promise<{ resid: Float32Array; seq: number }> {
    const { out, seq } = await this.run(ids, null, ['hook_resid']);
    return { resid: output(out, 'hook_resid'), seq };
  }

  private async run(
    ids: number[][],
    steering: Float32Array | null,
    fetches: string[] | null,
  ): Promise<{ out: Record<string, TensorLike>; seq: number }> {
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
      steering: {
        dims: [batch, seq, dModel],
        data: steering ?? new Float32Array(batch * seq * dModel),
      },
    };
    // Each graph's own inputs: the ids, positions and steering, and an empty past per layer.
    const feeds = (g: OnnxSession): Record<string, TensorLike> =>
      Object.fromEntries(
        g.inputs.map((i) => [
          i.name,
          given[i.name] ?? { dims: [batch, nHeads, 0, dHead], data: empty },
        ]),
      );
    const out = await this.below.run(feeds(this.below), ['hook_resid']);
    if (fetches && !fetches.includes('logits')) return { out, seq };
    const resid = out.hook_resid;
    if (!resid) throw new Error('the model gave no "hook_resid"');
    given.hook_resid = resid;
    const top = await this.above.run(feeds(this.above), ['logits']);
    return { out: { ...out, ...top }, seq };
  }

  async dispose(): Promise<void> {
    await this.below.release();
    await this.above.release();
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
    const ids = examples.map((e) => this.model.encode(e.body ?? ''));
    const rows = ids.reduce((s, r) => s + r.length - 1, 0);
    const x = new Float32Array(rows * d);
    const example = new Int32Array(rows);
    const position = new Int32Array(rows);
    const tokens = new Map<number, string[]>();
    // Rows keep the examples' order; where each example's rows start:
    const rowStart: number[] = [];
    ids.reduce((r, row) => (rowStart.push(r), r + row.length - 1), 0);
    for (const group of lengthBatches(ids)) {
      const { resid, seq } = await this.model.resid(group.map((b) => ids[b] as number[]));
      group.forEach((b, g) => {
        const row = ids[b] as number[];
        const ex = examples[b] as CorpusExample;
        tokens.set(
          ex.id,
          row.slice(1).map((t) => this.model.tokenText(t)),
        );
        let r = rowStart[b] ?? 0;
        for (let s = 1; s < row.length; s++) {
          x.set(resid.subarray((g * seq + s) * d, (g * seq + s + 1) * d), r * d);
          example[r] = ex.id;
          position[r] = s - 1;
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

class ImageSource implements ActivationSource {
  readonly unit: string;
  readonly grid: [number, number] | null;
  constructor(
    private readonly pack: LoadedPack & { manifest: { kind: 'image-vae' } },
    private readonly corpus: Corpus,
    private readonly encoder: OnnxSession,
    private readonly head: OnnxSession | null,
  ) {
    const sp = pack.manifest.model.spatial;
    this.grid = head && sp ? [sp.height, sp.width] : null;
    this.unit = head ? 'spatial cell' : 'image';
  }

  get dIn(): number {
    const m = this.pack.manifest.model;
    return this.head ? (m.spatial?.channels ?? 0) : m.latent_dim;
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
    const enc = await this.encoder.run({
      image: { dims: [batch, channels, size, size], data: image },
    });
    const mu = output(enc, 'mu');
    const tokens = new Map<number, string[]>();
    if (!this.head || !m.spatial) {
      return {
        x: mu,
        rows: batch,
        example: Int32Array.from(examples, (e) => e.id),
        position: new Int32Array(batch),
        tokens,
      };
    }
    const { channels: c, height: h, width: w } = m.spatial;
    const out = await this.head.run({ latent: { dims: [batch, m.latent_dim], data: mu } });
    const x = nchwToRows(output(out, 'spatial'), batch, c, h, w);
    const rows = batch * h * w;
    const example = new Int32Array(rows);
    const position = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      example[r] = (examples[Math.floor(r / (h * w))] as CorpusExample).id;
      position[r] = r % (h * w);
    }
    return { x, rows, example, position, tokens };
  }

  async dispose(): Promise<void> {
    await this.encoder.release();
    await this.head?.release();
  }
}

class GlyphSource implements ActivationSource {
  readonly unit = 'face';
  readonly grid = null;
  constructor(
    private readonly pack: LoadedPack & { manifest: { kind: 'glyph-cvae' } },
    private readonly corpus: Corpus,
    private readonly encoder: OnnxSession,
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
    const out = await this.encoder.run({
      glyphs: { dims: [batch, chars.length, size, size], data: glyphs },
    });
    return {
      x: output(out, 'style'),
      rows: batch,
      example: Int32Array.from(examples, (e) => e.id),
      position: new Int32Array(batch),
      tokens: new Map(),
    };
  }

  async dispose(): Promise<void> {
    await this.encoder.release();
  }
}

/** Opens the ONNX sessions that produce the activations an SAE at `hook` reads. */
export async function openActivationSource(
  pack: LoadedPack,
  corpus: Corpus,
  hook: string,
  threads = 1,
): Promise<ActivationSource> {
  const m = pack.manifest;
  if (m.kind === 'text-lm') {
    const model = m.model;
    if (isHfModel(model))
      throw new Error(`pack ${m.id} is a Hugging Face export, not a split pack`);
    if (hook !== model.hook) {
      throw new Error(`the text model exposes ${model.hook}, not ${hook}`);
    }
    return new TextSource(await TextModel.open(pack, threads));
  }
  if (m.kind === 'image-vae') {
    const p = pack as LoadedPack & { manifest: { kind: 'image-vae' } };
    const enc = await session(pack, m.model.onnx.encoder, threads);
    if (hook === 'latent') return new ImageSource(p, corpus, enc, null);
    if (m.model.spatial && hook === m.model.spatial.hook) {
      return new ImageSource(
        p,
        corpus,
        enc,
        await session(pack, m.model.onnx.decoder_head, threads),
      );
    }
    await enc.release();
    throw new Error(
      `the image model has no hook ${hook} (latent or ${m.model.spatial?.hook ?? '—'})`,
    );
  }
  if (hook !== 'style') throw new Error(`the glyph model has no hook ${hook} (style)`);
  const p = pack as LoadedPack & { manifest: { kind: 'glyph-cvae' } };
  return new GlyphSource(p, corpus, await session(pack, m.model.onnx.encoder, threads));
}
