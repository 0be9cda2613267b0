/**
 * The sessions database off the API thread: a worker_threads entry that owns the one
 * SessionStore (and its better-sqlite3 connection) and serves SessionRequest messages one at a
 * time in arrival order. Every reply is posted after the call returned, so a write's reply
 * means its transaction has committed. At start it opens the file (recovering a damaged one,
 * see main/db/recover.ts) and reports a recovery and then `ready` (or `failed`) to the host
 * (./client.ts).
 */
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { OrreryError, type ErrorCode } from '../../preload/contract';
import type { Recovery } from '../db/recover';
import { SessionStore } from './sessionStore';

/** The store's calls that the API thread may make, by name. */
export type SessionMethods = Pick<
  SessionStore,
  | 'create'
  | 'list'
  | 'get'
  | 'record'
  | 'undo'
  | 'redo'
  | 'checkout'
  | 'rename'
  | 'renameStep'
  | 'setDials'
  | 'remove'
  | 'exportRecipe'
  | 'importRecipe'
  | 'savePreset'
  | 'listPresets'
  | 'removePreset'
  | 'saveSelection'
  | 'listSelections'
  | 'removeSelection'
  | 'blobHashes'
>;
export type SessionMethod = keyof SessionMethods;

/** One call: the method and its arguments, exactly as SessionStore takes them. */
export type SessionRequest =
  | {
      [K in SessionMethod]: {
        type: 'call';
        id: number;
        method: K;
        args: Parameters<SessionMethods[K]>;
      };
    }[SessionMethod]
  | { type: 'close'; id: number };

export type SessionReply =
  | { type: 'value'; id: number; value: unknown }
  | { type: 'error'; id: number; message: string; code?: ErrorCode }
  | { type: 'closed'; id: number }
  | { type: 'recovered'; recovery: Recovery }
  | { type: 'ready' }
  | { type: 'failed'; message: string; code?: ErrorCode };

export interface SessionWorkerData {
  file: string;
}

function errorReply(e: unknown): { message: string; code?: ErrorCode } {
  if (e instanceof OrreryError) return { message: e.message, code: e.code };
  return { message: e instanceof Error ? e.message : String(e) };
}

/** Opens `file` and serves requests on `port` until a `close` request. */
export function serveSessions(port: MessagePort, data: SessionWorkerData): void {
  const post = (r: SessionReply): void => port.postMessage(r);
  let store: SessionStore | null = null;
  let failure: { message: string; code?: ErrorCode } | null = null;
  try {
    store = new SessionStore(data.file, (recovery) => post({ type: 'recovered', recovery }));
    post({ type: 'ready' });
  } catch (e) {
    failure = errorReply(e);
    post({ type: 'failed', ...failure });
  }
  port.on('message', (msg: SessionRequest) => {
    if (msg.type === 'close') {
      store?.close();
      store = null;
      post({ type: 'closed', id: msg.id });
      port.close();
      return;
    }
    if (!store) {
      post({
        type: 'error',
        id: msg.id,
        ...(failure ?? { message: 'the sessions database is closed', code: 'unavailable' }),
      });
      return;
    }
    try {
      // Synchronous: the transaction has committed when the call returns.
      const fn = store[msg.method] as (...args: unknown[]) => unknown;
      const value = fn.apply(store, msg.args);
      post({ type: 'value', id: msg.id, value });
    } catch (e) {
      post({ type: 'error', id: msg.id, ...errorReply(e) });
    }
  });
}

if (!isMainThread && parentPort) serveSessions(parentPort, workerData as SessionWorkerData);
