/**
 * Where a worker thread's script is: the built file next to the main bundle, or the
 * TypeScript source (loaded through tsx's require hook) when running from sources.
 */
import path from 'node:path';

export interface WorkerEntry {
  file: string;
  /** Load the script through tsx's require hook (running from TypeScript sources). */
  tsx: boolean;
}

const sources = {
  runtime: 'main/runtime/worker/host.ts',
  index: 'main/index/worker.ts',
  reader: 'main/index/readerEntry.ts',
  sessions: 'main/sessions/worker.ts',
} as const;

const built = {
  runtime: 'out/main/runtimeWorker.js',
  index: 'out/main/indexWorker.js',
  reader: 'out/main/indexReader.js',
  sessions: 'out/main/sessionsWorker.js',
} as const;

export type WorkerName = keyof typeof sources;

export function workerEntry(appRoot: string, name: WorkerName): WorkerEntry {
  if (__filename.endsWith('.ts')) return { file: path.join(appRoot, sources[name]), tsx: true };
  return { file: path.join(appRoot, built[name]), tsx: false };
}
