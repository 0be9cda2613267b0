/**
 * The index build's worker thread: opens its own connection to the index file, builds, and
 * reports progress; a `cancel` message stops it at the next chunk (the build resumes from
 * the last committed chunk next time).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildIndex, BuildCancelled, openIndex } from './index';

export interface BuildJob {
  file: string;
  packDir: string;
  saeId: string;
}

export type BuildWorkerMessage =
  | { type: 'progress'; stage: string; done: number; total: number }
  | { type: 'done'; summary: unknown }
  | { type: 'error'; cancelled: boolean; message: string };

const job = workerData as BuildJob;
const controller = new AbortController();
parentPort?.on('message', (m: { type: string }) => {
  if (m.type === 'cancel') controller.abort();
});

const send = (m: BuildWorkerMessage): void => parentPort?.postMessage(m);

async function run(): Promise<void> {
  const db = openIndex(job.file);
  try {
    const summary = await buildIndex(db, job.packDir, {
      saeId: job.saeId,
      signal: controller.signal,
      onProgress: (p) => send({ type: 'progress', stage: p.stage, done: p.done, total: p.total }),
    });
    send({ type: 'done', summary });
  } finally {
    db.close();
  }
}

run().catch((e: unknown) =>
  send({
    type: 'error',
    cancelled: e instanceof BuildCancelled,
    message: e instanceof Error ? e.message : String(e),
  }),
);
