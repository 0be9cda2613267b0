/**
 * A built bridge between two SAEs, opened read-only from its place beside the indexes
 * (files.ts), for the calls that read one: carry across (carry.ts) and the chain through the
 * layers (chain.ts). A missing or unfinished bridge is not_found, saying to build it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { OrreryError } from '../../preload/contract';
import type { Db } from '../db/connection';
import { bridgeFileName, bridgesDir } from './files';
import { bridgeState, openBridge, type BridgeState } from './meta';

export interface SaeRef {
  packId: string;
  saeId: string;
}

/** The bridge file of (a, b) under `indexDir`. */
export function bridgeFile(indexDir: string, a: SaeRef, b: SaeRef): string {
  return path.join(bridgesDir(indexDir), bridgeFileName(a.packId, a.saeId, b.packId, b.saeId));
}

/** The bridge (a, b) when it is built, else null. The caller closes `db`. */
export function openBuiltBridge(
  indexDir: string,
  a: SaeRef,
  b: SaeRef,
): { db: Db; state: BridgeState } | null {
  const file = bridgeFile(indexDir, a, b);
  if (!existsSync(file)) return null;
  const db = openBridge(file, { readonly: true });
  const state = bridgeState(db);
  if (state?.stage !== 'done') {
    db.close();
    return null;
  }
  return { db, state };
}

/** As openBuiltBridge, but a bridge not built is not_found. */
export function requireBuiltBridge(
  indexDir: string,
  a: SaeRef,
  b: SaeRef,
): { db: Db; state: BridgeState } {
  const open = openBuiltBridge(indexDir, a, b);
  if (!open)
    throw new OrreryError(
      'not_found',
      `the bridge between ${a.saeId} and ${b.saeId} is not built yet: build it first`,
    );
  return open;
}
