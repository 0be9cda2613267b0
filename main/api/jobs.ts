/**
 * Long work (imports, index builds, generation) runs as a job: it reports progress events
 * and can be cancelled by id. A call that carries a `jobId` gets a JobContext bound to it.
 */
import { OrreryError, type Progress } from '../../preload/contract';

export interface JobContext {
  readonly jobId: string | null;
  readonly signal: AbortSignal;
  progress(stage: string, done: number, total: number): void;
  throwIfCancelled(): void;
}

export class JobRegistry {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly onProgress: (p: Progress) => void) {}

  /** Starts a job context; the id is released when `finish` runs. */
  start(jobId: string | null): { ctx: JobContext; finish: () => void } {
    const controller = new AbortController();
    if (jobId !== null) {
      if (this.running.has(jobId))
        throw new OrreryError('bad_input', `job "${jobId}" is already running`);
      this.running.set(jobId, controller);
    }
    let lastSent = 0;
    const ctx: JobContext = {
      jobId,
      signal: controller.signal,
      progress: (stage, done, total) => {
        if (jobId === null) return;
        const now = Date.now();
        // At most ~20 events a second, but always the last one.
        if (done < total && now - lastSent < 50) return;
        lastSent = now;
        this.onProgress({ jobId, stage, done, total });
      },
      throwIfCancelled: () => {
        if (controller.signal.aborted)
          throw new OrreryError('cancelled', `job "${jobId ?? ''}" was cancelled`);
      },
    };
    const finish = (): void => {
      if (jobId !== null && this.running.get(jobId) === controller) this.running.delete(jobId);
    };
    return { ctx, finish };
  }

  cancel(jobId: string): boolean {
    const c = this.running.get(jobId);
    if (!c) return false;
    c.abort();
    return true;
  }

  cancelAll(): void {
    for (const c of this.running.values()) c.abort();
    this.running.clear();
  }
}
