/**
 * A worker thread started before the app is composed (cold start): loading a worker's bundle
 * takes a second or more on a busy machine, so the headless server starts the first index
 * reader with the process, and the thread loads while the page's files are served and the
 * app's own code loads. The app takes it once composed (ReaderPool.adopt); a thread that has
 * already stopped is not handed over, and one never taken does not keep the process alive.
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from './spawnWorker';
import type { WorkerEntry } from './workerEntry';

export interface EarlyWorker {
  /** The thread, once (null after that, or if it has stopped). */
  take(): Worker | null;
}

export function startEarlyWorker(entry: WorkerEntry): EarlyWorker {
  const worker = spawnWorker(entry);
  let stopped = false;
  let taken = false;
  const gone = (): void => {
    stopped = true;
  };
  worker.on('error', gone);
  worker.once('exit', gone);
  // the process may exit while the thread waits to be taken
  worker.unref();
  return {
    take: () => {
      if (taken || stopped) return null;
      taken = true;
      worker.off('error', gone);
      worker.off('exit', gone);
      return worker;
    },
  };
}
