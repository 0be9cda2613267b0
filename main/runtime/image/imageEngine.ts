/**
 * The image-vae engine (PACK_FORMAT.md): encoder (image → mu), decoder head (latent →
 * spatial [C, H, W]) and decoder tail (spatial → image), with SAEs on `latent` (n = 1 row of
 * latent_dim) and on the decoder's spatial map (H·W rows of C, one per position).
 *
 * steer: image → mu. Before = tail(head(mu)). After: latent dials steer mu → z', then
 * head(z'), then spatial dials steer each position's C-vector (only where the mask is
 * non-zero, and a fractional mask value, e.g. a soft brush edge, scales that position's
 * change), then tail. The unsteered path (mu, head(mu), tail, its RGBA, and what the
 * metrics reuse of it) is computed once per source (the mask does not change it) and kept
 * while dials turn, so a dial change costs at most one head and one tail run and one pass
 * of the metrics over the new pixels. With no dial off rest, after is before. Outputs are
 * RGBA bytes; PNGs are written only for a run that is saved as a session step.
 * sweep: one dial at many values (a drag's reachable values), the same steps per value with
 * the head and tail run in batches, frames streamed with their metrics as they are made.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import {
  OrreryError,
  SWEEP_BYTES,
  sweepDials,
  sweepFrameBytes,
  sweepValues,
  type ImageSweepInput,
  type ImageSweepOutput,
  type RuntimeInfo,
} from '../../../preload/contract';
import type { SelectionInput } from '../../../preload/contract/selections';
import type { LoadedPack } from '../../packs/packReader';
import { imageHookWidths, LATENT_HOOK } from '../../packs/kindHooks';
import { nchwToRows, rowsToNchw } from '../../sae';
import {
  readBlob,
  type EngineContext,
  type ImageActiveInput,
  type ImageEngineApi,
  type ImageSteerInput,
  type SaeRows,
} from '../engine';
import { spreadIndices } from '../selectionMath';
import type { OnnxSession } from '../onnx';
import {
  activeRows,
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
  type DialGroup,
  type PackSae,
} from './engineSupport';
import { imageHookGraphs, ImageHooks } from './imageHooks';
import { decodeImage, rgbaToTensor, SpriteSheet } from './imageIo';
import { chwToRgba, imageRun, Reference, type ImageMetrics, type ImageRun } from './imageMetrics';

type ImageManifest = Extract<LoadedPack['manifest'], { kind: 'image-vae' }>;

/** Where spatial dials apply (H × W), null: everywhere. */
type Mask = readonly number[] | null;

/**
 * Values of a drag sweep decoded in one head and one tail run, at most. Small: batching did
 * not make a frame cheaper here (models/emoji, 64 x 64: 7-14 ms a frame at batch 1-16 alike
 * at load ~15 on 2 cores), while each batch is a wait for a live run and for the frame a
 * pointer wants next (the page may ask again from the pointer between batches).
 */
export const SWEEP_BATCH = 4;
/** The first batch's size: batches double up to SWEEP_BATCH, so the frame the pointer is at
 * (the first value asked) comes alone and soonest. */
const SWEEP_FIRST_BATCH = 1;

/** Equal-length tensors one after another (a batch). */
function concat(parts: readonly Float32Array[]): Float32Array {
  const each = parts[0]?.length ?? 0;
  const out = new Float32Array(parts.length * each);
  parts.forEach((p, k) => out.set(p, k * each));
  return out;
}

export interface ImageGeometry {
  size: number;
  channels: number;
  range: [number, number];
  background: number[];
  latentDim: number;
  /** The decoder's spatial map [C, H, W]. */
  spatial: { hook: string; channels: number; height: number; width: number };
}

export interface SteerTensors {
  /** False when no dial is off rest: after is before. */
  changed: boolean;
  /** [latent_dim] the source's latent and the steered one. */
  mu: Float32Array;
  z: Float32Array;
  /** [C, H, W] head(mu), and head(z) with the spatial dials applied. */
  spatialBefore: Float32Array;
  spatialAfter: Float32Array;
  /** [3, S, S] tail of each, in the pack's range. */
  before: Float32Array;
  after: Float32Array;
  /** The source's cache entry (internal). */
  entry: SourceEntry;
}

