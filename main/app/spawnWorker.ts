import { Worker } from 'node:worker_threads';
import type { WorkerEntry } from './workerEntry';

/** Starts a worker thread from its entry (built JavaScript, or TypeScript through tsx). */
export function spawnWorker(entry: WorkerEntry, workerData?: unknown): Worker {
  return entry.tsx
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry.file)});`, {
        eval: true,
        workerData,
      })
    : new Worker(entry.file, { workerData });
}
