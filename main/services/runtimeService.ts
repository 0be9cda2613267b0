/**
 * Inference calls, answered by the worker: resolves a pack id to its folder, forwards the
 * call, streams tokens as events, lets dial changes supersede each other, and saves a
 * finished run as a session step when the call names a session.
 */
import type { z } from 'zod';
import type {
  ActiveOutput,
  DialInput,
  ImageOutput,
  RuntimeInfo,
  Step,
  TextGenerateOutput,
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
import type { RuntimeWorker } from '../runtime/worker/client';
import type { EngineOp } from '../runtime/worker/protocol';
import type { SessionStore } from '../sessions/sessionStore';

type Recordable = { packId: string; dials: DialInput[]; sessionId?: string; jobId?: string };

export class RuntimeService {
  constructor(
    private readonly worker: RuntimeWorker,
    private readonly packs: PackService,
    private readonly events: EventHub,
    private readonly sessions: SessionStore,
  ) {}

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

  /** Saves a finished run as a step when the call names a session. */
  private recorded<T>(kind: Step['kind'], input: Recordable, output: T): T {
    if (input.sessionId) {
      const { packId: _pack, dials, sessionId, jobId: _job, ...rest } = input;
      this.sessions.record(sessionId, kind, rest, dials, output as Record<string, unknown>);
    }
    return output;
  }

  open(packId: string): Promise<RuntimeInfo> {
    return this.run(packId, 'open', {}, null);
  }

  async textGenerate(
    input: TextGenerateInput,
    job: JobContext,
  ): Promise<z.output<typeof TextGenerateOutput>> {
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

  async imageSteer(input: ImageSteerInput, job: JobContext): Promise<z.output<typeof ImageOutput>> {
    const out = await this.run<z.output<typeof ImageOutput>>(
      input.packId,
      'image.steer',
      input,
      job,
    );
    return this.recorded('image', input, out);
  }

  imageActive(input: ImageActiveInput, job: JobContext): Promise<z.output<typeof ActiveOutput>> {
    return this.run(input.packId, 'image.active', input, job);
  }

  async glyphSpecimen(
    input: GlyphSpecimenInput,
    job: JobContext,
  ): Promise<z.output<typeof ImageOutput>> {
    const out = await this.run<z.output<typeof ImageOutput>>(
      input.packId,
      'glyph.specimen',
      input,
      job,
    );
    return this.recorded('glyph', input, out);
  }
}