/** One source's unsteered tensors, computed once and reused while dials turn. */
interface SourceEntry {
  key: string;
  /** [latent_dim] */
  mu: Float32Array;
  /** [C, H, W] head(mu) */
  spatial?: Float32Array;
  /** [3, S, S] tail(head(mu)): "before" */
  image?: Float32Array;
  /** "before" as RGBA, with what every comparison against it reuses (and its PNG, once). */
  reference?: Reference;
}

export class ImageEngine implements ImageEngineApi {
  readonly kind = 'image-vae' as const;
  private sheet: Promise<SpriteSheet> | null = null;

  private constructor(
    private readonly pack: LoadedPack,
    private readonly manifest: ImageManifest,
    readonly geometry: ImageGeometry,
    /** encoder and decoder head: the hooks' reader, shared with the index build */
    private readonly hooks: ImageHooks,
    private readonly tail: OnnxSession,
    readonly saes: readonly PackSae[],
    private readonly examples: RuntimeInfo['examples'],
  ) {}

  private loadMs = 0;
  /** The last source and what has been computed from it (see sourceEntry). */
  private lastSource: SourceEntry | null = null;

  static async load(pack: LoadedPack): Promise<ImageEngine> {
    const t0 = performance.now();
    const m = pack.manifest;
    if (m.kind !== 'image-vae') {
      throw new OrreryError('bad_pack', `${pack.dir}: a ${m.kind} pack is not an image pack`);
    }
    const { image, latent_dim: latentDim } = m.model;
    if (image.channels !== 3) {
      throw new OrreryError(
        'bad_pack',
        `manifest.json: image.channels is ${image.channels}; 3 (RGB) is supported`,
      );
    }
    const spatial = m.model.spatial;
    if (!spatial) {
      throw new OrreryError(
        'bad_pack',
        'manifest.json: model.spatial (the decoder hook shape) is missing',
      );
    }
    const geometry: ImageGeometry = {
      size: image.size,
      channels: image.channels,
      range: image.range,
      background: image.background ?? [0.5, 0.5, 0.5],
      latentDim,
      spatial: { ...spatial },
    };
    const saes = await loadPackSaes(pack, imageHookWidths(m.model));
    const examples = m.examples ? await readExampleMeta(pack, m.examples.meta) : [];
    const sessions = await openGraphs(pack, [
      ...imageHookGraphs(m.model),
      { rel: m.model.onnx.decoder_tail, inputs: ['spatial'], outputs: ['image'] },
    ]);
    const [encoder, head, tail] = sessions as [OnnxSession, OnnxSession, OnnxSession];
    const hooks = new ImageHooks(m.model, encoder, head);
    const engine = new ImageEngine(pack, m, geometry, hooks, tail, saes, examples);
    // One tiny run checks the graphs agree with the manifest's shapes before the pack is offered.
    await checkOnLoad(pack, engine, 'decoding a zero latent', () =>
      engine.decode(new Float32Array(latentDim), 1),
    );
    engine.loadMs = performance.now() - t0;
    return engine;
  }

  info(): RuntimeInfo {
    return {
      packId: this.manifest.id,
      kind: 'image-vae',
      saes: saeInfo(this.saes),
      examples: this.examples,
      charset: null,
      loadMs: this.loadMs,
    };
  }

  async dispose(): Promise<void> {
    await Promise.all([this.hooks.dispose(), this.tail.release()]);
  }

  // ---------------------------------------------------------------- tensors (shapes in names)

  /**
   * A source's entry: its latent mu, and (filled in by steer) its unsteered decode. The last
   * one is kept: turning a dial resends the same image, which then costs no image decode, no
   * encoder run and no "before" decode.
   */
  private async sourceEntry(
    source: ImageSteerInput['source'],
    ctx: EngineContext,
  ): Promise<SourceEntry> {
    const key = 'example' in source ? `example:${source.example}` : `image:${source.blob}`;
    if (this.lastSource?.key === key) return this.lastSource;
    const image = await this.sourceImage(source, ctx);
    checkCancelled(ctx.signal);
    const mu = await this.encode(image, 1);
    checkCancelled(ctx.signal);
    const entry: SourceEntry = { key, mu };
    this.lastSource = entry;
    return entry;
  }

  /** The latent mu [1, latent_dim] of a source. */
  async latentOf(source: ImageSteerInput['source'], ctx: EngineContext): Promise<Float32Array> {
    return (await this.sourceEntry(source, ctx)).mu;
  }

