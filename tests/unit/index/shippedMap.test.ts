/**
 * The maps shipped beside a pack's index (main/index/shippedMap.ts): written from a real index
 * (the typeface pack's, unpacked), read back as the reader threads read them; not used when
 * damaged, absent or made from another index file.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openIndex } from '../../../main/index/index';
import { readMap } from '../../../main/index/mapRead';
import { unpackIndex } from '../../../main/index/packedIndex';
import { readShippedMaps, shippedMapPath, writeShippedMaps } from '../../../main/index/shippedMap';
import { cleanupTmp, repoRoot, tmpDir } from '../../support/tmp';

const shipped = path.join(repoRoot, 'models', 'glyphs', 'features.sqlite.br');

afterEach(cleanupTmp);

describe.skipIf(!existsSync(shipped))('maps shipped beside an index', () => {
  it('reads back what the index’s own map read gives, and only for the file it was made from', async () => {
    const dir = tmpDir();
    const index = path.join(dir, 'features.sqlite.br');
    copyFileSync(shipped, index);
    const file = path.join(dir, 'copy.sqlite');
    await unpackIndex(index, file);
    const db = openIndex(file, { readonly: true });
    try {
      expect(shippedMapPath(index)).toBe(path.join(dir, 'features.map.orb'));
      expect(readShippedMaps(index)).toBeNull(); // none yet
      await writeShippedMaps(db, index);
      const maps = readShippedMaps(index);
      expect(maps?.saes.map((s) => s.saeId)).toEqual(['style-512', 'style-64']);
      for (const sae of maps?.saes ?? []) {
        expect(sae.built).toBe(true);
        expect(sae.features).toBe(Number(sae.saeId.split('-')[1]));
        expect(sae.map).toEqual(readMap(db, sae.saeId));
      }
    } finally {
      db.close();
    }

    const side = shippedMapPath(index);
    const good = readFileSync(side);
    // damaged: cut short, or not a frame at all
    writeFileSync(side, good.subarray(0, good.byteLength - 100));
    expect(readShippedMaps(index)).toBeNull();
    writeFileSync(side, 'not a frame');
    expect(readShippedMaps(index)).toBeNull();
    // the index changed since (a byte more): the maps are another file's
    writeFileSync(side, good);
    expect(readShippedMaps(index)).not.toBeNull();
    writeFileSync(index, Buffer.concat([readFileSync(index), Buffer.from([0])]));
    expect(readShippedMaps(index)).toBeNull();
  });
});
