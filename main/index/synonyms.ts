/**
 * Search by concept: a small curated table of related words, so "crimson" finds features
 * measured as "redder", "heavy" finds "bolder" faces and "slanted" finds "italic" ones. Each
 * line is a set of words that count as one concept for search; a query word found in a set
 * also matches the set's other words. Hand-written for what the index describes (colours,
 * light, texture, stroke weight, slant, width, and the packs' metadata in words), after
 * WordNet's synsets and similar-to links for these words; it ships as code, no download.
 */

const SETS: readonly string[] = [
  // colours (and the comparatives descriptors.ts writes)
  'red redder crimson scarlet ruby cherry maroon vermilion carmine rose blood',
  'orange more-orange amber tangerine apricot rust copper',
  'yellow yellower gold golden lemon mustard blond blonde',
  'green greener emerald lime olive jade grass leaf',
  'cyan more-cyan teal turquoise aqua aquamarine',
  'blue bluer azure navy cobalt sapphire indigo cerulean sky',
  'purple more-purple violet lavender lilac mauve plum magenta',
  'pink pinker fuchsia salmon',
  'brown tan chocolate beige bronze',
  'colour color hue tint tinted coloured colored',
  // light and colourfulness
  'lighter brighter light bright pale paler luminous white whiter',
  'darker dark dimmer dim shadow shadowy black blacker gloomy',
  'saturated colourful colorful vivid vibrant intense rich',
  'greyer grayer muted desaturated washed dull faded grey gray',
  'contrast contrasty punchier crisp',
  'flatter flat low-contrast',
  'busier detailed sharper edges texture textured',
  'smoother softer blurrier blurry smooth soft',
  // letters
  'bolder bold heavier heavy thicker thick weight weighty black fat',
  'lighter thinner thin light hairline slender fine',
  'slanted slant italic oblique leaning sloped slanting cursive tilted skewed',
  'upright straighter roman vertical',
  'wider wide extended expanded broad broader',
  'narrower narrow condensed compressed slim',
  'monospaced monospace fixed-width typewriter code',
  'serif serifs roman',
  'sans sans-serif grotesque gothic',
  'rounded round rounder curvy',
  'script handwriting handwritten calligraphic cursive',
  'decorative display fancy ornamental',
  // emoji and text metadata
  'flag flags banner country nation',
  'face faces smiley smileys emotion expression',
  'heart hearts love loving affection',
  'family families parents children kids',
  'sport sports athlete game games',
  'food meal dish eat eating',
  'animal animals creature beast',
  'bible scripture verse verses testament biblical',
  'dictionary definition definitions entry entries',
  'fortune fortunes cookie quip quote',
  'jargon hacker slang',
];

const INDEX: Map<string, string[]> = (() => {
  const m = new Map<string, string[]>();
  for (const line of SETS) {
    const words = line.split(/\s+/);
    for (const w of words) {
      const prev = m.get(w) ?? [];
      m.set(w, [...new Set([...prev, ...words])]);
    }
  }
  return m;
})();

/** The query word and its related words ("crimson" → red, redder, scarlet…), the word first. */
export function relatedWords(word: string): string[] {
  const w = word.toLowerCase();
  const set = INDEX.get(w);
  if (!set) return [w];
  return [w, ...set.filter((x) => x !== w)];
}

/** Words as FTS5 tokens: a hyphenated entry ("more-orange") is its parts. */
export function ftsTokens(word: string): string[] {
  return word.split(/[^\p{L}\p{N}_]+/u).filter(Boolean);
}