  /** Source → float32 [1, 3, size, size] in the pack's range. */
  async sourceImage(
    source: ImageSteerInput['source'],
    ctx?: Pick<EngineContext, 'blobFile'>,
  ): Promise<Float32Array> {
    const g = this.geometry;
    const opts = { size: g.size, background: g.background, range: g.range };
    if ('example' in source) {
      const sheet = await this.exampleSheet();
      if (source.example >= this.examples.length) {
        throw new OrreryError(
          'not_found',
          `example ${source.example} is not in this pack (0…${this.examples.length - 1})`,
        );
      }
      return rgbaToTensor(sheet.tileRgba(source.example), opts);
    }
    const what = source.name ? `"${source.name}"` : 'the image';
    return rgbaToTensor(await decodeImage(await readBlob(ctx, source.blob), what), opts);
  }

  /** images [n, 3, S, S] → mu [n, latent_dim]. */
  encode(images: Float32Array, n: number): Promise<Float32Array> {
    return this.hooks.latentRows(images, n);
  }

  /** z [n, latent_dim] → spatial [n, C, H, W]. */
  runHead(z: Float32Array, n: number): Promise<Float32Array> {
    return this.hooks.spatialMap(z, n);
  }

  /** spatial [n, C, H, W] → images [n, 3, S, S]. */
  async runTail(spatial: Float32Array, n: number): Promise<Float32Array> {
    const { size, spatial: s } = this.geometry;
    const out = await this.tail.run({
      spatial: { dims: [n, s.channels, s.height, s.width], data: spatial },
    });
    return output(out, 'image', n * 3 * size * size, 'decoder_tail.onnx');
  }

  /** decode(z) = tail(head(z)): z [n, latent_dim] → images [n, 3, S, S]. */
  async decode(z: Float32Array, n: number): Promise<Float32Array> {
    return this.runTail(await this.runHead(z, n), n);
  }

  // ---------------------------------------------------------------- contract calls

  async steer(input: ImageSteerInput, ctx: EngineContext): Promise<ImageRun> {
    const t0 = performance.now();
    const g = this.geometry;
    const S = g.size;
    const r = await this.steerTensors(input, ctx);
    return imageRun(
      this.referenceOf(r.entry),
      r.changed ? chwToRgba(r.after, 3, S, S, g.range) : null,
      { png: input.sessionId !== undefined, t0 },
    );
  }

  /**
   * A drag sweep (contract sweep.ts): the run of each value's dials, as steer() would make
   * it, in batches of 1, 2, then SWEEP_BATCH (one head and one tail run per batch), each batch sent
   * through ctx.frames with its metrics against the cached "before". Between batches it waits
   * while any other call runs in the worker, so a live run is held up by one batch at most.
   */
  async sweep(
    input: ImageSweepInput,
    ctx: EngineContext,
  ): Promise<z.output<typeof ImageSweepOutput>> {
    const t0 = performance.now();
    const g = this.geometry;
    const S = g.size;
    const { channels: C, height: H, width: W } = g.spatial;
    const frameBytes = S * S * 4;
    const all = sweepValues(input);
    if (all.length * sweepFrameBytes(S, S) > SWEEP_BYTES) {
      throw new OrreryError(
        'too_large',
        `${all.length} frames of ${S} × ${S} are more than the sweep's ${SWEEP_BYTES} bytes`,
      );
    }
    const mask = this.checkMask(input.mask ?? null);
    const entry = await this.sourceEntry(input.source, ctx);
    const { spatial: spatialBefore } = await this.unsteered(entry);
    const reference = this.referenceOf(entry);
    let sent = 0;
    let size = SWEEP_FIRST_BATCH;
    let start = 0;
    while (start < all.length) {
      checkCancelled(ctx.signal);
      const values = all.slice(start, start + size);
      const plans = values.map((v) => this.plan(sweepDials(input.swept, v), mask));
      const latents = plans.map((p) => this.steerLatent(p.latent, entry.mu));
      // one head run for the values whose latent moved; the others keep head(mu)
      const moved = latents.filter((l) => l.changed);
      const heads =
        moved.length > 0 ? await this.runHead(concat(moved.map((l) => l.z)), moved.length) : null;
      const chw = C * H * W;
      let m = 0;
      const spatials = latents.map((l, k) => {
        let own: Float32Array | null = null;
        if (l.changed && heads) {
          own = heads.subarray(m * chw, (m + 1) * chw);
          m += 1;
        }
        const r = this.steerSpatial(plans[k]?.spatial ?? [], own ?? spatialBefore, mask);
        return { spatial: r.spatial, changed: l.changed || r.changed };
      });
      // one tail run for the values that changed anything; the others are "before"
      const turned = spatials.filter((x) => x.changed);
      const tails =
        turned.length > 0
          ? await this.runTail(concat(turned.map((x) => x.spatial)), turned.length)
          : null;
      checkCancelled(ctx.signal);
      const n = values.length;
      const after = new Uint8Array(n * frameBytes);
      const heatmap = new Uint8Array(n * frameBytes);
      const metrics: ImageMetrics[] = [];
      const changed: boolean[] = [];
      let t = 0;
      const plane = 3 * S * S;
      spatials.forEach((x, k) => {
        let rgba = reference.rgba;
        if (x.changed && tails) {
          const img = tails.subarray(t * plane, (t + 1) * plane);
          t += 1;
          checkFinite(img, 'the image');
          rgba = chwToRgba(img, 3, S, S, g.range);
        }
        const c = reference.compare(rgba);
        after.set(rgba, k * frameBytes);
        heatmap.set(c.heatmap, k * frameBytes);
        metrics.push(c.metrics);
        changed.push(x.changed);
      });
      ctx.frames?.({
        width: S,
        height: S,
        index: values.map((_, k) => start + k),
        after,
        heatmap,
        metrics,
        changed,
      });
      sent += n;
      start += n;
      size = Math.min(2 * size, SWEEP_BATCH);
      // let a live run (or a cancel) in before the next batch, and wait while one runs
      await new Promise((resolve) => setImmediate(resolve));
      await ctx.othersDone?.();
    }
    return { frames: sent, ms: performance.now() - t0 };
  }

