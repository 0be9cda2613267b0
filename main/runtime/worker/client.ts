/**
 * Main's side of the inference worker. Sends typed requests, routes streamed tokens and
 * progress back to the caller, cancels on the caller's signal, and coalesces by lane: a new
 * request on a lane supersedes the one before it (a dial dragged fast keeps only the newest
 * run). A crashed worker fails the requests in flight and is restarted on the next request.
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../../app/spawnWorker';
import type { WorkerEntry } from '../../app/workerEntry';
import { OrreryError } from '../../../preload/contract';
import type { EngineOp, WorkerRequest, WorkerResponse } from './protocol';

export interface RequestOptions {
  signal?: AbortSignal;
  /** Requests on the same lane supersede each other: only the newest is answered with a value. */
  lane?: string;
  onToken?: (t: Extract<WorkerResponse, { type: 'token' }>) => void;
  onProgress?: (p: Extract<WorkerResponse, { type: 'progress' }>) => void;
  /** A drag sweep's frames, batch by batch. */
  onFrames?: (f: Extract<WorkerResponse, { type: 'frames' }>) => void;
  /** Uploaded files the input names, by hash: where their bytes are. */
  blobs?: Record<string, string>;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  options: RequestOptions;
  lane: string | undefined;
}

export class RuntimeWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly lanes = new Map<string, number>();
  private closing = false;

  constructor(private readonly entry: WorkerEntry) {}

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = spawnWorker(this.entry);
    w.on('message', (m: WorkerResponse) => this.receive(m));
    w.on('error', (e) =>
      this.failAll(new OrreryError('unavailable', `the inference worker failed: ${e.message}`)),
    );
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = null;
      if (!this.closing)
        this.failAll(
          new OrreryError('unavailable', `the inference worker stopped (exit code ${code})`),
        );
    });
    w.unref();
    this.worker = w;
    return w;
  }

  private failAll(e: OrreryError): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(e);
    }
    this.lanes.clear();
  }

  private receive(m: WorkerResponse): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'token') return p.options.onToken?.(m);
    if (m.type === 'progress') return p.options.onProgress?.(m);
    if (m.type === 'frames') return p.options.onFrames?.(m);
    this.pending.delete(m.id);
    if (p.lane !== undefined && this.lanes.get(p.lane) === m.id) this.lanes.delete(p.lane);
    if (m.type === 'done') p.resolve(m.value);
    else p.reject(new OrreryError(m.code, m.message));
  }

  private post(message: WorkerRequest): void {
    this.ensure().postMessage(message);
  }

  request(
    packDir: string,
    op: EngineOp,
    input: unknown,
    options: RequestOptions = {},
  ): Promise<unknown> {
    if (options.signal?.aborted)
      return Promise.reject(new OrreryError('cancelled', 'cancelled before it started'));
    const id = this.nextId++;
    const lane = options.lane;
    if (lane !== undefined) {
      const older = this.lanes.get(lane);
      if (older !== undefined) this.post({ type: 'cancel', id: older });
      this.lanes.set(lane, id);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, options, lane });
      options.signal?.addEventListener('abort', () => this.post({ type: 'cancel', id }), {
        once: true,
      });
      this.post({ type: 'call', id, packDir, op, input, blobs: options.blobs });
    });
  }

  /** Drops the engine loaded for a pack folder (its manifest changed); none loaded when the
   * worker has not started, and it is not started for this. */
  unload(packDir: string): Promise<unknown> {
    if (!this.worker) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, options: {}, lane: undefined });
      this.post({ type: 'unload', id, packDir });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const w = this.worker;
    this.worker = null;
    this.failAll(new OrreryError('cancelled', 'Orrery is shutting down'));
    if (w) await w.terminate();
    this.closing = false;
  }
}
