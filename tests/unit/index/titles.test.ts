/**
 * Plain titles, descriptors in words, related-word search and the calibrated dial: on real
 * pixels and real fixture packs' metadata.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  colourName,
  glyphWords,
  imageWords,
  measureGlyphs,
  measureImage,
  summarize,
  type Rgba,
} from '../../../main/index/build/descriptors';
import { crossing } from '../../../main/index/build/effects';
import {
  badgeRelation,
  clusterBadge,
  conceptsWithParents,
  focusWord,
  isPlainPhrase,
  metaParents,
  nameableConcepts,
  plainTitle,
} from '../../../main/index/build/titles';
import { metaPhrase } from '../../../main/index/build/vocab';

const fixtures = path.join(__dirname, '../../fixtures/packs');
const lines = (p: string) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { name?: string; meta: Record<string, string> });

function solid(w: number, h: number, rgb: [number, number, number]): Rgba {
  const data = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([...rgb, 255], i * 4);
  return { data, width: w, height: h };
}

/** A line of "letters" like H's uprights: two dark bars per cell, `thick` px each, centred,
 * `lean` px of shear over their height. */
function bars(cells: number, S: number, thick: number, lean: number): Rgba {
  const img = solid(cells * S, S, [255, 255, 255]);
  for (let c = 0; c < cells; c++) {
    for (let y = 8; y < S - 8; y++) {
      const shift = Math.round((lean * (S - 8 - y)) / (S - 16));
      for (const centre of [18, 46]) {
        for (let x = -Math.floor(thick / 2); x < thick - Math.floor(thick / 2); x++) {
          const px = c * S + centre + shift + x;
          img.data.set([0, 0, 0, 255], (y * cells * S + px) * 4);
        }
      }
    }
  }
  return img;
}

describe('metadata in words', () => {
  it('names emoji subgroups, Bible books, fortune categories and font classes', () => {
    expect(metaPhrase('image-vae', 'subgroup', ['family']).title).toBe('Family emoji');
    expect(metaPhrase('image-vae', 'group', ['Flags']).title).toBe('Flag emoji');
    expect(metaPhrase('text-lm', 'book', ['Ezra', '1 Chronicles']).title).toBe(
      'Bible · Ezra & 1 Chronicles',
    );
    expect(metaPhrase('text-lm', 'source', ['bible']).title).toBe('Bible verses');
    expect(metaPhrase('text-lm', 'category', ['love']).title).toBe('Fortunes about love');
    expect(metaPhrase('glyph-cvae', 'weight_class', ['bold']).title).toBe('Bold faces');
    expect(metaPhrase('glyph-cvae', 'italic', ['true']).title).toBe('Italic faces');
    expect(metaPhrase('x', 'colour', ['deep_red']).title).toBe('Deep red (colour)');
  });

  it('names the expanded text corpus in words, not in its file names', () => {
    const cat = (vs: string[], source: string | null) =>
      metaPhrase('text-lm', 'category', vs, source);
    expect(metaPhrase('text-lm', 'source', ['python-docs', 'wordnet']).title).toBe(
      'Python documentation & WordNet glosses',
    );
    expect(cat(['noun.animal'], 'wordnet').title).toBe('WordNet · animal nouns');
    // WordNet's files read as WordNet's even where no source was told
    expect(cat(['verb.motion', 'adj.all'], null).noun).toBe('WordNet · motion verbs & adjectives');
    expect(cat(['coreutils'], 'gnu-manuals').title).toBe('GNU manuals · coreutils');
    expect(cat(['The Python Tutorial'], 'python-docs').noun).toBe(
      'Python docs · The Python Tutorial',
    );
    expect(cat(['networking'], 'foldoc').title).toBe('FOLDOC · networking');
    expect(cat(['bofh-excuses'], 'fortunes-extra').title).toBe('BOFH excuses');
    expect(cat(['noun'], 'devil').title).toBe('Devil’s Dictionary · nouns');
    // a fortune file stays a fortune file
    expect(cat(['computers'], 'fortunes').title).toBe('Fortunes about computers');
  });

  it('finds the hierarchy in a fixture pack: each emoji subgroup sits in its group', () => {
    const ex = lines(path.join(fixtures, 'emoji-tiny/examples.jsonl'));
    const parents = metaParents(ex, ['group', 'subgroup', 'skin_tone']);
    const sub = ex.find((e) => e.meta.subgroup)?.meta as Record<string, string>;
    expect(parents.get(`subgroup=${sub.subgroup}`)).toBe(`group=${sub.group}`);
    // no group sits inside a subgroup
    expect([...parents.keys()].some((k) => k.startsWith('group='))).toBe(false);
  });
});

