// A typeface pack's index over a person's own font folder: faces drawn as the recipe drew
// its glyphs, metadata from the fonts themselves, unusable files skipped and reported.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIndex, getExampleThumb, listIndexedSaes, openIndex } from '../../../main/index';
import { loadFolderCorpus } from '../../../main/index/folderCorpus';
import { readPack } from '../../../main/packs/packReader';
import { fixture, tempDir } from './helpers';

const DEJAVU = '/usr/share/fonts/truetype/dejavu';
const faces = [
  'DejaVuSans.ttf',
  'DejaVuSans-Bold.ttf',
  'DejaVuSerif-Italic.ttf',
  'DejaVuSansMono.ttf',
];
const hasFonts = faces.every((f) => existsSync(join(DEJAVU, f)));

describe.skipIf(!hasFonts)('typeface index over a font folder', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('reads every usable face with its own metadata, and skips what is not a face', async () => {
    const dir = join(tmp.dir, 'fonts');
    mkdirSync(join(dir, 'sans'), { recursive: true });
    mkdirSync(join(dir, 'other'), { recursive: true });
    for (const f of faces) {
      copyFileSync(join(DEJAVU, f), join(dir, f.includes('Sans') ? 'sans' : 'other', f));
    }
    writeFileSync(join(dir, 'other', 'broken.ttf'), 'not a font at all');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const read = await readPack(fixture('glyphs-tiny'));
    if (!read.ok) throw new Error(read.problem.message);
    const corpus = await loadFolderCorpus(read.pack, dir);
    expect(corpus.examples.map((e) => e.name).sort()).toEqual([
      'DejaVu Sans',
      'DejaVu Sans Bold',
      'DejaVu Sans Mono',
      'DejaVu Serif Italic',
    ]);
    const byName = new Map(corpus.examples.map((e) => [e.name, e.meta]));
    expect(byName.get('DejaVu Sans Bold')).toMatchObject({
      weight: '700',
      weight_class: 'bold',
      italic: 'false',
      folder: 'sans',
      family: 'DejaVu Sans',
    });
    expect(byName.get('DejaVu Serif Italic')).toMatchObject({ italic: 'true', folder: 'other' });
    expect(byName.get('DejaVu Sans Mono')).toMatchObject({ monospace: 'true' });
    expect(byName.get('DejaVu Sans')).toMatchObject({
      weight_class: 'regular',
      monospace: 'false',
    });
    // One sheet row per face: ink where the glyphs are, white ground elsewhere.
    const sheet = corpus.sheet;
    if (!sheet) throw new Error('no sheet');
    expect(sheet.height).toBe(4 * sheet.tile);
    let ink = 0;
    for (let p = 0; p < sheet.rgba.length; p += 4) if ((sheet.rgba[p] ?? 255) < 128) ink++;
    expect(ink).toBeGreaterThan(1000);
    expect(ink).toBeLessThan(sheet.width * sheet.height * 0.5);

    const db = openIndex(join(tmp.dir, 'fonts.sqlite'));
    const [summary] = await buildIndex(db, fixture('glyphs-tiny'), { corpusDir: dir });
    expect(summary?.examples).toBe(4);
    expect(summary?.skipped).toEqual([expect.stringMatching(/^other\/broken\.ttf: /)]);
    expect(listIndexedSaes(db)[0]?.builtAt).toBeTruthy();
    const thumb = getExampleThumb(db, 0);
    expect(thumb).not.toBeNull();
    if (thumb) expect(PNG.sync.read(thumb).height).toBe(sheet.tile / 2);
    db.close();
  }, 60_000);

  it('says which file failed when no face in the folder is usable', async () => {
    const dir = join(tmp.dir, 'junk');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.otf'), 'nope');
    const read = await readPack(fixture('glyphs-tiny'));
    if (!read.ok) throw new Error(read.problem.message);
    await expect(loadFolderCorpus(read.pack, dir)).rejects.toThrow(/no usable .*a\.otf/);
  });
});
