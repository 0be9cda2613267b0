/**
 * The index's long work off the API thread (builds, label and dashboard imports, and decoding a pack's
 * example sheet for thumbnails): a worker_threads entry behind a typed message union.
 * The main process starts `new Worker(<this file, built>)`, posts IndexWorkerRequest
 * messages and receives IndexWorkerReply messages; the worker owns its own Db handle
 * (WAL: the API thread keeps reading the same file while the build writes).
 */
import { isMainThread, parentPort, type MessagePort } from 'node:worker_threads';
import { OrreryError, type ErrorCode } from '../../preload/contract';
import {
  buildIndex,
  BuildCancelled,
  importNeuronpedia,
  importNeuronpediaExport,
  openIndex,
  type BuildProgress,
  type BuildSummary,
  type DashboardImportOptions,
  type DashboardImportReport,
  type DashboardProgress,
  type ImportReport,
  type NeuronpediaFilter,
  type SplitChoice,
} from './index';
import { indexFromDashboards } from './build/dashboards';
import { runBridgeRequest, type BridgeBuildRequest, type BridgeBuiltReply } from '../bridge/job';
import { BridgeCancelled, type BridgeProgress } from '../bridge/meta';
import { readSheet, type Sheet } from './corpus';

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
      /** A folder of the person's own examples instead of the pack's. */
      corpusDir?: string;
    }
  | {
      /** Labels from a Neuronpedia explanations export (JSON lines) into one SAE's index. */
      type: 'import-neuronpedia';
      id: string;
      dbFile: string;
      saeId: string;
      file: string;
      filter: NeuronpediaFilter;
    }
  | {
      /** Neuronpedia dashboards (an export folder or one feature's JSON) into an index. */
      type: 'import-dashboards';
      id: string;
      dbFile: string;
      source: string;
      options: Omit<DashboardImportOptions, 'caps'>;
    }
  | {
      /** A pack SAE's index from a Neuronpedia export, mapped from its decoder when the export
       * has no UMAP (build/dashboards.ts): "Open model…" with dashboards. */
      type: 'index-from-dashboards';
      id: string;
      dbFile: string;
      packDir: string;
      saeId: string;
      source: string;
    }
  | {
      /** Decode a pack's sprite sheet (PNG); the pixels come back transferred, not copied. */
      type: 'read-sheet';
      id: string;
      file: string;
      tile: number;
    }
  | BridgeBuildRequest
  | { type: 'cancel'; id: string };

export type IndexWorkerReply =
  | { type: 'progress'; id: string; progress: BuildProgress | DashboardProgress | BridgeProgress }
  | { type: 'done'; id: string; summaries: BuildSummary[] }
  | { type: 'imported'; id: string; report: ImportReport }
  | { type: 'imported-dashboards'; id: string; report: DashboardImportReport }
  | { type: 'sheet'; id: string; sheet: Sheet }
  | BridgeBuiltReply
  | { type: 'error'; id: string; cancelled: boolean; message: string; code?: ErrorCode };

/**
 * Serves requests on `port`, one at a time in arrival order (an import waits for a build of
 * the same file instead of contending for its write lock).
 */
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
        if (msg.type === 'read-sheet') {
          const sheet = await readSheet(msg.file, msg.tile);
          port.postMessage({ type: 'sheet', id: msg.id, sheet } satisfies IndexWorkerReply, [
            sheet.rgba.buffer as ArrayBuffer,
          ]);
          return;
        }
        if (msg.type === 'bridge-build') {
          post(
            await runBridgeRequest(msg, controller.signal, (progress) =>
              post({ type: 'progress', id: msg.id, progress }),
            ),
          );
          return;
        }
        db = openIndex(msg.dbFile);
        if (msg.type === 'import-neuronpedia') {
          const report = await importNeuronpedia(
            db,
            msg.saeId,
            msg.file,
            msg.filter,
            controller.signal,
          );
          post({ type: 'imported', id: msg.id, report });
          return;
        }
        if (msg.type === 'import-dashboards') {
          const report = await importNeuronpediaExport(
            db,
            msg.source,
            msg.options,
            (progress) => post({ type: 'progress', id: msg.id, progress }),
            controller.signal,
          );
          post({ type: 'imported-dashboards', id: msg.id, report });
          return;
        }
        if (msg.type === 'index-from-dashboards') {
          const report = await indexFromDashboards(
            db,
            msg.packDir,
            msg.saeId,
            msg.source,
            (progress) => post({ type: 'progress', id: msg.id, progress }),
            controller.signal,
          );
          post({ type: 'imported-dashboards', id: msg.id, report });
          return;
        }
        const summaries = await buildIndex(db, msg.packDir, {
          saeId: msg.saeId,
          split: msg.split,
          chunkExamples: msg.chunkExamples,
          corpusDir: msg.corpusDir,
          signal: controller.signal,
          onProgress: (progress) => post({ type: 'progress', id: msg.id, progress }),
        });
        post({ type: 'done', id: msg.id, summaries });
      } catch (e) {
        post({
          type: 'error',
          id: msg.id,
          cancelled: e instanceof BuildCancelled || e instanceof BridgeCancelled,
          message: (e as Error).message,
          // A named error (too_large, not_found …) keeps its name across the thread.
          ...(e instanceof OrreryError ? { code: e.code } : {}),
        });
      } finally {
        db?.close();
        running.delete(msg.id);
      }
    });
  });
}

if (!isMainThread && parentPort) {
  serveIndexWorker(parentPort);
}
