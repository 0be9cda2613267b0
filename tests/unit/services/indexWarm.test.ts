/**
 * Cold start: the index the first view will read is readied before it asks
 * (IndexService.warmFirstView): the first pack listed when nothing was opened yet, else the
 * pack whose map was read last; its shipped index unpacked into the data folder and a reader
 * thread started. Real packs (the shipped typeface pack's features.sqlite.br), real SQLite.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../main/app/config';
import { PackService } from '../../../main/packs/packService';
import { IndexService } from '../../../main/services/indexService';
import { cleanupTmp, fixturePacks, repoRoot, tmpDir } from '../../support/tmp';

const glyphs = path.join(repoRoot, 'models', 'glyphs');
const services: IndexService[] = [];

afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  cleanupTmp();
});

function service(models: string, indexDir: string): IndexService {
  const config = resolveConfig('headless', repoRoot, { home: tmpDir(), models });
  const s = new IndexService(
    new PackService({ bundled: models, library: tmpDir() }),
    indexDir,
    config.workers.index,
  );
  services.push(s);
  return s;
}

describe.skipIf(!existsSync(path.join(glyphs, 'features.sqlite.br')))('index warm-up', () => {
  it('unpacks the first listed pack’s index, then the pack whose map was read last', async () => {
    // glyphs listed first: its shipped index is unpacked and checked before any call.
    const first = tmpDir();
    cpSync(glyphs, path.join(first, 'glyphs'), { recursive: true });
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
    cpSync(glyphs, path.join(models, 'z-glyphs'), { recursive: true });
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
});
