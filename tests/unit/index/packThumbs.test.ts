// Thumbnails cut from a pack's own sheet: the same bytes the build stores, the sheet decoded
// once and dropped when idle, nothing for ids beyond the sheet or for text packs.
import { describe, expect, it } from 'vitest';
import { exampleThumb, loadPackCorpus } from '../../../main/index/corpus';
import { PackThumbs } from '../../../main/index/packThumbs';
import { readPack } from '../../../main/packs/packReader';
import { fixture } from './helpers';

async function pack(name: string) {
  const read = await readPack(fixture(name));
  if (!read.ok) throw new Error(read.problem.message);
  return read.pack;
}

describe('PackThumbs', () => {
  it('gives the thumbnails a build stores, and lets the sheet go when idle', async () => {
    for (const name of ['emoji-tiny', 'glyphs-tiny']) {
      const p = await pack(name);
      const corpus = await loadPackCorpus(p, 'all');
      const thumbs = new PackThumbs(80);
      for (const e of corpus.examples.slice(0, 5)) {
        expect(await thumbs.thumb(p, e.id)).toEqual(exampleThumb(corpus, e));
      }
      expect(thumbs.held).toBe(1);
      expect(await thumbs.thumb(p, 1_000_000)).toBeNull();
      await new Promise((r) => setTimeout(r, 200));
      expect(thumbs.held).toBe(0);
      thumbs.close();
    }
    const text = new PackThumbs();
    expect(await text.thumb(await pack('text-tiny'), 0)).toBeNull();
    text.close();
  });
});
