/**
 * The workerData that makes the index worker's entry serve reads (worker.ts): no imports, so
 * the server's entry can start a reader before loading anything else (app/earlyWorker.ts).
 */
export const READER_DATA = { role: 'reader' } as const;
