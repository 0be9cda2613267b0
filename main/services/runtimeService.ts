/**
 * Inference calls, answered by the worker: resolves a pack id to its folder, forwards the
 * call, streams tokens as events, lets dial changes supersede each other, and saves a
 * finished run as a session step when the call names a session.
 */
import type { z } from 'zod';
import {
  DEFAULT_TEXT_PROMPT,
  runtimeInputs,
  STRIP_MULTIPLES,
  type ActiveOutput,
  type DialInput,
  type EffectStripOutput,
  type effectStripInput,
  type ImageSweepInput,
  type ImageSweepOutput,
} from '../../preload/contract';
import type {
  ImageReplySchema,
  RuntimeInfo,
  Step,
  TextGenerateOutput,
  TextReplySchema,
} from '../../preload/contract';
import type { ActivationsOutput, SeparateOutput } from '../../preload/contract/selections';
import type { JobContext } from '../api/jobs';
import type { EventHub } from '../app/events';
import type { PackService } from '../packs/packService';
import type {
  GlyphSpecimenInput,
  ImageActiveInput,
  ImageSteerInput,
  TextActiveInput,
  TextGenerateInput,
} from '../runtime/engine';
import type { BlobStore } from '../blobs/blobStore';
import type { ImageRun } from '../runtime/image/imageMetrics';
import type { ActivationsInput, SeparateInput } from '../runtime/selections';
import type { RuntimeWorker } from '../runtime/worker/client';
import type { EngineOp } from '../runtime/worker/protocol';
import type { SessionCalls } from '../sessions/client';

type Recordable = {
  packId: string;
  dials: DialInput[];
  sessionId?: string;
  jobId?: string;
  gestureId?: string;
};

/** Effect strips kept (each is five small pictures or five short texts). */
const STRIP_CACHE = 64;

/**
 * The uploaded files a call's sources name (its `source`, a selection's `input.source`, the
 * `like` and `away` examples), by hash.
 */
function namedBlobs(input: unknown): string[] {
  type Named = { source?: { blob?: unknown } };
  const i = input as Named & { input?: Named; like?: Named[]; away?: Named[] };
  const named = [i, i.input, ...(i.like ?? []), ...(i.away ?? [])];
  return named.map((x) => x?.source?.blob).filter((b): b is string => typeof b === 'string');
}

export class RuntimeService {
  private readonly strips = new Map<string, z.output<typeof EffectStripOutput>>();

  constructor(
    private readonly worker: RuntimeWorker,
    private readonly packs: PackService,
    private readonly events: EventHub,
    private readonly sessions: Pick<SessionCalls, 'record'>,
    private readonly blobs: BlobStore,
    /** Told each warning a loaded model gives (RuntimeInfo.warnings), to show it once. */
    private readonly warn: (packId: string, text: string) => void = () => undefined,
  ) {}

  /** The uploaded files a call names (namedBlobs), checked to be there and stamped used. */
  private blobFiles(input: unknown): Record<string, string> | undefined {
    const out: Record<string, string> = {};
    for (const blob of namedBlobs(input)) out[blob] = this.blobs.require(blob);
    return Object.keys(out).length > 0 ? out : undefined;
  }

  private async run<T>(
    packId: string,
    op: EngineOp,
    input: unknown,
    job: JobContext | null,
    laneName: string = op,
  ): Promise<T> {
    // Each call kind is a lane per pack: a newer request supersedes the one in flight.
    const lane = op === 'open' ? undefined : laneName;
    const { pack } = await this.packs.find(packId);
    const jobId = job?.jobId ?? null;
    // the files it reads stay (not collected) while it runs
    const blobs = this.blobFiles(input);
    const release = this.blobs.pin(Object.keys(blobs ?? {}));
    try {
      return (await this.worker.request(pack.dir, op, input, {
        signal: job?.signal,
        lane: lane === undefined ? undefined : `${lane}:${packId}`,
        blobs,
        onToken: (t) => {
          if (jobId === null || laneName !== op) return;
          this.events.emit('text.token', {
            jobId,
            row: t.row,
            index: t.index,
            tokenId: t.tokenId,
            text: t.text,
          });
        },
        onProgress: (p) => job?.progress(p.stage, p.done, p.total),
        onFrames: (f) => {
          if (jobId !== null) this.events.emit('image.sweep', { ...f.batch, jobId });
        },
      })) as T;
    } finally {
      release();
    }
  }

