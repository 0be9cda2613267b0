/**
 * The built bridges of a pair of SAEs, opened read-only from their place beside the indexes
 * (files.ts), for every call that reads one: bridge.status, .matches and .best, carry across
 * (carry.ts) and the chain through the layers (chain.ts). A method asked is read from its file
 * (or the other file, where a bridge built before effect bridges had their own file holds it);
 * none asked reads the default file when it is built, else the effect file. A missing or
 * unfinished bridge is not_found, saying to build it.
 */
import { existsSync } from 'node:fs';
import { OrreryError } from '../../preload/contract';
import type { Db } from '../db/connection';
import { bridgeFile, type SaeRef } from './files';
import { bridgeState, openBridge, type BridgeMethod, type BridgeState } from './meta';

export type { SaeRef } from './files';

export interface OpenedBridge {
  db: Db;
  state: BridgeState;
  file: string;
}

/** Files the caller must not read now (a bridge being built there). */
export type Busy = (file: string) => boolean;

/** The pair's two files: the default method's, then the effect bridge's. */
function pairFiles(indexDir: string, a: SaeRef, b: SaeRef): string[] {
  return [bridgeFile(indexDir, a, b), bridgeFile(indexDir, a, b, 'effect')];
}

/** The finished bridge in `file` (by `method`, when given), else null. The caller closes `db`. */
function openDone(file: string, method?: BridgeMethod): OpenedBridge | null {
  if (!existsSync(file)) return null;
  const db = openBridge(file, { readonly: true });
  const state = bridgeState(db);
  if (state?.stage === 'done' && (!method || state.method === method)) return { db, state, file };
  db.close();
  return null;
}

/** The bridge (a, b) by `method` (see the header) when it is built, else null. The caller closes `db`. */
export function openBuiltBridge(
  indexDir: string,
  a: SaeRef,
  b: SaeRef,
  method?: BridgeMethod,
  busy?: Busy,
): OpenedBridge | null {
  const files = pairFiles(indexDir, a, b);
  if (method === 'effect') files.reverse();
  for (const file of files) {
    if (busy?.(file)) continue;
    const open = openDone(file, method);
    if (open) return open;
  }
  return null;
}

/** The methods of the pair's built bridges, in the order of pairFiles. */
export function builtMethods(indexDir: string, a: SaeRef, b: SaeRef, busy?: Busy): BridgeMethod[] {
  const out: BridgeMethod[] = [];
  for (const file of pairFiles(indexDir, a, b)) {
    const open = busy?.(file) ? null : openDone(file);
    if (!open) continue;
    open.db.close();
    if (!out.includes(open.state.method)) out.push(open.state.method);
  }
  return out;
}

/** As openBuiltBridge, but a bridge not built is not_found. */
export function requireBuiltBridge(
  indexDir: string,
  a: SaeRef,
  b: SaeRef,
  method?: BridgeMethod,
  busy?: Busy,
): OpenedBridge {
  const open = openBuiltBridge(indexDir, a, b, method, busy);
  if (!open)
    throw new OrreryError(
      'not_found',
      `the ${method ? `${method} ` : ''}bridge between ${a.saeId} and ${b.saeId} is not built yet: build it first`,
    );
  return open;
}
