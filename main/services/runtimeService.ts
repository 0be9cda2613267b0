/**
 * Inference calls, answered by the worker: resolves a pack id to its folder, forwards the
 * call, streams tokens as events, lets dial changes supersede each other, and saves a
 * finished run as a session step when the call names a session.
 */
import type { z } from 'zod';
import type {
  ActiveOutput,
  DialInput,
  ImageReplySchema,
  RuntimeInfo,
  Step,
  TextGenerateOutput,
  TextReplySchema,
} from '../../preload/contract';
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

export class RuntimeService {
  constructor(
    private readonly worker: RuntimeWorker,
    private readonly packs: PackService,
    private readonly events: EventHub,
    private readonly sessions: Pick<SessionCalls, 'record'>,
    private readonly blobs: BlobStore,
  ) {}

  /** The uploaded file a call's source names, checked to be there: its hash → its path. */
  private blobFiles(input: unknown): Record<string, string> | undefined {
    const source = (input as { source?: { blob?: unknown } }).source;
    if (typeof source?.blob !== 'string') return undefined;
    return { [source.blob]: this.blobs.require(source.blob) };
  }

  private async run<T>(
    packId: string,
    op: EngineOp,
    input: unknown,
    job: JobContext | null,
  ): Promise<T> {
    // Each call kind is a lane per pack: a newer request supersedes the one in flight.
    const lane = op === 'open' ? undefined : op;
    const { pack } = await this.packs.find(packId);
    const jobId = job?.jobId ?? null;
    return (await this.worker.request(pack.dir, op, input, {
      signal: job?.signal,
      lane: lane === undefined ? undefined : `${lane}:${packId}`,
      blobs: this.blobFiles(input),
      onToken: (t) => {
        if (jobId === null) return;
        this.events.emit('text.token', {
          jobId,
          row: t.row,
          index: t.index,
          tokenId: t.tokenId,
          text: t.text,
        });
      },
      onProgress: (p) => job?.progress(p.stage, p.done, p.total),
    })) as T;
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
    const step = await this.sessions.record(
      sessionId,
      kind,
      rest,
      dials,
      saved,
      gestureId ?? null,
    );
    return { ...output, step };
  }

  /**
   * An image or specimen run: the reply carries raw pixels; a saved step keeps the PNGs
   * (written once, in the worker) as blobs, by hash.
   */
  private imageReply(
    kind: 'image' | 'glyph',
    input: Recordable,
    run: ImageRun,
  ): Promise<z.output<typeof ImageReplySchema>> {
    const { png, ...out } = run;
    if (!input.sessionId || !png) return this.recorded(kind, input, out);
    // the blobs are on disk before the step that names them is committed
    const before = this.blobs.put(png.before);
    const after = this.blobs.put(png.after);
    return this.recorded(kind, input, out, {
      width: out.width,
      height: out.height,
      changed: out.changed,
      metrics: out.metrics,
      beforeBlob: before.hash,
      afterBlob: after.hash,
    });
  }

  open(packId: string): Promise<RuntimeInfo> {
    return this.run(packId, 'open', {}, null);
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
    return this.imageReply('image', input, run);
  }

  imageActive(input: ImageActiveInput, job: JobContext): Promise<z.output<typeof ActiveOutput>> {
    return this.run(input.packId, 'image.active', input, job);
  }

  async glyphSpecimen(
    input: GlyphSpecimenInput,
    job: JobContext,
  ): Promise<z.output<typeof ImageReplySchema>> {
    const run = await this.run<ImageRun>(input.packId, 'glyph.specimen', input, job);
    return this.imageReply('glyph', input, run);
  }
}
