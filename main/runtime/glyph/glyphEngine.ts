/**
 * The glyph-cvae engine (PACK_FORMAT.md): encoder (the encoder_chars glyphs of one face →
 * style [style_dim]) and decoder (style, char id → glyph [1, size, size]), with an SAE on
 * `style` (n = 1 row of style_dim).
 *
 * specimen: style of the source (a pack example face from the faces sheet, or a user's
 * font drawn by fontReader) → dials on the style SAE → the decoder renders every non-space
 * character of the text in one batch per strip → two specimen strips (before, after), ink
 * dark on light paper, one cell per character (spaces are blank cells). The style and the
 * "before" strip of the last source are kept while dials turn.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { OrreryError, type RuntimeInfo } from '../../../preload/contract';
import type { SelectionInput } from '../../../preload/contract/selections';
import { glyphHookWidths } from '../../packs/kindHooks';
import type { LoadedPack } from '../../packs/packReader';
import {
  readBlob,
  type EngineContext,
  type GlyphEngineApi,
  type GlyphSpecimenInput,
  type SaeRows,
} from '../engine';
import { spreadIndices } from '../selectionMath';
import type { OnnxSession } from '../onnx';
import {
  checkCancelled,
  checkFinite,
  groupDials,
  loadPackSaes,
  openGraphs,
  checkOnLoad,
  output,
  packSae,
  readExampleMeta,
  saeInfo,
  sourceOf,
  steerGroup,
  type PackSae,
} from '../image/engineSupport';
import { SpriteSheet } from '../image/imageIo';
import { chwToRgba, imageRun, Reference, type ImageRun } from '../image/imageMetrics';
import { FontFace } from './fontReader';
import { glyphHookGraph, GlyphHooks } from './glyphHooks';

type GlyphManifest = Extract<LoadedPack['manifest'], { kind: 'glyph-cvae' }>;

export class GlyphEngine implements GlyphEngineApi {
  readonly kind = 'glyph-cvae' as const;
  readonly charset: string[];
  readonly encoderChars: string[];
  readonly size: number;
  readonly styleDim: number;
  /** Model value of full ink (PACK_FORMAT.md glyph.ink; 1 unless the pack says 0). */
  private readonly ink: number;
  private sheet: Promise<SpriteSheet> | null = null;
  private loadMs = 0;
  /** The last source's style, and its unsteered specimen of the last text. */
  private lastSource: {
    key: string;
    style: Float32Array;
    /** The unsteered strip of `text` as RGBA, with what the metrics reuse of it. */
    before?: { text: string; reference: Reference };
  } | null = null;

  private constructor(
    private readonly pack: LoadedPack,
    private readonly manifest: GlyphManifest,
    /** the encoder: the hook's reader, shared with the index build */
    private readonly hooks: GlyphHooks,
    private readonly decoder: OnnxSession,
    readonly saes: readonly PackSae[],
    private readonly examples: RuntimeInfo['examples'],
  ) {
    const model = manifest.model;
    this.charset = [...model.charset];
    this.encoderChars = [...model.encoder_chars];
    this.size = model.glyph.size;
    this.styleDim = model.style_dim;
    this.ink = (model.glyph as { ink?: unknown }).ink === 0 ? 0 : 1;
  }

  static async load(pack: LoadedPack): Promise<GlyphEngine> {
    const t0 = performance.now();
    const m = pack.manifest;
    if (m.kind !== 'glyph-cvae') {
      throw new OrreryError('bad_pack', `${pack.dir}: a ${m.kind} pack is not a typeface pack`);
    }
    const charset = [...m.model.charset];
    if (new Set(charset).size !== charset.length) {
      throw new OrreryError('bad_pack', 'manifest.json: model.charset repeats a character');
    }
    const stray = [...m.model.encoder_chars].filter((c) => !charset.includes(c));
    if (stray.length) {
      throw new OrreryError(
        'bad_pack',
        `manifest.json: encoder_chars ${stray.join('')} are not in the charset`,
      );
    }
    const saes = await loadPackSaes(pack, glyphHookWidths(m.model));
    const examples = m.examples ? await readExampleMeta(pack, m.examples.meta) : [];
    const sessions = await openGraphs(pack, [
      glyphHookGraph(m.model),
      { rel: m.model.onnx.decoder, inputs: ['style', 'char_ids'], outputs: ['glyph'] },
    ]);
    const [encoder, decoder] = sessions as [OnnxSession, OnnxSession];
    const hooks = new GlyphHooks(m.model, encoder);
    const engine = new GlyphEngine(pack, m, hooks, decoder, saes, examples);
    // one glyph from a zero style checks the decoder against the manifest's shapes
    await checkOnLoad(pack, engine, 'decoding a zero style', () =>
      engine.decode(new Float32Array(engine.styleDim), [0]),
    );
    engine.loadMs = performance.now() - t0;
    return engine;
  }

  info(): RuntimeInfo {
    return {
      packId: this.manifest.id,
      kind: 'glyph-cvae',
      saes: saeInfo(this.saes),
      examples: this.examples,
      charset: this.charset.join(''),
      loadMs: this.loadMs,
    };
  }

  async dispose(): Promise<void> {
    await Promise.all([this.hooks.dispose(), this.decoder.release()]);
  }

  // ---------------------------------------------------------------- tensors

  /**
   * The style [1, style_dim] of a source. The last one is kept: turning a dial resends the
   * same font, which then is neither parsed nor drawn again.
   */
  async styleOf(source: GlyphSpecimenInput['source'], ctx: EngineContext): Promise<Float32Array> {
    const key = 'example' in source ? `example:${source.example}` : `font:${source.blob}`;
    if (this.lastSource?.key === key) return this.lastSource.style;
    const glyphs = await this.sourceGlyphs(source, ctx);
    checkCancelled(ctx.signal);
    const style = await this.encode(glyphs, 1);
    checkCancelled(ctx.signal);
    this.lastSource = { key, style };
    return style;
  }

  async saeRows(saeId: string, input: SelectionInput, ctx: EngineContext): Promise<SaeRows> {
    const sae = packSae(this.saes, saeId);
    // not through styleOf: the dials' cached source stays as it is
    const glyphs = await this.sourceGlyphs(sourceOf(input, 'glyph-cvae'), ctx);
    checkCancelled(ctx.signal);
    return { sae: sae.sae, h: await this.encode(glyphs, 1), n: 1 };
  }

  corpusSample(count: number): Promise<SelectionInput[]> {
    return Promise.resolve(
      spreadIndices(this.examples.length, count).map((example) => ({ source: { example } })),
    );
  }

  /** The encoder's input for a source: [1, len(encoder_chars), size, size], ink = 1. */
  async sourceGlyphs(
    source: GlyphSpecimenInput['source'],
    ctx?: Pick<EngineContext, 'blobFile'>,
  ): Promise<Float32Array> {
    const S = this.size;
    if ('example' in source) return this.exampleGlyphs(source.example, this.encoderChars);
    const what = source.name ? `"${source.name}"` : 'the font';
    const face = FontFace.parse(await readBlob(ctx, source.blob), what);
    return this.toModelInk(face.renderAll(this.encoderChars.join(''), S, what));
  }

  /** An example face's glyphs from the faces sheet: [chars.length, S, S], model ink. */
  async exampleGlyphs(example: number, chars: readonly string[]): Promise<Float32Array> {
    const S = this.size;
    if (example >= this.examples.length) {
      throw new OrreryError(
        'not_found',
        `example face ${example} is not in this pack (0…${this.examples.length - 1})`,
      );
    }
    const sheet = await this.faceSheet();
    const out = new Float32Array(chars.length * S * S);
    chars.forEach((ch, k) => {
      const col = this.charset.indexOf(ch);
      if (col < 0) throw new OrreryError('bad_input', `"${ch}" is not in the charset`);
      const tile = sheet.tileRgba(example * sheet.columns + col);
      // the sheet stores paper = 255, ink = 0
      for (let p = 0; p < S * S; p++) out[k * S * S + p] = 1 - (tile.data[p * 4] ?? 255) / 255;
    });
    return this.toModelInk(out);
  }

  /** glyphs [n, len(encoder_chars), S, S] → style [n, style_dim]. */
  encode(glyphs: Float32Array, n: number): Promise<Float32Array> {
    return this.hooks.styleRows(glyphs, n);
  }

  /**
   * styles [m, style_dim] (m = 1: the same style for every id, or m = ids.length) and char
   * ids [n] → glyphs [n, S, S] in model ink.
   */
  async decode(styles: Float32Array, ids: readonly number[]): Promise<Float32Array> {
    const n = ids.length;
    const D = this.styleDim;
    let style = styles;
    if (styles.length === D && n > 1) {
      style = new Float32Array(n * D);
      for (let i = 0; i < n; i++) style.set(styles, i * D);
    }
    const out = await this.decoder.run({
      style: { dims: [n, D], data: style },
      char_ids: { dims: [n], data: BigInt64Array.from(ids, (i) => BigInt(i)) },
    });
    return output(out, 'glyph', n * this.size * this.size, 'decoder.onnx');
  }

  /** Text → char id per cell, −1 for a space. Other characters outside the charset are errors. */
  charIds(text: string): number[] {
    const chars = [...text];
    const bad = [...new Set(chars.filter((c) => c !== ' ' && !this.charset.includes(c)))];
    if (bad.length) {
      throw new OrreryError(
        'bad_input',
        `this typeface model cannot draw ${bad.map((c) => JSON.stringify(c)).join(', ')}; ` +
          `it draws ${this.charset.join('')} and spaces`,
      );
    }
    return chars.map((c) => (c === ' ' ? -1 : this.charset.indexOf(c)));
  }

  // ---------------------------------------------------------------- contract call

  async specimen(input: GlyphSpecimenInput, ctx: EngineContext): Promise<ImageRun> {
    const t0 = performance.now();
    const cells = this.charIds(input.text);
    const groups = [...groupDials(input.dials, this.saes).values()];
    const style = await this.styleOf(input.source, ctx);
    // styleOf just set lastSource to this source's entry (unless another call raced it)
    const entry = this.lastSource?.style === style ? this.lastSource : null;
    let after = style;
    for (const g of groups) {
      const r = steerGroup(g, style, 1);
      if (!r.changed) continue;
      if (after === style) after = style.slice();
      for (let i = 0; i < after.length; i++) after[i] = (after[i] ?? 0) + (r.delta[i] ?? 0);
    }
    checkFinite(after, 'the style');
    const changed = after !== style;
    const ids = cells.filter((c) => c >= 0);
    const S = this.size;
    const width = S * cells.length;
    const strip = async (st: Float32Array) => {
      const drawn = ids.length > 0 ? await this.decode(st, ids) : new Float32Array(0);
      checkCancelled(ctx.signal);
      checkFinite(drawn, 'the glyphs');
      return chwToRgba(this.layout(cells, drawn), 1, S, width);
    };
    // the unsteered strip is drawn once per source and text, then kept while dials turn
    let before = entry?.before?.text === input.text ? entry.before.reference : null;
    if (before === null) {
      before = new Reference(await strip(style), width, S, true, 'ink');
      if (entry) entry.before = { text: input.text, reference: before };
    }
    return imageRun(before, changed ? await strip(after) : null, {
      png: input.sessionId !== undefined,
      t0,
    });
  }

  /**
   * Cells in a row, paper = 1 and ink = 0 (ink dark on light paper): [S, S · cells] grey.
   * `drawn` holds the glyphs of the non-space cells in order, [·, S, S] in model ink.
   */
  layout(cells: readonly number[], drawn: Float32Array): Float32Array {
    const S = this.size;
    const W = S * cells.length;
    const out = new Float32Array(S * W).fill(1);
    let g = 0;
    cells.forEach((id, k) => {
      if (id < 0) return;
      const base = g * S * S;
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const v = drawn[base + y * S + x] ?? 0;
          const ink = this.ink === 1 ? v : 1 - v;
          out[y * W + k * S + x] = 1 - ink;
        }
      }
      g++;
    });
    return out;
  }

  private toModelInk(glyphs: Float32Array): Float32Array {
    if (this.ink === 0) for (let i = 0; i < glyphs.length; i++) glyphs[i] = 1 - (glyphs[i] ?? 0);
    return glyphs;
  }

  private faceSheet(): Promise<SpriteSheet> {
    const ex = this.manifest.examples;
    if (!ex) return Promise.reject(new OrreryError('not_found', 'this pack has no example faces'));
    if (!this.sheet) {
      const rel = ex.sheet;
      this.sheet = fs
        .readFile(path.join(this.pack.dir, rel))
        .then((buf) => SpriteSheet.read(new Uint8Array(buf), ex.tile, rel))
        .then((sheet) => {
          if (sheet.columns !== this.charset.length || sheet.rows < this.examples.length) {
            throw new OrreryError(
              'bad_pack',
              `${rel}: ${sheet.columns} × ${sheet.rows} tiles; expected ${this.charset.length} ` +
                `columns (the charset) and ${this.examples.length} rows (the faces)`,
            );
          }
          return sheet;
        });
      this.sheet.catch(() => {
        this.sheet = null;
      });
    }
    return this.sheet;
  }
}