  /**
   * Saves a finished run as a step when the call names a session (runs of one gesture are
   * one step); the reply carries the step, so the page needs no second call to show it.
   * `saved` is what the step keeps of the output (by default all of it). Resolves after the
   * sessions worker committed the step: a reply that carries a step means it is on disk.
   */
  private async recorded<T extends object>(
    kind: Step['kind'],
    input: Recordable,
    output: T,
    saved: Record<string, unknown> = output as Record<string, unknown>,
  ): Promise<T & { step: Step | null }> {
    if (!input.sessionId) return { ...output, step: null };
    const { packId: _pack, dials, sessionId, jobId: _job, gestureId, ...rest } = input;
    const step = await this.sessions.record(sessionId, kind, rest, dials, saved, gestureId ?? null);
    return { ...output, step };
  }

  /**
   * An image or specimen run: the reply carries raw pixels; a saved step keeps the PNGs
   * (written once, in the worker) as blobs, by hash.
   */
  private async imageReply(
    kind: 'image' | 'glyph',
    input: Recordable,
    run: ImageRun,
    job: JobContext,
  ): Promise<z.output<typeof ImageReplySchema>> {
    const { png, ...pixels } = run;
    const { before: _b, after: _a, heatmap: _h, ...facts } = pixels;
    // The pixels go to the page now, once; the reply (with the saved step) follows the session
    // write. A call without a job has no event to see, so its reply carries them.
    const framed = job.jobId !== null;
    if (framed) this.events.emit('image.frame', { ...pixels, jobId: job.jobId });
    const out = framed ? { ...facts, framed: true as const } : pixels;
    if (!input.sessionId || !png) return this.recorded(kind, input, out);
    // the blobs are on disk before the step that names them is committed
    const before = this.blobs.put(png.before);
    const after = this.blobs.put(png.after);
    // and none the step names is collected before the step is committed
    const release = this.blobs.pin([before.hash, after.hash, ...namedBlobs(input)]);
    try {
      return await this.recorded(kind, input, out, {
        width: facts.width,
        height: facts.height,
        changed: facts.changed,
        metrics: facts.metrics,
        beforeBlob: before.hash,
        afterBlob: after.hash,
      });
    } finally {
      release();
    }
  }

  async open(packId: string): Promise<RuntimeInfo> {
    const info = await this.run<RuntimeInfo>(packId, 'open', {}, null);
    for (const w of info.warnings ?? []) this.warn(packId, w);
    return info;
  }

  async textGenerate(
    input: TextGenerateInput,
    job: JobContext,
  ): Promise<z.output<typeof TextReplySchema>> {
    const out = await this.run<z.output<typeof TextGenerateOutput>>(
      input.packId,
      'text.generate',
      input,
      job,
    );
    return this.recorded('text', input, out);
  }

  textActive(input: TextActiveInput, job: JobContext): Promise<z.output<typeof ActiveOutput>> {
    return this.run(input.packId, 'text.active', input, job);
  }

  async imageSteer(
    input: ImageSteerInput,
    job: JobContext,
  ): Promise<z.output<typeof ImageReplySchema>> {
    const run = await this.run<ImageRun>(input.packId, 'image.steer', input, job);
    return this.imageReply('image', input, run, job);
  }

  /**
   * A drag sweep's frames, sent to the page as image.sweep events of the call's job as the
   * worker makes them; on a lane of its own (a newer sweep supersedes it; the person's runs
   * do not), nothing saved.
   */
  imageSweep(input: ImageSweepInput, job: JobContext): Promise<z.output<typeof ImageSweepOutput>> {
    return this.run(input.packId, 'image.sweep', input, job);
  }

  imageActive(input: ImageActiveInput, job: JobContext): Promise<z.output<typeof ActiveOutput>> {
    return this.run(input.packId, 'image.active', input, job);
  }

  async glyphSpecimen(
    input: GlyphSpecimenInput,
    job: JobContext,
  ): Promise<z.output<typeof ImageReplySchema>> {
    const run = await this.run<ImageRun>(input.packId, 'glyph.specimen', input, job);
    return this.imageReply('glyph', input, run, job);
  }

  /** A selection's features ranked by activation on one input (in the inference worker). */
  featureActivations(
    input: ActivationsInput,
    job: JobContext,
  ): Promise<z.output<typeof ActivationsOutput>> {
    return this.run(input.packId, 'features.activations', input, job);
  }

