/**
 * The one hook reader of glyph-cvae packs, used by the typeface engine and the index build:
 * the encoder over a face's encoder_chars glyphs ([n, len(encoder_chars), S, S] in model
 * ink) → style [n, style_dim], the rows an SAE at hook `style` reads. The session is opened
 * once; every read takes a batch.
 */
import { OrreryError } from '../../../preload/contract';
import { glyphHookWidths, STYLE_HOOK } from '../../packs/kindHooks';
import type { LoadedPack } from '../../packs/packReader';
import { openGraphs, output, type GraphSpec } from '../image/engineSupport';
import type { OnnxSession } from '../onnx';

type GlyphModel = Extract<LoadedPack['manifest'], { kind: 'glyph-cvae' }>['model'];

/** The encoder of a pack, with the names the pack format gives its values. */
export function glyphHookGraph(model: GlyphModel): GraphSpec {
  return { rel: model.onnx.encoder, inputs: ['glyphs'], outputs: [STYLE_HOOK] };
}

export class GlyphHooks {
  /** The pack's one hook → the width of a row there. */
  readonly widths: ReadonlyMap<string, number>;
  private readonly chars: number;

  constructor(
    private readonly model: GlyphModel,
    private readonly encoder: OnnxSession,
  ) {
    this.widths = glyphHookWidths(model);
    this.chars = [...model.encoder_chars].length;
  }

  /** Opens a pack's encoder (for the index build; the engine opens its own with the decoder). */
  static async open(pack: LoadedPack, threads = 1): Promise<GlyphHooks> {
    const m = pack.manifest;
    if (m.kind !== 'glyph-cvae') {
      throw new OrreryError('bad_pack', `${pack.dir}: a ${m.kind} pack is not a typeface pack`);
    }
    const [encoder] = (await openGraphs(pack, [glyphHookGraph(m.model)], threads)) as [OnnxSession];
    return new GlyphHooks(m.model, encoder);
  }

  /** glyphs [n, len(encoder_chars), S, S] in model ink → style [n, style_dim]. */
  async styleRows(glyphs: Float32Array, n: number): Promise<Float32Array> {
    const S = this.model.glyph.size;
    const out = await this.encoder.run({ glyphs: { dims: [n, this.chars, S, S], data: glyphs } });
    return output(out, STYLE_HOOK, n * this.model.style_dim, 'encoder.onnx');
  }

  async dispose(): Promise<void> {
    await this.encoder.release();
  }
}
