/**
 * Inference calls, answered by the worker: resolves a pack id to its folder, forwards the
 * call, streams tokens as events, and lets dial changes supersede each other.
 */
import type { z } from 'zod';
import type {
  ActiveOutput,
  ImageOutput,
  RuntimeInfo,
  TextGenerateOutput,
} from '../../preload/contract';
import type { JobContext } from '../api/jobs';
import type { EventHub } from '../app/events';
import type {
  GlyphSpecimenInput,
  ImageActiveInput,
  ImageSteerInput,
  TextActiveInput,
  TextGenerateInput,
} from '../runtime/engine';
import type { RuntimeWorker } from '../runtime/worker/client';
import type { EngineOp } from '../runtime/worker/protocol';
import type { PackService } from '../packs/packService';

export class RuntimeService {
  constructor(
    private readonly worker: RuntimeWorker,
    private readonly packs: PackService,
    private readonly events: EventHub,
  ) {}

  private async run<T>(
    packId: string,
    op: EngineOp,
    input: unknown,
    job: JobContext | null,
    lane?: string,
  ): Promise<T> {
    const { pack } = await this.packs.find(packId);
    const jobId = job?.jobId ?? null;
    return (await this.worker.request(pack.dir, op, input, {
      signal: job?.signal,
      lane: lane === undefined ? undefined : `${lane}:${packId}`,
      onToken: (t) => {
        if (jobId !== null)
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

  open(packId: string): Promise<RuntimeInfo> {
    return this.run(packId, 'open', {}, null);
  }

  textGenerate(
    input: TextGenerateInput,
    job: JobContext,
  ): Promise<z.output<typeof TextGenerateOutput>> {
    return this.run(input.packId, 'text.generate', input, job, 'text.generate');
  }

  textActive(input: TextActiveInput, job: JobContext): Promise<z.output<typeof ActiveOutput>> {
    return this.run(input.packId, 'text.active', input, job, 'text.active');
  }

  imageSteer(input: ImageSteerInput, job: JobContext): Promise<z.output<typeof ImageOutput>> {
    return this.run(input.packId, 'image.steer', input, job, 'image.steer');
  }

  imageActive(input: ImageActiveInput, job: JobContext): Promise<z.output<typeof ActiveOutput>> {
    return this.run(input.packId, 'image.active', input, job, 'image.active');
  }

  glyphSpecimen(input: GlyphSpecimenInput, job: JobContext): Promise<z.output<typeof ImageOutput>> {
    return this.run(input.packId, 'glyph.specimen', input, job, 'glyph.specimen');
  }
}