describe('plain titles', () => {
  const base = { parents: new Map<string, string>(), placeKey: null, tokens: [], tops: [] };
  const assoc = (auc: number) => ({
    key: 'subgroup',
    value: 'heart',
    auc,
    precisionTop: 0.8,
    log10P: -9,
    nPositive: 40,
  });

  it('a clear metadata value names it in words; a weak one loses to the measured effect', () => {
    const effect = { adjectives: ['redder'], facts: ['redder (hue toward red)'] };
    const clear = plainTitle({ ...base, kind: 'image-vae', chosen: assoc(0.9), effect });
    expect(clear?.title).toBe('Heart emoji');
    expect(clear?.source).toBe('metadata');
    const weak = plainTitle({ ...base, kind: 'image-vae', chosen: assoc(0.55), effect });
    expect(weak?.title).toBe('Makes the picture redder');
    expect(weak?.source).toBe('visual');
    expect(weak?.description).toContain('weakly linked to heart emoji (AUC 0.55)');
  });

  it('text features are named by the words they fire in and where', () => {
    const tops = Array.from({ length: 10 }, (_, i) => ({
      name: '',
      meta: { source: i < 8 ? 'bible' : 'fortunes' },
    }));
    const t = plainTitle({
      ...base,
      kind: 'text-lm',
      chosen: null,
      effect: null,
      placeKey: 'source',
      tops,
      tokens: [
        { token: ' love', weight: 5 },
        { token: ' belov', weight: 4 },
      ],
      words: [
        { token: 'love', weight: 5 },
        { token: 'beloved', weight: 4 },
      ],
    });
    expect(t?.title).toBe('Words like ‘love’, ‘beloved’ in Bible verses');
    expect(t?.description).toContain('mostly in Bible verses (8 of its 10 strongest examples)');
    expect(isPlainPhrase(t?.title ?? null)).toBe(true);
    expect(focusWord([' the', ' bene', 'ath', ' it'], 1)).toBe('beneath');
    expect(focusWord([' with', ';', ' to'], 1)).toBe(';');
  });

  it('plain-phrase check refuses key=value and bare token lists', () => {
    expect(isPlainPhrase('subgroup=family')).toBe(false);
    expect(isPlainPhrase('“:” “love” “;”')).toBe(false);
    expect(isPlainPhrase('Family emoji')).toBe(true);
  });

  it('a badge names what most members are, or says mixed; relation follows parents', () => {
    const parents = new Map([
      ['subgroup=family', 'group=People & Body'],
      ['subgroup=person-sport', 'group=People & Body'],
    ]);
    const phrase = (c: string) => {
      const [k, v] = c.split('=') as [string, string];
      return metaPhrase('image-vae', k, [v]);
    };
    const badge = clusterBadge(
      [
        { concepts: ['subgroup=family'] },
        { concepts: ['subgroup=person-sport'] },
        { concepts: ['subgroup=family'] },
      ],
      0,
      phrase,
      parents,
    );
    expect(badge.label).toBe('People and body emoji · 3 of 3 live features');
    expect(badgeRelation(['subgroup=person-sport'], badge.concept, parents)).toBe('names');
    expect(badgeRelation(['subgroup=heart'], badge.concept, parents)).toBe('other');
    expect(badgeRelation(['subgroup=heart'], null, parents)).toBe('mixed');
    expect(conceptsWithParents(['subgroup=family', 'effect:bluer'], parents)).toEqual([
      'subgroup=family',
      'group=People & Body',
      'effect:bluer',
    ]);
  });

  it('a title names its cluster badge’s concept when its own measured effect holds it', () => {
    const effect = {
      adjectives: ['upright', 'wider', 'heavier', 'narrower'],
      facts: ['more upright', 'wider', 'heavier strokes', 'narrower'],
    };
    const input = { ...base, kind: 'glyph-cvae' as const, chosen: null, effect };
    const own = plainTitle(input);
    if (!own) throw new Error('no title');
    expect(own.title).toBe('Makes letters upright and wider');
    expect(own.concepts).toEqual(['effect:upright', 'effect:wider']);
    // a member whose third measured adjective is the badge's: counted, and then named
    expect(nameableConcepts(input, own)).toContain('effect:heavier');
    expect(nameableConcepts(input, own)).not.toContain('effect:narrower');
    const members = [
      { concepts: ['effect:heavier', 'effect:wider'] },
      { concepts: ['effect:heavier'] },
      { concepts: nameableConcepts(input, own) },
      { concepts: ['effect:slanted', 'effect:lighter'] },
      { concepts: [] }, // never fired: not counted
    ];
    const badge = clusterBadge(members, 1, (c) => ({ title: c, noun: c }), new Map());
    expect(badge.concept).toBe('effect:heavier');
    expect(badge.label).toBe('effect:heavier · 3 of 4 live features');
    const named = plainTitle(input, badge.concept);
    expect(named?.title).toBe('Makes letters upright, wider and heavier');
    expect(badgeRelation(named?.concepts ?? [], badge.concept, new Map())).toBe('names');
    // evidence that does not hold it is not bent: the slanted member stays as measured
    const slanted = plainTitle(
      { ...input, effect: { adjectives: ['slanted', 'lighter'], facts: ['a', 'b'] } },
      badge.concept,
    );
    expect(slanted?.title).toBe('Makes letters slanted and lighter');
    expect(badgeRelation(slanted?.concepts ?? [], badge.concept, new Map())).toBe('other');
    // a feature titled by clear metadata names the badge's effect when it measured it
    const italic = {
      ...input,
      chosen: { ...assoc(0.93), value: 'true', key: 'italic' },
      effect: { adjectives: ['slanted', 'lighter'], facts: ['slanted (+9°)', 'lighter'] },
    };
    const plain = plainTitle(italic);
    if (!plain) throw new Error('no title');
    expect(nameableConcepts(italic, plain)).toEqual([
      'italic=true',
      'effect:slanted',
      'effect:lighter',
    ]);
    const both = plainTitle(italic, 'effect:slanted');
    expect(both?.title).toBe(`${plain.title} — makes letters slanted`);
    expect(both?.concepts).toEqual(['italic=true', 'effect:slanted']);
  });
});

