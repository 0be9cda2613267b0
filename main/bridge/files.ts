/**
 * Where a bridge file lives: beside the indexes, in <data>/index/bridges/, named by both sides
 * (pack id and SAE id), so the same pair always finds its bridge again.
 */
import os from 'node:os';
import path from 'node:path';

export const BRIDGES_FOLDER = 'bridges';

const clean = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_');

/** The file name of the bridge from (packA, saeA) to (packB, saeB). */
export function bridgeFileName(packA: string, saeA: string, packB: string, saeB: string): string {
  return `${clean(packA)}.${clean(saeA)}__${clean(packB)}.${clean(saeB)}.sqlite`;
}

/** The folder of bridge files under an index folder (default: the app's, ~/.orrery/index). */
export function bridgesDir(indexDir?: string): string {
  const home = process.env.ORRERY_HOME ?? path.join(os.homedir(), '.orrery');
  return path.join(indexDir ?? path.join(home, 'index'), BRIDGES_FOLDER);
}
