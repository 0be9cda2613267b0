/**
 * A reader keeps its last map reads while the index file is unchanged (PRAGMA data_version of
 * its own connection) and reads again once another connection has committed. Real SQLite files
 * (the app's migrations), a real reader thread.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMapArrays } from '../../../preload/contract';
import { resolveConfig } from '../../../main/app/config';
import { openIndex } from '../../../main/index';
import { KeptReads } from '../../../main/index/keptReads';
import type { MapRead } from '../../../main/index/mapRead';
import { ReaderPool } from '../../../main/services/index/readers';
import { MAP_SAE_ID, writeMapIndex } from '../../support/mapIndex';
import { cleanupTmp, repoRoot, tmpDir } from '../../support/tmp';

afterEach(() => cleanupTmp());

describe('KeptReads', () => {
  it('reads once while the file is unchanged, again after another connection commits', () => {
    const file = writeMapIndex(tmpDir(), 100);
    const reader = openIndex(file, { readonly: true });
    const writer = openIndex(file);
    try {
      const kept = new KeptReads<number>(2);
      let reads = 0;
      const read = (): number => ++reads;
      expect(kept.get(reader, 'a', read)).toBe(1);
      expect(kept.get(reader, 'a', read)).toBe(1);
      expect(reads).toBe(1);
      writer.prepare("update saes set hook = 'other' where sae_id = ?").run(MAP_SAE_ID);
      expect(kept.get(reader, 'a', read)).toBe(2);
      expect(kept.get(reader, 'a', read)).toBe(2);
      // at most `limit` kept, the least recently used dropped first
      kept.get(reader, 'b', read);
      kept.get(reader, 'a', read);
      kept.get(reader, 'c', read);
      expect(kept.size).toBe(2);
      expect(kept.get(reader, 'a', read)).toBe(2);
      expect(kept.get(reader, 'b', read)).toBe(5);
      kept.forget(reader);
      expect(kept.size).toBe(0);
    } finally {
      reader.close();
      writer.close();
    }
  });
});

describe('reader map reads', () => {
  it('serves the same map again, and the new one once the index changed', async () => {
    const home = tmpDir();
    const file = writeMapIndex(home, 5000);
    const config = resolveConfig('headless', repoRoot, { home, models: tmpDir() });
    const pool = new ReaderPool(config.workers.reader, 1);
    const mapOf = async (): Promise<Float32Array> => {
      const r = await pool.run<MapRead>({ type: 'map', file, saeId: MAP_SAE_ID });
      return decodeMapArrays(r.map).positions;
    };
    try {
      const first = await mapOf();
      expect(Array.from(await mapOf())).toEqual(Array.from(first));
      // A rebuild moves every point: the next read must show it, not the kept map.
      const writer = openIndex(path.resolve(file));
      try {
        const moved = new Float32Array(5000 * 3).map((_, i) => (i % 3) * 7 + (i % 11));
        writer
          .prepare('update map_blobs set xyz = ? where sae_id = ?')
          .run(Buffer.from(moved.buffer), MAP_SAE_ID);
      } finally {
        writer.close();
      }
      const after = await mapOf();
      expect(after[3]).not.toBeCloseTo(first[3] as number, 3);
      expect(after[4]).toBeCloseTo(11, 2); // (4 % 3) · 7 + 4 % 11
    } finally {
      await pool.close();
    }
  });
});
