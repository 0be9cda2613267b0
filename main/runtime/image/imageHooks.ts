/**
 * The one hook reader of image-vae packs, used by the image engine and the index build:
 * the encoder (images [n, 3, S, S] → mu [n, latent_dim], hook `latent`) and the decoder
 * head (latent [n, latent_dim] → spatial [n, C, H, W]; as SAE rows, one C-vector per
 * position in nchwToRows order, hook `model.spatial.hook`). Both sessions are opened once;
 * every read takes a batch.
 */
import { OrreryError } from '../../../preload/contract';
import { imageHookWidths, LATENT_HOOK } from '../../packs/kindHooks';
import type { LoadedPack } from '../../packs/packReader';
import { nchwToRows } from '../../sae';
import type { OnnxSession } from '../onnx';
import { openGraphs, output, type GraphSpec } from './engineSupport';

type ImageModel = Extract<LoadedPack['manifest'], { kind: 'image-vae' }>['model'];

/** The encoder and decoder head of a pack, with the names the pack format gives their values. */
export function imageHookGraphs(model: ImageModel): [GraphSpec, GraphSpec] {
  return [
    { rel: model.onnx.encoder, inputs: ['image'], outputs: ['mu'] },
    { rel: model.onnx.decoder_head, inputs: ['latent'], outputs: ['spatial'] },
  ];
}

export class ImageHooks {
  /** Each hook of the pack → the width of a row there. */
  readonly widths: ReadonlyMap<string, number>;

  constructor(
    private readonly model: ImageModel,
    private readonly encoder: OnnxSession,
    private readonly head: OnnxSession,
  ) {
    this.widths = imageHookWidths(model);
  }

  /** Opens a pack's encoder and decoder head (for the index build; the engine opens its own three). */
  static async open(pack: LoadedPack, threads = 1): Promise<ImageHooks> {
    const m = pack.manifest;
    if (m.kind !== 'image-vae') {
      throw new OrreryError('bad_pack', `${pack.dir}: a ${m.kind} pack is not an image pack`);
    }
    const [encoder, head] = (await openGraphs(pack, imageHookGraphs(m.model), threads)) as [
      OnnxSession,
      OnnxSession,
    ];
    return new ImageHooks(m.model, encoder, head);
  }

  /** The spatial map's hook and shape; a pack without one has only `latent`. */
  private spatial(): NonNullable<ImageModel['spatial']> {
    const sp = this.model.spatial;
    if (!sp) throw new OrreryError('bad_pack', 'manifest.json: model.spatial is missing');
    return sp;
  }

  /** images [n, 3, S, S] in the pack's range → mu [n, latent_dim]: the rows at `latent`. */
  async latentRows(images: Float32Array, n: number): Promise<Float32Array> {
    const { size, channels } = this.model.image;
    const out = await this.encoder.run({
      image: { dims: [n, channels, size, size], data: images },
    });
    return output(out, 'mu', n * this.model.latent_dim, 'encoder.onnx');
  }

  /** z [n, latent_dim] → the decoder's spatial map [n, C, H, W]. */
  async spatialMap(z: Float32Array, n: number): Promise<Float32Array> {
    const s = this.spatial();
    const out = await this.head.run({ latent: { dims: [n, this.model.latent_dim], data: z } });
    return output(out, 'spatial', n * s.channels * s.height * s.width, 'decoder_head.onnx');
  }

  /** z [n, latent_dim] → the rows at the spatial hook [n · H · W, C] (b, y, x order). */
  async spatialRows(z: Float32Array, n: number): Promise<Float32Array> {
    const { channels: C, height: H, width: W } = this.spatial();
    return nchwToRows(await this.spatialMap(z, n), n, C, H, W);
  }

  /**
   * The rows an SAE at `hook` reads of images [n, 3, S, S]: h [rows, width], with rows = n
   * at `latent` and n · H · W at the spatial hook.
   */
  async rows(
    hook: string,
    images: Float32Array,
    n: number,
  ): Promise<{ h: Float32Array; rows: number }> {
    if (!this.widths.has(hook)) {
      throw new OrreryError(
        'bad_input',
        `the image model has no hook ${hook} (${[...this.widths.keys()].join(' or ')})`,
      );
    }
    const mu = await this.latentRows(images, n);
    if (hook === LATENT_HOOK) return { h: mu, rows: n };
    const { height, width } = this.spatial();
    return { h: await this.spatialRows(mu, n), rows: n * height * width };
  }

  async dispose(): Promise<void> {
    await Promise.all([this.encoder.release(), this.head.release()]);
  }
}
