// Search ranking on a real index file: where a label came from decides ties between features
// the words match about equally well.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../main/db/connection';
import { refreshLabels, renameFeature, searchFeatures } from '../../../main/index';
import { indexWithSae, tempDir } from './helpers';

const SAE = 'style';

describe('search ranking', () => {
  const tmp = tempDir();
  let db: Db;

  beforeAll(() => {
    db = indexWithSae(join(tmp.dir, 'rank.sqlite'), {
      saeId: SAE,
      hook: 'style',
      kind: 'glyph-cvae',
      dSae: 8,
      dIn: 4,
      architecture: 'topk',
    });
    const add = db.prepare(
      `insert into features (sae_id, idx, auto_label, auto_source, auto_description, max_act)
       values (?, ?, ?, ?, ?, ?)`,
    );
    // Named after top examples: "italic" three times in a short label.
    add.run(SAE, 0, 'Lato Italic, Inter Italic, Noto Italic', 'top-examples', null, 3);
    add.run(SAE, 1, 'Gentium Italic, Charis Italic', 'top-examples', null, 2);
    // Earned from metadata: "italic" once.
    add.run(SAE, 2, 'italic=true', 'metadata', '100% of its top examples have italic=true', 1);
    add.run(SAE, 3, 'weight_class=bold', 'metadata', '80% of its top examples are bold', 4);
    add.run(SAE, 4, 'Go Mono Bold, Inter Bold', 'top-examples', null, 5);
    refreshLabels(db, SAE);
  });
  afterAll(() => {
    db.close();
    tmp.cleanup();
  });

  it('ranks a label the metadata earned above names of top examples', () => {
    const italic = searchFeatures(db, { saeId: SAE, text: 'ital' });
    expect(italic.map((h) => h.idx)).toEqual([2, 0, 1]);
    expect(italic.every((h) => h.score !== null && h.score < 0)).toBe(true);
    expect(searchFeatures(db, { saeId: SAE, text: 'bold' })[0]?.idx).toBe(3);
  });

  it("ranks a person's own name first", () => {
    renameFeature(db, SAE, 4, 'bold slab italic');
    expect(searchFeatures(db, { saeId: SAE, text: 'italic' })[0]?.idx).toBe(4);
    expect(searchFeatures(db, { saeId: SAE, text: 'bold' })[0]?.idx).toBe(4);
    renameFeature(db, SAE, 4, null);
    expect(searchFeatures(db, { saeId: SAE, text: 'bold' })[0]?.idx).toBe(3);
  });
});
