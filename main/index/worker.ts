/**
 * The index build off the API thread: a worker_threads entry behind a typed message union.
 * The main process starts `new Worker(<this file, built>)`, posts IndexWorkerRequest
 * messages and receives IndexWorkerReply messages; the worker owns its own Db handle
 * (WAL: the API thread keeps reading the same file while the build writes).
 */
import { isMainThread, parentPort, type MessagePort } from 'node:worker_threads';
import {
  buildIndex,
  BuildCancelled,
  openIndex,
  type BuildProgress,
  type BuildSummary,
  type SplitChoice,
} from './index';

export type IndexWorkerRequest =
  | {
      type: 'build';
      /** The caller's id for this build (a job id); replies carry it. */
      id: string;
      dbFile: string;
      packDir: string;
      saeId?: string;
      split?: SplitChoice;
      chunkExamples?: number;
    }
  | { type: 'cancel'; id: string };

export type IndexWorkerReply =
  | { type: 'progress'; id: string; progress: BuildProgress }
  | { type: 'done'; id: string; summaries: BuildSummary[] }
  | { type: 'error'; id: string; cancelled: boolean; message: string };

/** Serves build requests on `port` (one build per id; several ids run one after another). */
export function serveIndexWorker(port: MessagePort): void {
  const running = new Map<string, AbortController>();
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (msg: IndexWorkerRequest) => {
    if (msg.type === 'cancel') {
      running.get(msg.id)?.abort();
      return;
    }
    const controller = new AbortController();
    running.set(msg.id, controller);
    const post = (r: IndexWorkerReply): void => port.postMessage(r);
    queue = queue.then(async () => {
      let db: ReturnType<typeof openIndex> | null = null;
      try {
        if (controller.signal.aborted) throw new BuildCancelled();
        db = openIndex(msg.dbFile);
        const summaries = await buildIndex(db, msg.packDir, {
          saeId: msg.saeId,
          split: msg.split,
          chunkExamples: msg.chunkExamples,
          signal: controller.signal,
          onProgress: (progress) => post({ type: 'progress', id: msg.id, progress }),
        });
        post({ type: 'done', id: msg.id, summaries });
      } catch (e) {
        post({
          type: 'error',
          id: msg.id,
          cancelled: e instanceof BuildCancelled,
          message: (e as Error).message,
        });
      } finally {
        db?.close();
        running.delete(msg.id);
      }
    });
  });
}

if (!isMainThread && parentPort) serveIndexWorker(parentPort);
