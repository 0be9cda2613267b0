/**
 * The one long-lived index worker (main/index/worker.ts): builds and label imports, served one
 * at a time in arrival order by the worker's own queue. It starts on the first request and is
 * kept; replies, progress and errors are routed by request id; a job's cancel reaches the
 * worker as a cancel message. If the thread dies, its requests fail and the next request
 * starts a new one.
 */
import type { Worker } from 'node:worker_threads';
import { OrreryError } from '../../../preload/contract';
import type { JobContext } from '../../api/jobs';
import { spawnWorker } from '../../app/spawnWorker';
import type { WorkerEntry } from '../../app/workerEntry';
import type { IndexWorkerReply, IndexWorkerRequest } from '../../index/worker';

/** A worker's last word on a request that succeeded. */
export type Final = Extract<
  IndexWorkerReply,
  { type: 'done' | 'imported' | 'imported-dashboards' | 'sheet' | 'bridged' }
>;
type Pending = {
  job: JobContext | null;
  what: string;
  failure: 'bad_pack' | 'bad_input';
  resolve: (r: Final) => void;
  reject: (e: Error) => void;
};

export class IndexWorkerHost {
  private worker: Worker | null = null;
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly entry: WorkerEntry) {}

  /** Requests sent and not yet answered (queued or running). */
  get queued(): number {
    return this.pending.size;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = spawnWorker(this.entry);
    const failAll = (why: (p: Pending) => Error): void => {
      for (const p of this.pending.values()) p.reject(why(p));
      this.pending.clear();
      if (this.worker === worker) this.worker = null;
    };
    worker.on('message', (m: IndexWorkerReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') {
        p.job?.progress(m.progress.stage, m.progress.done, m.progress.total);
        return;
      }
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.type === 'error')
        p.reject(new OrreryError(m.cancelled ? 'cancelled' : (m.code ?? p.failure), m.message));
      else p.resolve(m);
    });
    worker.on('error', (e) =>
      failAll((p) => new OrreryError('internal', `${p.what} failed: ${e.message}`)),
    );
    worker.on('exit', (code) =>
      failAll((p) => new OrreryError('internal', `${p.what} stopped (exit code ${code})`)),
    );
    this.worker = worker;
    return worker;
  }

  /** Queues one request; resolves with the worker's final reply for it. */
  run(
    request: Exclude<IndexWorkerRequest, { type: 'cancel' }>,
    job: JobContext | null,
    what: string,
    failure: 'bad_pack' | 'bad_input',
  ): Promise<Final> {
    if (this.pending.has(request.id))
      return Promise.reject(new OrreryError('bad_input', `${what} is already queued`));
    const worker = this.start();
    const id = request.id;
    const onAbort = (): void =>
      this.worker?.postMessage({ type: 'cancel', id } satisfies IndexWorkerRequest);
    job?.signal.addEventListener('abort', onAbort, { once: true });
    return new Promise<Final>((resolve, reject) => {
      this.pending.set(id, { job, what, failure, resolve, reject });
      worker.ref();
      worker.postMessage(request);
    }).finally(() => job?.signal.removeEventListener('abort', onAbort));
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