  /** The features that separate chosen examples from others or from a corpus sample. */
  separateFeatures(
    input: SeparateInput,
    job: JobContext,
  ): Promise<z.output<typeof SeparateOutput>> {
    return this.run(input.packId, 'features.separate', input, job);
  }

  /**
   * A feature's effect strip: the input at STRIP_MULTIPLES × its typical activation, through
   * the worker's own steer calls (the app's `add`), on a lane of its own (a card's strip never
   * supersedes the person's runs, nor they it; a newer strip supersedes an older one). Kept in
   * a small cache by everything that decides it.
   */
  async effectStrip(
    input: z.output<typeof effectStripInput>,
    job: JobContext,
  ): Promise<z.output<typeof EffectStripOutput>> {
    const { pack } = await this.packs.find(input.packId);
    const kind = pack.manifest.kind;
    const key = JSON.stringify([pack.dir, kind, input]);
    const hit = this.strips.get(key);
    if (hit) {
      this.strips.delete(key);
      this.strips.set(key, hit);
      return { ...hit, cached: true };
    }
    const lane = `strip`;
    const extraAt =
      input.limit !== undefined ? Number((input.limit / input.typical).toFixed(3)) : null;
    // the limit frame at the limit itself, the others at their multiple of the typical
    const valueOf = (m: number): number =>
      m === extraAt && input.limit !== undefined ? input.limit : m * input.typical;
    const dials = (m: number): DialInput[] =>
      m === 0
        ? []
        : [{ saeId: input.saeId, feature: input.feature, method: 'add', value: valueOf(m) }];
    // the calibrated limit as one more frame when it lies past +4× (where the strip's own
    // multiples of the typical activation barely show anything, as on the typeface pack)
    const extra =
      input.limit !== undefined && input.limit / input.typical > 4.5 ? [extraAt ?? 0] : [];
    const multiples = [...STRIP_MULTIPLES, ...extra];
    const turned = multiples.filter((m) => m !== 0);
    const frames: z.output<typeof EffectStripOutput>['frames'] = [];
    if (kind === 'text-lm') {
      const prompt = input.prompt ?? DEFAULT_TEXT_PROMPT;
      const sampling = { maxTokens: input.maxTokens, temperature: 0, topK: 0, topP: 1, seed: 0 };
      let base: string[] | null = null;
      const after = new Map<number, string[]>();
      for (const m of turned) {
        const out = await this.run<z.output<typeof TextGenerateOutput>>(
          input.packId,
          'text.generate',
          runtimeInputs.textGenerate.parse({
            packId: input.packId,
            prompt,
            dials: dials(m),
            sampling,
          }),
          job,
          lane,
        );
        base ??= out.before.tokens;
        after.set(m, out.after.tokens);
      }
      const b = base ?? [];
      for (const m of multiples) {
        const tokens = m === 0 ? b : (after.get(m) ?? []);
        frames.push({
          multiple: m,
          value: valueOf(m),
          image: null,
          text: { tokens, changed: tokens.map((t, i) => m !== 0 && b[i] !== t) },
        });
      }
    } else {
      const source = input.source ?? { example: 0 };
      let before: { rgba: Uint8Array; width: number; height: number } | null = null;
      const after = new Map<number, ImageRun>();
      for (const m of turned) {
        const run =
          kind === 'image-vae'
            ? await this.run<ImageRun>(
                input.packId,
                'image.steer',
                runtimeInputs.imageSteer.parse({ packId: input.packId, source, dials: dials(m) }),
                job,
                lane,
              )
            : await this.run<ImageRun>(
                input.packId,
                'glyph.specimen',
                runtimeInputs.glyphSpecimen.parse({
                  packId: input.packId,
                  source,
                  text: input.text ?? 'Orrery',
                  dials: dials(m),
                }),
                job,
                lane,
              );
        before ??= { rgba: run.before, width: run.width, height: run.height };
        after.set(m, run);
      }
      for (const m of multiples) {
        const run = after.get(m);
        const img = run
          ? { rgba: run.after, width: run.width, height: run.height, ssim: run.metrics.ssim }
          : before
            ? { ...before, ssim: 1 }
            : null;
        frames.push({ multiple: m, value: valueOf(m), image: img, text: null });
      }
    }
    const strip = { frames, cached: false };
    this.strips.set(key, strip);
    while (this.strips.size > STRIP_CACHE) {
      const oldest = this.strips.keys().next().value;
      if (oldest === undefined) break;
      this.strips.delete(oldest);
    }
    return strip;
  }
}
