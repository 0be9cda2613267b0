/**
 * A bridge build as a request of the index worker (main/index/worker.ts): the worker opens
 * the bridge file, builds or resumes it with progress and cancel, and answers with the
 * summary. Kept here so the worker's own file only routes the request.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { buildBridge, type BridgeSummary } from './build';
import { openBridge, type BridgeMethod, type BridgeProgress } from './meta';

export interface BridgeBuildRequest {
  type: 'bridge-build';
  id: string;
  /** The bridge file (created with its folder if need be). */
  dbFile: string;
  /** Sides as main/bridge/sides.ts names them: `<pack folder>#<sae id>`. */
  a: string;
  b: string;
  method?: BridgeMethod;
}

export interface BridgeBuiltReply {
  type: 'bridged';
  id: string;
  summary: BridgeSummary;
}

export async function runBridgeRequest(
  msg: BridgeBuildRequest,
  signal: AbortSignal,
  onProgress: (p: BridgeProgress) => void,
): Promise<BridgeBuiltReply> {
  mkdirSync(path.dirname(msg.dbFile), { recursive: true });
  const db = openBridge(msg.dbFile);
  try {
    const summary = await buildBridge(db, msg.a, msg.b, { method: msg.method, signal, onProgress });
    return { type: 'bridged', id: msg.id, summary };
  } finally {
    db.close();
  }
}
