/**
 * Metadata in words: a small vocabulary per pack kind that turns an example's metadata key and
 * value into what a person would call it ("subgroup=family" → "Family emoji", "book=Ezra" →
 * "Bible · Ezra", "weight_class=bold" → "Bold faces"). A key or value the vocabulary does not
 * know still reads as words ("Science (category)"), never as key=value.
 *
 * Each phrase names a concept; `parentOf` says which broader concept contains it (a subgroup
 * its group, a book its testament's source), so a cluster badge can name the broader one
 * without contradicting a member's title.
 */

export type PackKind = 'text-lm' | 'image-vae' | 'glyph-cvae' | string;

export interface MetaPhrase {
  /** Title case phrase: "Family emoji". */
  title: string;
  /** The same, to be put after "mostly …": "family emoji". */
  noun: string;
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const low = (s: string): string =>
  // keep proper nouns and acronyms ("Bible", "Old Testament") as they are
  /^[A-Z][a-z]/.test(s) &&
  !/^(Bible|Jargon|Old|New|Star|Zippy|Debian|Linux|Perl|Tao|WordNet|Python|Devil)\b/.test(s)
    ? s.charAt(0).toLowerCase() + s.slice(1)
    : s;
const phrase = (title: string): MetaPhrase => ({ title: cap(title), noun: low(title) });

// --------------------------------------------------------------------------- emoji

const EMOJI_GROUPS: Record<string, string> = {
  'Smileys & Emotion': 'smiley and emotion emoji',
  'People & Body': 'people and body emoji',
  Component: 'skin-tone and hair swatches',
  'Animals & Nature': 'animal and nature emoji',
  'Food & Drink': 'food and drink emoji',
  'Travel & Places': 'travel and place emoji',
  Activities: 'activity emoji',
  Objects: 'object emoji',
  Symbols: 'symbol emoji',
  Flags: 'flag emoji',
};

/** Unicode emoji subgroups (emoji-test.txt) in words. */
const EMOJI_SUBGROUPS: Record<string, string> = {
  alphanum: 'letter and number emoji',
  'animal-amphibian': 'frogs',
  'animal-bird': 'birds',
  'animal-bug': 'bugs',
  'animal-mammal': 'mammals',
  'animal-marine': 'sea creatures',
  'animal-reptile': 'reptiles',
  arrow: 'arrows',
  'arts & crafts': 'arts and crafts',
  'av-symbol': 'audio and video symbols',
  'award-medal': 'medals and trophies',
  'body-parts': 'body parts',
  'book-paper': 'books and paper',
  'cat-face': 'cat faces',
  clothing: 'clothing',
  computer: 'computers',
  'country-flag': 'country flags',
  currency: 'money symbols',
  dishware: 'dishes and cutlery',
  drink: 'drinks',
  emotion: 'emotion symbols',
  event: 'celebrations',
  'face-affection': 'loving faces',
  'face-concerned': 'worried faces',
  'face-costume': 'costume faces',
  'face-glasses': 'faces with glasses',
  'face-hand': 'faces with hands',
  'face-hat': 'faces with hats',
  'face-negative': 'angry faces',
  'face-neutral-skeptical': 'neutral and skeptical faces',
  'face-sleepy': 'sleepy faces',
  'face-smiling': 'smiling faces',
  'face-tongue': 'faces with tongues',
  'face-unwell': 'unwell faces',
  family: 'family emoji',
  flag: 'flags',
  'food-asian': 'Asian food',
  'food-fruit': 'fruit',
  'food-marine': 'seafood',
  'food-prepared': 'prepared food',
  'food-sweet': 'sweets',
  'food-vegetable': 'vegetables',
  game: 'games',
  gender: 'gender symbols',
  geometric: 'geometric shapes',
  'hair-style': 'hair styles',
  'hand-fingers-closed': 'fists',
  'hand-fingers-open': 'open hands',
  'hand-fingers-partial': 'hand signs',
  'hand-prop': 'hands holding things',
  'hand-single-finger': 'pointing fingers',
  hands: 'pairs of hands',
  heart: 'heart emoji',
  hotel: 'hotel emoji',
  household: 'household things',
  keycap: 'keycaps',
  'light & video': 'lights and video',
  lock: 'locks and keys',
  mail: 'mail',
  math: 'math symbols',
  medical: 'medical things',
  money: 'money',
  'monkey-face': 'monkey faces',
  music: 'music',
  'musical-instrument': 'musical instruments',
  office: 'office things',
  'other-object': 'other objects',
  'other-symbol': 'other symbols',
  person: 'people',
  'person-activity': 'people doing things',
  'person-fantasy': 'fantasy people',
  'person-gesture': 'people gesturing',
  'person-resting': 'people resting',
  'person-role': 'people at work',
  'person-sport': 'people doing sport',
  'person-symbol': 'people silhouettes',
  phone: 'phones',
  'place-building': 'buildings',
  'place-geographic': 'landscapes',
  'place-map': 'maps and globes',
  'place-other': 'other places',
  'place-religious': 'places of worship',
  'plant-flower': 'flowers',
  'plant-other': 'plants',
  punctuation: 'punctuation marks',
  religion: 'religious symbols',
  science: 'science things',
  'skin-tone': 'skin-tone swatches',
  'sky & weather': 'sky and weather',
  sound: 'sound symbols',
  sport: 'sport things',
  'subdivision-flag': 'regional flags',
  time: 'clocks and time',
  tool: 'tools',
  'transport-air': 'aircraft',
  'transport-ground': 'cars, trains and bikes',
  'transport-sign': 'transport signs',
  'transport-water': 'boats',
  warning: 'warning signs',
  writing: 'writing things',
  zodiac: 'zodiac signs',
};

const SKIN: Record<string, string> = {
  default: 'yellow (default) skin',
  light: 'light skin tone',
  'medium-light': 'medium-light skin tone',
  medium: 'medium skin tone',
  'medium-dark': 'medium-dark skin tone',
  dark: 'dark skin tone',
  mixed: 'mixed skin tones',
};

// --------------------------------------------------------------------------- text

// The text packs' sources (models/README.md: the shipped corpus and the expanded one).
const SOURCES: Record<string, string> = {
  bible: 'Bible verses',
  dictionary: 'dictionary entries',
  fortunes: 'fortune cookies',
  jargon: 'Jargon File entries',
  wordnet: 'WordNet glosses',
  devil: 'Devil’s Dictionary entries',
  foldoc: 'FOLDOC entries',
  'python-docs': 'Python documentation',
  'gnu-manuals': 'GNU manuals',
  'fortunes-extra': 'BOFH excuses & Debian hints',
};

/** Where a source's documents are, after "mostly in …". */
export const SOURCE_PLACE: Record<string, string> = {
  bible: 'Bible verses',
  dictionary: 'dictionary entries',
  fortunes: 'fortune cookies',
  jargon: 'the Jargon File',
  wordnet: 'WordNet glosses',
  devil: 'The Devil’s Dictionary',
  foldoc: 'FOLDOC',
  'python-docs': 'the Python documentation',
  'gnu-manuals': 'GNU manuals',
  'fortunes-extra': 'BOFH excuses & Debian hints',
};

/** A category of a source that is not a fortune file, in words ("GNU manuals · grep"). */
const SOURCE_CATEGORIES: Record<string, (values: readonly string[]) => string> = {
  'python-docs': (vs) => `Python docs · ${pairWords(vs)}`,
  'gnu-manuals': (vs) => `GNU manuals · ${pairWords(vs)}`,
  foldoc: (vs) => `FOLDOC · ${pairWords(vs)}`,
  'fortunes-extra': (vs) => pairWords(vs.map((v) => EXTRA_FORTUNES[v] ?? v.replace(/-/g, ' '))),
};

const EXTRA_FORTUNES: Record<string, string> = {
  'bofh-excuses': 'BOFH excuses',
  'debian-hints': 'Debian hints',
};

/** WordNet's lexicographer files (noun.animal, verb.motion, adj.all): its category values. */
const WORDNET_FILE = /^(noun|verb|adj|adv)\.[A-Za-z]+$/;
const WORDNET_POS: Record<string, string> = {
  noun: 'nouns',
  verb: 'verbs',
  adj: 'adjectives',
  adv: 'adverbs',
};
const WORDNET_TOPIC: Record<string, string> = {
  'adj.all': 'adjectives',
  'adj.pert': 'relational adjectives',
  'adj.ppl': 'participial adjectives',
  'adv.all': 'adverbs',
  'noun.Tops': 'top-level nouns',
};

/** "noun.animal" → "animal nouns". */
function wordnetWords(file: string): string {
  const [pos = '', topic = ''] = file.split('.');
  return WORDNET_TOPIC[file] ?? `${topic} ${WORDNET_POS[pos] ?? pos}`;
}

const PARTS_OF_SPEECH = new Set([
  'noun',
  'verb',
  'adjective',
  'adverb',
  'pronoun',
  'preposition',
  'participle',
  'interjection',
  'other',
]);

const FORTUNE_CATEGORIES: Record<string, string> = {
  knghtbrd: 'fortunes from the knghtbrd file',
  zippy: 'Zippy the Pinhead quotes',
  startrek: 'Star Trek quotes',
  'songs-poems': 'songs and poems',
  'men-women': 'fortunes about men and women',
  'ascii-art': 'ASCII art',
  linuxcookie: 'Linux fortunes',
  tao: 'Tao quotes',
  goedel: 'Gödel quotes',
  paradoxum: 'paradoxes',
  cookie: 'fortune cookies (the classic file)',
  fortunes: 'fortunes (the general file)',
  miscellaneous: 'miscellaneous fortunes',
  platitudes: 'platitudes',
  definitions: 'joke definitions',
  disclaimer: 'disclaimers',
  riddles: 'riddles',
  humorists: 'humorists’ quotes',
  'old testament': 'Bible · Old Testament',
  'new testament': 'Bible · New Testament',
};

const plural = (pos: string): string =>
  pos === 'other' ? 'other words' : pos === 'adverb' ? 'adverbs' : `${pos}s`;

// --------------------------------------------------------------------------- typefaces

const WEIGHTS: Record<string, string> = {
  thin: 'thin faces',
  extralight: 'extra-light faces',
  light: 'light faces',
  regular: 'regular-weight faces',
  medium: 'medium-weight faces',
  semibold: 'semibold faces',
  bold: 'bold faces',
  extrabold: 'extra-bold faces',
  black: 'black (heaviest) faces',
};

const WIDTHS: Record<string, string> = {
  '1': 'ultra-condensed faces',
  '2': 'extra-condensed faces',
  '3': 'condensed faces',
  '4': 'semi-condensed faces',
  '5': 'normal-width faces',
  '6': 'semi-expanded faces',
  '7': 'expanded faces',
  '8': 'extra-expanded faces',
  '9': 'ultra-expanded faces',
};

const SERIF: Record<string, string> = {
  sans: 'sans-serif faces',
  serif: 'serif faces',
  rounded: 'rounded faces',
  decorative: 'decorative faces',
  script: 'script faces',
  unknown: 'faces of unclassified style',
};

const pairWords = (parts: readonly string[]): string =>
  parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} & ${parts.at(-1)}`;

/**
 * One metadata value (or a pair "a | b" of one key, `values` of length 2) in words.
 * `source`: for text packs, the source the value belongs to when the corpus says so
 * (book → bible), so the phrase can say "Bible · Ezra".
 */
export function metaPhrase(
  kind: PackKind,
  key: string,
  values: readonly string[],
  source?: string | null,
): MetaPhrase {
  const one = values.length === 1 ? (values[0] ?? '') : null;
  if (key === 'folder') return phrase(`your folder “${pairWords(values)}”`);
  if (kind === 'image-vae') {
    if (key === 'group') {
      const words = values.map((v) => EMOJI_GROUPS[v] ?? `${v.toLowerCase()} emoji`);
      return phrase(pairWords(words));
    }
    if (key === 'subgroup') {
      const words = values.map((v) => EMOJI_SUBGROUPS[v] ?? v.replace(/-/g, ' '));
      return phrase(pairWords(words));
    }
    if (key === 'skin_tone') return phrase(pairWords(values.map((v) => SKIN[v] ?? `${v} skin`)));
  }
  if (kind === 'text-lm') {
    if (key === 'source') return phrase(pairWords(values.map((v) => SOURCES[v] ?? v)));
    if (key === 'book') return phrase(`Bible · ${pairWords(values)}`);
    if (key === 'category') {
      if (values.every((v) => PARTS_OF_SPEECH.has(v))) {
        const where =
          source === 'jargon'
            ? 'Jargon File'
            : source === 'dictionary'
              ? 'dictionary'
              : source === 'devil'
                ? 'Devil’s Dictionary'
                : 'word entries';
        return phrase(`${cap(where)} · ${pairWords(values.map(plural))}`);
      }
      if (values.every((v) => WORDNET_FILE.test(v)))
        return phrase(`WordNet · ${pairWords(values.map(wordnetWords))}`);
      const ofSource = source ? SOURCE_CATEGORIES[source] : undefined;
      if (ofSource) return phrase(ofSource(values));
      const words = values.map(
        (v) => FORTUNE_CATEGORIES[v] ?? `fortunes about ${v.replace(/-/g, ' and ')}`,
      );
      return phrase(pairWords(words));
    }
  }
  if (kind === 'glyph-cvae') {
    const t = (m: Record<string, string>, v: string, f: string) => m[v] ?? f;
    if (key === 'weight_class')
      return phrase(pairWords(values.map((v) => t(WEIGHTS, v, `${v} faces`))));
    if (key === 'width') return phrase(pairWords(values.map((v) => t(WIDTHS, v, `width ${v}`))));
    if (key === 'serif') return phrase(pairWords(values.map((v) => t(SERIF, v, `${v} faces`))));
    if (key === 'italic' && one !== null)
      return phrase(one === 'true' ? 'italic faces' : 'upright (not italic) faces');
    if (key === 'monospace' && one !== null)
      return phrase(one === 'true' ? 'monospaced faces' : 'proportional faces');
  }
  // unknown key: the value in words, the key in brackets
  const v = pairWords(values.map((x) => x.replace(/[_-]+/g, ' ')));
  return phrase(`${v} (${key.replace(/[_-]+/g, ' ')})`);
}

/** True when the phrase claims nothing (an "unknown" class): not worth a title. */
export function isVagueValue(key: string, value: string): boolean {
  return value === 'unknown' || value === '' || (key === 'skin_tone' && value === 'none');
}
