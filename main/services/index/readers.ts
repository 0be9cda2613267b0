/**
 * A pool of index reader threads (main/index/reader.ts): searches, cards, map positions and
 * sheet decoding leave the API thread. Threads start on first use (or one at once: warm, or one
 * started before the pool: adopt) and stay; a request goes
 * to the thread with the fewest in flight. A thread that dies fails its own requests and is
 * replaced on the next one.
 */
import type { Worker } from 'node:worker_threads';
import { OrreryError } from '../../../preload/contract';
import { spawnWorker } from '../../app/spawnWorker';
import type { WorkerEntry } from '../../app/workerEntry';
import type { ReaderReply, ReaderRequest } from '../../index/reader';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Slot = { worker: Worker; pending: Map<number, Pending> };
/** A request without its id (the pool numbers them). */
export type ReaderCall = ReaderRequest extends infer R
  ? R extends ReaderRequest
    ? Omit<R, 'id'>
    : never
  : never;

export class ReaderPool {
  private readonly slots: (Slot | null)[];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly entry: WorkerEntry,
    size = 2,
  ) {
    this.slots = Array.from({ length: Math.max(1, size) }, () => null);
  }

  /** Threads started so far (for tests and the bench). */
  get started(): number {
    return this.slots.filter(Boolean).length;
  }

  private spawn(i: number, started?: Worker): Slot {
    const worker = started ?? spawnWorker(this.entry);
    const slot: Slot = { worker, pending: new Map() };
    const failAll = (e: Error): void => {
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
      if (this.slots[i] === slot) this.slots[i] = null;
    };
    worker.on('message', (m: ReaderReply) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new OrreryError(m.code ?? 'internal', m.message));
    });
    worker.on('error', (e) =>
      failAll(new OrreryError('internal', `index reader failed: ${e.message}`)),
    );
    worker.on('exit', (code) =>
      failAll(new OrreryError('internal', `index reader stopped (exit code ${code})`)),
    );
    worker.unref();
    this.slots[i] = slot;
    return slot;
  }

  private pick(): Slot {
    let best = -1;
    let load = Infinity;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i];
      const l = s ? s.pending.size : 0.5; // an idle live thread before starting another
      if (l < load) {
        load = l;
        best = i;
      }
    }
    return this.slots[best] ?? this.spawn(best);
  }

  private send<T>(slot: Slot, call: ReaderCall): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (slot.pending.size === 1) slot.worker.ref();
      slot.worker.postMessage({ ...call, id } as ReaderRequest);
    }).finally(() => {
      if (slot.pending.size === 0) slot.worker.unref();
    });
  }

  /**
   * Starts one reader now, if none is running: a thread takes a second or more to load its
   * bundle on a busy machine, so the app's first map read need not wait for it (cold start).
   */
  warm(): void {
    if (!this.closed && this.started === 0) this.spawn(0);
  }

  /**
   * Takes a reader thread started before the pool existed (the server starts one with the
   * process, main/app/earlyWorker.ts) as its first thread, if none is running yet; returns
   * whether it did (else the caller still owns the thread).
   */
  adopt(worker: Worker): boolean {
    if (this.closed || this.started > 0) return false;
    this.spawn(0, worker);
    return true;
  }

  run<T>(call: ReaderCall): Promise<T> {
    if (this.closed)
      return Promise.reject(new OrreryError('internal', 'the index readers are closed'));
    return this.send<T>(this.pick(), call);
  }

  /** Every live reader closes its connection to `file`. */
  async release(file: string | null): Promise<void> {
    await Promise.all(
      this.slots.map((s) =>
        s ? this.send(s, { type: 'release', file }).catch(() => undefined) : null,
      ),
    );
  }

  /** Closes every reader's connections (so SQLite folds its WAL back), then ends the threads. */
  async close(): Promise<void> {
    this.closed = true;
    const live = this.slots.filter((s): s is Slot => s !== null);
    this.slots.fill(null);
    await Promise.all(
      live.map((s) => this.send(s, { type: 'release', file: null }).catch(() => undefined)),
    );
    await Promise.all(live.map((s) => s.worker.terminate()));
  }
}
