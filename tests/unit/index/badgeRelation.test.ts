// A card's cluster badge on a real index: shown as the cluster's name when the card's title
// names its concept (or one inside it), as "not this one" when the feature's own evidence does
// not hold it, and as claiming nothing when the cluster is mixed.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../main/db/connection';
import { refreshLabels } from '../../../main/index';
import { readCard } from '../../../main/index/card';
import { indexWithSae, tempDir } from './helpers';

const SAE = 'style';

describe('card badge relation', () => {
  const tmp = tempDir();
  let db: Db;

  beforeAll(() => {
    db = indexWithSae(join(tmp.dir, 'badges.sqlite'), {
      saeId: SAE,
      hook: 'style',
      kind: 'glyph-cvae',
      dSae: 4,
      dIn: 4,
      architecture: 'topk',
    });
    const cluster = db.prepare(
      `insert into clusters (sae_id, id, label, size, cx, cy, cz, concept)
       values (?, ?, ?, 2, 0, 0, 0, ?)`,
    );
    cluster.run(SAE, 0, 'Makes letters heavier · 1 of 2 live features', 'effect:heavier');
    cluster.run(SAE, 1, 'Mixed: makes letters wider … · 1 features', null);
    const add = db.prepare(
      `insert into features (sae_id, idx, auto_label, auto_source, concept, cluster, n_active,
         max_act) values (?, ?, ?, 'visual', ?, ?, 5, 1)`,
    );
    // the titles stage stores what a title names with the broader concepts, one a line
    add.run(SAE, 0, 'Makes letters upright and heavier', 'effect:upright\neffect:heavier', 0);
    add.run(SAE, 1, 'Makes letters slanted and lighter', 'effect:slanted\neffect:lighter', 0);
    add.run(SAE, 2, 'Makes letters wider', 'effect:wider', 1);
    refreshLabels(db, SAE);
  });
  afterAll(() => {
    db.close();
    tmp.cleanup();
  });

  it('names, other, mixed', () => {
    const rel = (idx: number) => readCard(db, SAE, idx)?.card.cluster?.relation;
    expect(rel(0)).toBe('names');
    expect(rel(1)).toBe('other');
    expect(rel(2)).toBe('mixed');
    expect(readCard(db, SAE, 1)?.card.cluster?.label).toBe(
      'Makes letters heavier · 1 of 2 live features',
    );
  });
});