  /** "before" of a source as RGBA, with what every comparison against it reuses (once). */
  private referenceOf(entry: SourceEntry): Reference {
    const g = this.geometry;
    const S = g.size;
    if (!entry.image) throw new Error('the source has no unsteered decode yet');
    entry.reference ??= new Reference(chwToRgba(entry.image, 3, S, S, g.range), S, S);
    return entry.reference;
  }

  /** A source's unsteered decode, computed once: head(mu) [C, H, W] and the image [3, S, S]. */
  private async unsteered(
    entry: SourceEntry,
  ): Promise<{ spatial: Float32Array; image: Float32Array }> {
    entry.spatial ??= await this.runHead(entry.mu, 1);
    entry.image ??= await this.runTail(entry.spatial, 1);
    return { spatial: entry.spatial, image: entry.image };
  }

  private checkMask(mask: Mask): Mask {
    const { height: H, width: W } = this.geometry.spatial;
    const hw = H * W;
    if (mask && mask.length !== hw) {
      throw new OrreryError(
        'bad_input',
        `mask has ${mask.length} entries; this pack's spatial map is ${H} × ${W} = ${hw}`,
      );
    }
    return mask;
  }

  /** The dials by SAE, split into those on the latent and those on the spatial map. */
  private plan(dials: ImageSteerInput['dials'], mask: Mask) {
    const hook = this.geometry.spatial.hook;
    const groups = [
      ...groupDials(dials, this.saes, (s) => (s.hook === hook ? mask : null)).values(),
    ];
    return {
      latent: groups.filter((x) => x.sae.hook === LATENT_HOOK),
      spatial: groups.filter((x) => x.sae.hook === hook),
    };
  }

  /** Latent dials: each SAE reads the unsteered mu [latent_dim]; their deltas add. */
  private steerLatent(
    groups: DialGroup[],
    mu: Float32Array,
  ): { z: Float32Array; changed: boolean } {
    let z = mu;
    let changed = false;
    for (const grp of groups) {
      const r = steerGroup(grp, mu, 1);
      if (!r.changed) continue;
      if (z === mu) z = mu.slice();
      for (let i = 0; i < z.length; i++) z[i] = (z[i] ?? 0) + (r.delta[i] ?? 0);
      changed = true;
    }
    checkFinite(z, 'the latent');
    return { z, changed };
  }

