/**
 * The index reader threads' entry (main/services/index/readers.ts starts them, and the headless
 * server one early): reads alone (reader.ts), so a reader loads neither the build pipeline nor
 * the contract's schemas that the index worker's entry (worker.ts) needs.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import { serveReader } from './reader';

if (!isMainThread && parentPort) serveReader(parentPort);
