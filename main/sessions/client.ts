/**
 * The API thread's side of the sessions worker (./worker.ts): the SessionStore's calls, each
 * an awaited message. The worker runs them one at a time in arrival order and answers a write
 * after its transaction committed, so a resolved promise means the step, rename or preset is
 * on disk (see SessionStore on what survives what). The API thread never waits on SQLite: other
 * calls are answered while a write is in flight.
 *
 * The worker starts on the client's first call or `ready()` (not with the app: its start, ~0.5 s
 * of CPU, would compete with the first view; the page asks for sessions and notices after it)
 * and opens the database at once, so a damaged file is moved aside and reported
 * (`onRecovered`) before any call is answered; `ready()` settles once that is done. If the
 * thread dies, its calls in flight fail with `unavailable` and the next call starts a new one.
 */
import type { Worker } from 'node:worker_threads';
import { OrreryError } from '../../preload/contract';
import { spawnWorker } from '../app/spawnWorker';
import type { WorkerEntry } from '../app/workerEntry';
import type { Recovery } from '../db/recover';
import type {
  SessionMethod,
  SessionMethods,
  SessionReply,
  SessionRequest,
  SessionWorkerData,
} from './worker';

type Async<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never;

/** The SessionStore's API, each call answered by the worker. */
export type SessionCalls = { [K in SessionMethod]: Async<SessionMethods[K]> };

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class SessionsClient implements SessionCalls {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private started: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly entry: WorkerEntry,
    private readonly file: string,
    private readonly onRecovered: (r: Recovery) => void = () => undefined,
  ) {}

  /**
   * Starts the worker if need be; settles when it has opened (or failed to open) the database
   * and reported it.
   */
  ready(): Promise<void> {
    if (!this.closed) this.start();
    return this.started;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const data: SessionWorkerData = { file: this.file };
    const w = spawnWorker(this.entry, data);
    let settle: () => void = () => undefined;
    this.started = new Promise<void>((resolve) => (settle = resolve));
    const failAll = (e: Error): void => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      settle();
    };
    w.on('message', (m: SessionReply) => {
      if (m.type === 'recovered') return this.onRecovered(m.recovery);
      if (m.type === 'ready' || m.type === 'failed') {
        settle();
        this.idle(w);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.idle(w);
      if (m.type === 'error')
        p.reject(m.code ? new OrreryError(m.code, m.message) : new Error(m.message));
      else p.resolve(m.type === 'value' ? m.value : undefined);
    });
    w.on('error', (e) =>
      failAll(new OrreryError('unavailable', `the sessions worker failed: ${e.message}`)),
    );
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = null;
      failAll(new OrreryError('unavailable', `the sessions worker stopped (exit code ${code})`));
    });
    this.worker = w;
    return w;
  }

  /** Lets the process exit while nothing is asked of the worker. */
  private idle(w: Worker): void {
    if (this.pending.size === 0) w.unref();
  }

  private send(request: SessionRequest): Promise<unknown> {
    if (this.closed)
      return Promise.reject(new OrreryError('unavailable', 'the sessions database is closed'));
    const w = this.start();
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      w.ref();
      w.postMessage(request);
    });
  }

  private call<K extends SessionMethod>(
    method: K,
    ...args: Parameters<SessionMethods[K]>
  ): Promise<ReturnType<SessionMethods[K]>> {
    const request = { type: 'call', id: this.nextId++, method, args } as SessionRequest;
    return this.send(request) as Promise<ReturnType<SessionMethods[K]>>;
  }

  create: SessionCalls['create'] = (...a) => this.call('create', ...a);
  list: SessionCalls['list'] = (...a) => this.call('list', ...a);
  get: SessionCalls['get'] = (...a) => this.call('get', ...a);
  record: SessionCalls['record'] = (...a) => this.call('record', ...a);
  undo: SessionCalls['undo'] = (...a) => this.call('undo', ...a);
  redo: SessionCalls['redo'] = (...a) => this.call('redo', ...a);
  checkout: SessionCalls['checkout'] = (...a) => this.call('checkout', ...a);
  rename: SessionCalls['rename'] = (...a) => this.call('rename', ...a);
  renameStep: SessionCalls['renameStep'] = (...a) => this.call('renameStep', ...a);
  setDials: SessionCalls['setDials'] = (...a) => this.call('setDials', ...a);
  remove: SessionCalls['remove'] = (...a) => this.call('remove', ...a);
  exportRecipe: SessionCalls['exportRecipe'] = (...a) => this.call('exportRecipe', ...a);
  importRecipe: SessionCalls['importRecipe'] = (...a) => this.call('importRecipe', ...a);
  savePreset: SessionCalls['savePreset'] = (...a) => this.call('savePreset', ...a);
  listPresets: SessionCalls['listPresets'] = (...a) => this.call('listPresets', ...a);
  removePreset: SessionCalls['removePreset'] = (...a) => this.call('removePreset', ...a);
  saveSelection: SessionCalls['saveSelection'] = (...a) => this.call('saveSelection', ...a);
  listSelections: SessionCalls['listSelections'] = (...a) => this.call('listSelections', ...a);
  removeSelection: SessionCalls['removeSelection'] = (...a) => this.call('removeSelection', ...a);
  blobHashes: SessionCalls['blobHashes'] = (...a) => this.call('blobHashes', ...a);

  /** Waits for the calls sent before, closes the database, and ends the thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    const w = this.worker;
    if (w) {
      try {
        await this.send({ type: 'close', id: this.nextId++ });
      } catch {
        // the thread is gone already
      }
    }
    this.closed = true;
    this.worker = null;
    if (w) await w.terminate();
  }
}
