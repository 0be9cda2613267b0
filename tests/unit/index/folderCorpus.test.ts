// A person's own corpus: a folder of text files (paragraphs, subfolders as metadata) for a
// text pack, a folder of PNG/JPEG images for an image pack.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIndex, getExampleThumb, getFeature, openIndex } from '../../../main/index';
import { loadFolderCorpus } from '../../../main/index/folderCorpus';
import { readPack } from '../../../main/packs/packReader';
import { fixture, tempDir } from './helpers';

describe('index over a folder corpus', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('text: paragraphs of .txt files, with the subfolder as metadata', async () => {
    const dir = join(tmp.dir, 'texts');
    mkdirSync(join(dir, 'kings'), { recursive: true });
    mkdirSync(join(dir, 'kitchen'), { recursive: true });
    const kings = [
      'And the king said unto his servants, go up to the city.',
      'The kings of the earth set themselves.',
    ];
    const kitchen = [
      'Stir the butter and sugar until pale, then add the eggs.',
      'Bake in a hot oven for twenty minutes.',
    ];
    for (let i = 0; i < 6; i++) {
      writeFileSync(
        join(dir, 'kings', `k${i}.txt`),
        `${kings[i % 2]} ${i}\n\n${kings[(i + 1) % 2]}\n\nshort\n`,
      );
      writeFileSync(
        join(dir, 'kitchen', `c${i}.md`),
        `${kitchen[i % 2]} ${i}\n\n${kitchen[(i + 1) % 2]}\n`,
      );
    }
    writeFileSync(join(dir, 'ignored.json'), '{"text": "not a text file at all, really"}');
    const read = await readPack(fixture('text-tiny'));
    if (!read.ok) throw new Error(read.problem.message);
    const corpus = await loadFolderCorpus(read.pack, dir);
    expect(corpus.examples).toHaveLength(24);
    expect(corpus.examples[0]?.meta).toEqual({ file: 'kings/k0.txt', folder: 'kings' });

    const db = openIndex(join(tmp.dir, 'texts.sqlite'));
    const [s] = await buildIndex(db, fixture('text-tiny'), { corpusDir: dir });
    expect(s?.examples).toBe(24);
    const assoc = db
      .prepare(
        "select count(*) as n from associations where key = 'folder' and value in ('kings', 'kitchen')",
      )
      .get() as { n: number };
    expect(assoc.n).toBeGreaterThan(0);
    db.close();
  }, 60_000);

  it('images: PNG and JPEG files resized to the model size, thumbnails from them; unreadable ones skipped', async () => {
    const dir = join(tmp.dir, 'images');
    mkdirSync(join(dir, 'red'), { recursive: true });
    mkdirSync(join(dir, 'blue'), { recursive: true });
    for (let i = 0; i < 4; i++) {
      const png = new PNG({ width: 100, height: 80 });
      for (let p = 0; p < 100 * 80; p++) png.data.set([200 + i * 10, 20, 20, 255], p * 4);
      writeFileSync(join(dir, 'red', `r${i}.png`), PNG.sync.write(png));
      const data = Buffer.alloc(50 * 50 * 4);
      for (let p = 0; p < 50 * 50; p++) data.set([20, 20, 200 + i * 10, 255], p * 4);
      writeFileSync(
        join(dir, 'blue', `b${i}.jpg`),
        jpeg.encode({ data, width: 50, height: 50 }, 90).data,
      );
    }
    // One file that is not an image: reported and left out, the rest still indexed.
    writeFileSync(join(dir, 'blue', 'b9.png'), 'not a picture');
    const db = openIndex(join(tmp.dir, 'images.sqlite'));
    const summaries = await buildIndex(db, fixture('emoji-tiny'), { corpusDir: dir });
    expect(summaries.map((s) => s.examples)).toEqual([8, 8]);
    expect(summaries[0]?.skipped).toEqual([
      expect.stringMatching(/^blue\/b9\.png: is not a readable image/),
    ]);
    // The last example's thumbnail is the last red picture, not the skipped file's blank tile.
    const last = PNG.sync.read(getExampleThumb(db, 7) as Buffer);
    expect(last.data[0]).toBeGreaterThan(150);
    const thumb = PNG.sync.read(getExampleThumb(db, 0) as Buffer);
    expect([thumb.width, thumb.height]).toEqual([64, 64]);
    // blue/b0.jpg sorts first: a blue thumbnail.
    expect(thumb.data[2]).toBeGreaterThan(150);
    expect(thumb.data[0]).toBeLessThan(60);
    const top = getFeature(db, 'latent-32', 0);
    expect(top).not.toBeNull();
    db.close();
  }, 60_000);

  it('images: a picture over the pixel cap is skipped from its header, without decoding it', async () => {
    const dir = join(tmp.dir, 'huge');
    mkdirSync(dir, { recursive: true });
    const small = new PNG({ width: 20, height: 20 });
    small.data.fill(128);
    writeFileSync(join(dir, 'a-small.png'), PNG.sync.write(small));
    writeFileSync(join(dir, 'b-huge.png'), grayPng(8000, 8000));
    const read = await readPack(fixture('emoji-tiny'));
    if (!read.ok) throw new Error(read.problem.message);
    const rss0 = process.memoryUsage().rss;
    const corpus = await loadFolderCorpus(read.pack, dir);
    expect(corpus.examples.map((e) => e.name)).toEqual(['a-small.png']);
    expect(corpus.skipped).toEqual([
      expect.stringMatching(
        /^b-huge\.png: is 8000 × 8000 pixels; the limit \(imagePixels\) is 40 megapixels/,
      ),
    ]);
    // 64 M pixels would be 256 MB of RGBA; refused from the header, nothing near that is held.
    expect(process.memoryUsage().rss - rss0).toBeLessThan(128 * 1024 * 1024);
  });
});

/** A real, valid 8-bit grayscale PNG of w × h black pixels (deflated rows: small on disk). */
function grayPng(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8 bits, grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc((w + 1) * h), { level: 1 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
