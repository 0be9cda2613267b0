/**
 * Cold start: the index the first view will read is readied before it asks
 * (IndexService.warmFirstView): the first pack listed when nothing was opened yet, else the
 * pack whose map was read last; its shipped index unpacked into the data folder and checked
 * (quick_check) in a reader thread. A pack that ships its maps beside the index
 * (features.map.orb) is answered from those first and unpacked after. Real packs (the shipped
 * typeface pack's features.sqlite.br), real SQLite.
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../main/app/config';
import { PackService } from '../../../main/packs/packService';
import { ReaderPool } from '../../../main/services/index/readers';
import { IndexService } from '../../../main/services/indexService';
import { cleanupTmp, fixturePacks, repoRoot, tmpDir } from '../../support/tmp';

const glyphs = path.join(repoRoot, 'models', 'glyphs');
const services: IndexService[] = [];

afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  cleanupTmp();
});

/** The shipped typeface pack copied to `dest`, without the maps beside its index. */
function glyphsWithoutMaps(dest: string): void {
  cpSync(glyphs, dest, { recursive: true });
  rmSync(path.join(dest, 'features.map.orb'), { force: true });
}

function service(models: string, indexDir: string): IndexService {
  const config = resolveConfig('headless', repoRoot, { home: tmpDir(), models });
  const s = new IndexService(
    new PackService({ bundled: models, library: tmpDir() }),
    indexDir,
    config.workers,
  );
  services.push(s);
  return s;
}

describe.skipIf(!existsSync(path.join(glyphs, 'features.sqlite.br')))('index warm-up', () => {
  it('unpacks the first listed pack’s index, then the pack whose map was read last', async () => {
    // glyphs listed first: its shipped index is unpacked and checked before any call.
    const first = tmpDir();
    glyphsWithoutMaps(path.join(first, 'glyphs'));
    const dir1 = tmpDir();
    const a = service(first, dir1);
    await a.warmFirstView();
    expect(existsSync(path.join(dir1, 'orrery-glyphs.sqlite'))).toBe(true);
    expect(a.readers.started).toBe(1);

    // Another pack listed first (no shipped index): nothing to unpack until a map is read,
    // and the pack whose map was read is remembered.
    const models = tmpDir();
    cpSync(path.join(fixturePacks, 'text-tiny'), path.join(models, 'a-text-tiny'), {
      recursive: true,
    });
    glyphsWithoutMaps(path.join(models, 'z-glyphs'));
    const dir2 = tmpDir();
    const b = service(models, dir2);
    await b.warmFirstView();
    expect(existsSync(path.join(dir2, 'orrery-glyphs.sqlite'))).toBe(false);
    const map = await b.map({ packId: 'orrery-glyphs', saeId: 'style-512' });
    expect(map.count).toBeGreaterThan(0);
    const remembered = path.join(dir2, 'last-map.json');
    await expect
      .poll(() => existsSync(remembered) && readFileSync(remembered, 'utf8'))
      .toContain('orrery-glyphs');

    // A new start over a new data folder that remembers glyphs: unpacked before any call.
    const dir3 = tmpDir();
    writeFileSync(path.join(dir3, 'last-map.json'), readFileSync(remembered));
    const c = service(models, dir3);
    await c.warmFirstView();
    expect(existsSync(path.join(dir3, 'orrery-glyphs.sqlite'))).toBe(true);
  });

  it('answers a first start from the maps shipped beside the index, then unpacks it', async () => {
    const models = tmpDir();
    cpSync(glyphs, path.join(models, 'glyphs'), { recursive: true });
    const dir = tmpDir();
    const copy = path.join(dir, 'orrery-glyphs.sqlite');
    const s = service(models, dir);
    await s.warmFirstView();
    // not unpacked while the page starts: status and map come from features.map.orb
    expect(existsSync(copy)).toBe(false);
    const status = await s.status({ packId: 'orrery-glyphs', saeId: 'style-512' });
    expect(status).toMatchObject({ built: true, features: 512, file: copy });
    const early = await s.map({ packId: 'orrery-glyphs', saeId: 'style-512' });
    expect(early.count).toBeGreaterThan(0);
    expect(existsSync(copy)).toBe(false);
    // unpacked in the background after the map went out; then the copy answers, the same
    await expect.poll(() => existsSync(copy), { timeout: 30_000, interval: 100 }).toBe(true);
    const later = await s.map({ packId: 'orrery-glyphs', saeId: 'style-512' });
    expect(later).toEqual(early);
    expect(await s.status({ packId: 'orrery-glyphs', saeId: 'style-512' })).toEqual(status);
  });

  it('unpacks at once when a call needs the index, or when the maps are not this index’s', async () => {
    const models = tmpDir();
    cpSync(glyphs, path.join(models, 'glyphs'), { recursive: true });
    const dir = tmpDir();
    const s = service(models, dir);
    await s.warmFirstView();
    const hits = await s.search({
      packId: 'orrery-glyphs',
      saeId: 'style-512',
      query: 'bold',
      limit: 10,
    });
    expect(Array.isArray(hits.hits)).toBe(true);
    expect(existsSync(path.join(dir, 'orrery-glyphs.sqlite'))).toBe(true);

    // maps made from another index (the emoji pack's, copied over): not used, unpacked at once
    const other = tmpDir();
    cpSync(glyphs, path.join(other, 'glyphs'), { recursive: true });
    cpSync(
      path.join(repoRoot, 'models', 'emoji', 'features.map.orb'),
      path.join(other, 'glyphs', 'features.map.orb'),
    );
    const dir2 = tmpDir();
    await service(other, dir2).warmFirstView();
    expect(existsSync(path.join(dir2, 'orrery-glyphs.sqlite'))).toBe(true);
  });

  it('checks a file in a reader thread: an unpacked index passes, damaged bytes do not', async () => {
    const models = tmpDir();
    glyphsWithoutMaps(path.join(models, 'glyphs'));
    const dir = tmpDir();
    await service(models, dir).warmFirstView();
    const file = path.join(dir, 'orrery-glyphs.sqlite');
    const config = resolveConfig('headless', repoRoot, { home: tmpDir(), models });
    const pool = new ReaderPool(config.workers.reader, 1);
    try {
      expect(await pool.run<boolean>({ type: 'check', file })).toBe(true);
      const bad = path.join(tmpDir(), 'bad.sqlite');
      const bytes = readFileSync(file);
      bytes.fill(0x5a, 4096, 4096 * 8); // pages 2-8 overwritten
      writeFileSync(bad, bytes);
      expect(await pool.run<boolean>({ type: 'check', file: bad })).toBe(false);
      writeFileSync(bad, 'not a database');
      expect(await pool.run<boolean>({ type: 'check', file: bad })).toBe(false);
    } finally {
      await pool.close();
    }
  });
});