describe('visual descriptors', () => {
  it('a picture turning red reads “redder”, toward red, with a red swatch', () => {
    const m = measureImage(solid(32, 32, [128, 128, 128]), solid(32, 32, [200, 60, 50]));
    expect(m.towardHue).not.toBeNull();
    const { adjectives, words } = summarize(imageWords(m));
    expect(adjectives[0]).toBe('redder');
    expect(words).toContain('red');
    expect(colourName(m.dominant)).toBe('red');
  });

  it('darker, and bluer', () => {
    const m = measureImage(solid(16, 16, [200, 200, 200]), solid(16, 16, [40, 60, 160]));
    const { adjectives } = summarize(imageWords(m));
    expect(adjectives).toContain('darker');
    expect(adjectives).toContain('bluer');
  });

  it('thicker strokes read “heavier”, sheared ones “slanted”', () => {
    const before = bars(3, 64, 4, 0);
    const heavy = summarize(glyphWords(measureGlyphs(before, bars(3, 64, 8, 0), 64)));
    expect(heavy.adjectives[0]).toBe('heavier');
    expect(heavy.words).toEqual(expect.arrayContaining(['bolder', 'heavy']));
    const g = measureGlyphs(before, bars(3, 64, 4, 12), 64);
    expect(g.slant).toBeGreaterThan(5);
    expect(summarize(glyphWords(g)).words).toContain('italic');
  });

  it('the calibrated limit stays short of where SSIM crosses the level', () => {
    const m = crossing({ multiple: 4, ssim: 0.7 }, { multiple: 8, ssim: 0.3 }, 0.5);
    expect(m).toBeGreaterThan(4);
    expect(m).toBeLessThan(4 * Math.SQRT2);
  });
});
