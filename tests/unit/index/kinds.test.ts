// Index builds on the image and typeface fixtures: latent and spatial SAEs of the emoji VAE
// (thumbnails, spatial windows) and the glyph style SAE.
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildIndex,
  getExampleThumb,
  getFeature,
  listIndexedSaes,
  loadPositions,
  openIndex,
} from '../../../main/index';
import { fixture, tempDir } from './helpers';

describe('index builds on image and typeface packs', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('emoji: both SAEs, thumbnails as PNG, spatial windows on the 8×8 grid', async () => {
    const db = openIndex(join(tmp.dir, 'emoji.sqlite'));
    const summaries = await buildIndex(db, fixture('emoji-tiny'));
    expect(summaries.map((s) => s.saeId)).toEqual(['latent-32', 'spatial-32']);
    expect(summaries[0]?.positions).toBe(24);
    expect(summaries[1]?.positions).toBe(24 * 64);
    expect(listIndexedSaes(db).every((s) => s.stage === 'done')).toBe(true);

    const thumb = getExampleThumb(db, 0);
    expect(thumb).not.toBeNull();
    const png = PNG.sync.read(thumb as Buffer);
    expect([png.width, png.height]).toEqual([64, 64]);

    const alive = db
      .prepare(
        "select idx from features where sae_id = 'spatial-32' and n_active > 0 order by max_act desc",
      )
      .get() as { idx: number };
    const card = getFeature(db, 'spatial-32', alive.idx);
    const w = card?.topExamples[0]?.window as { grid: number[]; acts: number[] };
    expect(w.grid).toEqual([8, 8]);
    expect(w.acts).toHaveLength(64);
    expect(Math.max(...w.acts)).toBeCloseTo(card?.topExamples[0]?.activation ?? -1, 3);
    expect(w.acts[card?.topExamples[0]?.position ?? -1]).toBe(Math.max(...w.acts));
    expect(card?.logitLens).toBeNull();
    for (const s of ['latent-32', 'spatial-32']) expect(loadPositions(db, s)?.count).toBe(32);
    // Labels of image features name metadata or their top examples, never tokens.
    const sources = db
      .prepare('select distinct label_source as s from features where label is not null')
      .all() as {
      s: string;
    }[];
    for (const { s } of sources) expect(['metadata', 'top-examples', 'visual']).toContain(s);
    db.close();
  }, 60_000);

  it('glyphs: the style SAE over each face, face strips as thumbnails', async () => {
    const db = openIndex(join(tmp.dir, 'glyphs.sqlite'));
    const [s] = await buildIndex(db, fixture('glyphs-tiny'));
    expect(s).toMatchObject({ saeId: 'style-64', examples: 7, positions: 7, features: 64 });
    const png = PNG.sync.read(getExampleThumb(db, 0) as Buffer);
    expect([png.width, png.height]).toEqual([8 * 32, 32]);
    const alive = db.prepare('select count(*) as n from features where n_active > 0').get() as {
      n: number;
    };
    expect(alive.n).toBe(s?.alive);
    expect(alive.n).toBeGreaterThan(0);
    const top = db.prepare('select count(*) as n from top_examples').get() as { n: number };
    expect(top.n).toBeGreaterThan(0);
    expect(String(db.pragma('integrity_check', { simple: true }))).toBe('ok');
    db.close();
  }, 60_000);
});
