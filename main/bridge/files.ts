/**
 * Where a bridge file lives: beside the indexes, in <data>/index/bridges/, named by both sides
 * (pack id and SAE id) and its method, so the same pair always finds its bridges again. A pair
 * has at most two: the effect bridge in `<A>__<B>.effect.sqlite`, and the default one (decoder
 * cosine on one stream, else correlation) in `<A>__<B>.sqlite`, the name every bridge had
 * before effect bridges got their own, so bridges built then are found.
 */
import os from 'node:os';
import path from 'node:path';
import type { BridgeMethod } from './meta';

export const BRIDGES_FOLDER = 'bridges';

export interface SaeRef {
  packId: string;
  saeId: string;
}

const clean = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_');

/** The file name of the bridge from `a` to `b` by `method` (none: the default method's). */
export function bridgeFileName(a: SaeRef, b: SaeRef, method?: BridgeMethod): string {
  const kind = method === 'effect' ? '.effect' : '';
  return `${clean(a.packId)}.${clean(a.saeId)}__${clean(b.packId)}.${clean(b.saeId)}${kind}.sqlite`;
}

/** The folder of bridge files under an index folder (default: the app's, ~/.orrery/index). */
export function bridgesDir(indexDir?: string): string {
  const home = process.env.ORRERY_HOME ?? path.join(os.homedir(), '.orrery');
  return path.join(indexDir ?? path.join(home, 'index'), BRIDGES_FOLDER);
}

/** The bridge file of (a, b) by `method` under `indexDir` (default: the app's). */
export function bridgeFile(
  indexDir: string | undefined,
  a: SaeRef,
  b: SaeRef,
  method?: BridgeMethod,
): string {
  return path.join(bridgesDir(indexDir), bridgeFileName(a, b, method));
}
