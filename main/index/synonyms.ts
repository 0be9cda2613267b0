/**
 * Search by concept: a query word also matches the words WordNet relates to it (wordnet.ts:
 * synonyms, similar words, attributes, broader words and base forms), so "crimson" finds
 * features measured as red, "thick" finds heavier letters and "sloping" slanted ones; each
 * result says which relation made it match. Without WordNet's files a word matches itself.
 */
import { wordNet, type RelatedWord } from './wordnet';

/** The query word's related words, nearest first (not the word itself). */
export function related(word: string): RelatedWord[] {
  return wordNet()?.related(word) ?? [];
}

/** The query word and its related words ("crimson" → red, scarlet…), the word first. */
export function relatedWords(word: string): string[] {
  const w = word.toLowerCase();
  return [w, ...related(w).map((r) => r.word)];
}

/** How a related word came in, in words: "WordNet lists ‘red’ as a synonym of ‘crimson’". */
export function relationWords(r: RelatedWord): string {
  const a = `‘${r.word}’`;
  const b = `‘${r.from}’`;
  switch (r.relation) {
    case 'form':
      return `${b} is a form of ${a}`;
    case 'synonym':
      return `WordNet lists ${a} as a synonym of ${b}`;
    case 'similar':
      return `WordNet lists ${a} as similar to ${b}`;
    case 'attribute':
      return `WordNet: ${b} is a degree of ${a}`;
    case 'broader':
      return `WordNet: ${b} is a kind of ${a}`;
  }
}