  /**
   * Spatial dials on one map [C, H, W]: each position's C-vector, only where the mask is
   * non-zero (a fractional mask value, e.g. a soft brush edge, scales that position's change).
   */
  private steerSpatial(
    groups: DialGroup[],
    spatial: Float32Array,
    mask: Mask,
  ): { spatial: Float32Array; changed: boolean } {
    if (groups.length === 0) return { spatial, changed: false };
    const { channels: C, height: H, width: W } = this.geometry.spatial;
    const hw = H * W;
    // [C, H, W] → H·W rows of C
    const rows = nchwToRows(spatial, 1, C, H, W);
    let steered = rows;
    for (const grp of groups) {
      const r = steerGroup(grp, rows, hw);
      if (!r.changed) continue;
      if (steered === rows) steered = rows.slice();
      for (let p = 0; p < hw; p++) {
        const w = mask ? (mask[p] ?? 0) : 1;
        if (w === 0) continue;
        for (let c = 0; c < C; c++) {
          const i = p * C + c;
          steered[i] = (steered[i] ?? 0) + w * (r.delta[i] ?? 0);
        }
      }
    }
    if (steered === rows) return { spatial, changed: false };
    checkFinite(steered, 'the spatial map');
    return { spatial: rowsToNchw(steered, 1, C, H, W), changed: true };
  }

  /**
   * steer() before the PNGs: every tensor on the way, for tests and benchmarks.
   * mu, z [latent_dim]; spatialBefore, spatialAfter [C, H, W]; before, after [3, S, S].
   */
  async steerTensors(input: ImageSteerInput, ctx: EngineContext): Promise<SteerTensors> {
    const mask = this.checkMask(input.mask ?? null);
    const plan = this.plan(input.dials, mask);
    const entry = await this.sourceEntry(input.source, ctx);
    const mu = entry.mu;
    const { spatial: spatialBefore, image: before } = await this.unsteered(entry);
    checkCancelled(ctx.signal);
    const latent = this.steerLatent(plan.latent, mu);
    const head = latent.changed ? await this.runHead(latent.z, 1) : spatialBefore;
    checkCancelled(ctx.signal);
    const spatial = this.steerSpatial(plan.spatial, head, mask);
    const changed = latent.changed || spatial.changed;
    const after = changed ? await this.runTail(spatial.spatial, 1) : before;
    checkCancelled(ctx.signal);
    if (changed) checkFinite(after, 'the image');
    return {
      changed,
      mu,
      z: latent.z,
      spatialBefore,
      spatialAfter: spatial.spatial,
      before,
      after,
      entry,
    };
  }

  async active(input: ImageActiveInput, ctx: EngineContext) {
    const sae = packSae(this.saes, input.saeId);
    const mu = await this.latentOf(input.source, ctx);
    if (sae.hook === LATENT_HOOK) {
      return activeRows(sae.sae, mu, 1, input.topK, () => 'latent');
    }
    const { height: H, width: W } = this.geometry.spatial;
    const rows = await this.hooks.spatialRows(mu, 1);
    checkCancelled(ctx.signal);
    return activeRows(sae.sae, rows, H * W, input.topK, (r) => `y${Math.floor(r / W)} x${r % W}`);
  }

  async saeRows(saeId: string, input: SelectionInput, ctx: EngineContext): Promise<SaeRows> {
    const sae = packSae(this.saes, saeId);
    // not through sourceEntry: the dials' cached source stays as it is
    const image = await this.sourceImage(sourceOf(input, 'image-vae'), ctx);
    checkCancelled(ctx.signal);
    // the same reader as the index build's, so a selection scores the rows the index holds
    const { h, rows } = await this.hooks.rows(sae.hook, image, 1);
    checkCancelled(ctx.signal);
    return { sae: sae.sae, h, n: rows };
  }

  corpusSample(count: number): Promise<SelectionInput[]> {
    return Promise.resolve(
      spreadIndices(this.examples.length, count).map((example) => ({ source: { example } })),
    );
  }

  private exampleSheet(): Promise<SpriteSheet> {
    const ex = this.manifest.examples;
    if (!ex) return Promise.reject(new OrreryError('not_found', 'this pack has no examples'));
    if (!this.sheet) {
      const rel = ex.sheet;
      this.sheet = fs
        .readFile(path.join(this.pack.dir, rel))
        .then((buf) => SpriteSheet.read(new Uint8Array(buf), ex.tile, rel));
      this.sheet.catch(() => {
        this.sheet = null;
      });
    }
    return this.sheet;
  }
}
