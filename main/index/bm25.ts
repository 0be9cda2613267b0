/**
 * FTS5's bm25() computed in JavaScript, for rows already read: a broad search scores the
 * sample it reads this way instead of asking FTS5, whose bm25() scans every matching row of
 * each phrase once per statement to count them (its IDF) — 3 ms for a word in a twelfth of
 * 1M labels, more than the rest of the search. The formula is fts5_aux.c's fts5Bm25Function:
 * for each phrase, IDF × f(k1 + 1) / (f + k1(1 − b + b·D/avgdl)), f the phrase's occurrences
 * in the row weighted by column, D the row's tokens, avgdl and the row count from FTS5's
 * averages record; negated (lower is better). Tokens are found as feature_fts's tokenizer
 * (unicode61, remove_diacritics 2) finds them, so the counts are FTS5's.
 */
import type { Db } from '../db/connection';
import { cached } from './statements';

/** Column weights, in feature_fts's column order: label, notes, description, top_tokens, words. */
export const BM25_WEIGHTS = [10, 5, 2, 4, 1] as const;

/** FTS5's bm25() with the same weights, for the searches FTS5 ranks itself. */
export const BM25_SQL = `bm25(feature_fts, ${BM25_WEIGHTS.map((w) => w.toFixed(1)).join(', ')})`;

const K1 = 1.2;
const B = 0.75;

/** One quoted string of an FTS5 expression: its text as written, its tokens, whether the last
 * token is a prefix ("red"*). */
export interface Phrase {
  text: string;
  tokens: string[];
  prefix: boolean;
}

export function phrase(text: string, prefix: boolean): Phrase {
  return { text, tokens: ftsTokenize(text), prefix };
}

/** The phrase as FTS5 expression syntax. */
export const phraseSql = (p: Phrase): string => `"${p.text}"${p.prefix ? '*' : ''}`;

const ASCII = /^[ -~\t\n\r]*$/;
const TOKEN_CHAR = /[\p{L}\p{N}\p{Co}]/u;
const LATIN_MARKED = /^[a-z][\u0300-\u036f]+$/;

/** unicode61's diacritics that continue a token (fts5_unicode2.c, sqlite3Fts5UnicodeIsdiacritic):
 * some of U+0300…U+0331, by bit. */
const isDiacritic = (c: number): boolean =>
  c >= 768 &&
  c <= 817 &&
  (c < 800 ? (0x08029fdf >>> (c - 768)) & 1 : (0x000361f8 >>> (c - 800)) & 1) === 1;

/** One character folded as unicode61 does: lower case, and a Latin letter's diacritics gone
 * (remove_diacritics 2: "é" → e, "ǖ" → u; Greek "ί", "ø", "ł" stay). */
function fold(ch: string): string {
  const lower = ch.toLowerCase();
  const parts = lower.normalize('NFD');
  return LATIN_MARKED.test(parts) ? (parts[0] as string) : lower;
}

/**
 * The tokens FTS5's unicode61 tokenizer (remove_diacritics 2, default categories) makes of a
 * text: runs of letters, digits and private-use characters (an underscore, apostrophe or
 * hyphen separates), lower case, Latin diacritics removed.
 */
export function ftsTokenize(text: string): string[] {
  if (ASCII.test(text)) return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  const out: string[] = [];
  let cur = '';
  let open = false;
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (TOKEN_CHAR.test(ch)) {
      cur += fold(ch);
      open = true;
    } else if (open && isDiacritic(code)) {
      // a combining mark inside a token: removed, the token goes on
    } else if (open) {
      out.push(cur);
      cur = '';
      open = false;
    }
  }
  if (open) out.push(cur);
  return out.filter((t) => t.length > 0);
}

/** SQLite varints (big-endian, 7 bits a byte, the 9th byte whole), as FTS5 writes its averages
 * record and docsize rows. */
export function varints(b: Uint8Array): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < b.length) {
    let v = 0;
    for (let n = 0; ; n++) {
      const byte = b[i++] as number;
      if (n === 8) {
        v = v * 256 + byte;
        break;
      }
      v = v * 128 + (byte & 0x7f);
      if ((byte & 0x80) === 0 || i >= b.length) break;
    }
    out.push(v);
  }
  return out;
}

export interface FtsTotals {
  /** rows in feature_fts */
  rows: number;
  /** tokens a row holds on average, every column together */
  avgdl: number;
}

/** The row count and mean row length bm25() uses: FTS5's averages record (feature_fts_data row
 * 1: a varint row count, then each column's total tokens). */
export function ftsTotals(db: Db): FtsTotals {
  const r = cached(db, 'select block from feature_fts_data where id = 1').get({}) as
    { block: Buffer } | undefined;
  const [rows = 0, ...cols] = r ? varints(r.block) : [];
  const tokens = cols.reduce((a, c) => a + c, 0);
  return { rows, avgdl: rows > 0 ? tokens / rows : 0 };
}

/** bm25's IDF of a phrase found in `hits` of `rows` rows (FTS5 floors it at 1e-6). */
export function idf(rows: number, hits: number): number {
  const v = Math.log((rows - hits + 0.5) / (hits + 0.5));
  return v <= 0 ? 1e-6 : v;
}

/** How often a phrase occurs in a column's tokens (consecutive tokens; the last may be a prefix). */
function occurrences(tokens: readonly string[], p: Phrase): number {
  const n = p.tokens.length;
  if (n === 0) return 0;
  let count = 0;
  for (let i = 0; i + n <= tokens.length; i++) {
    let j = 0;
    for (; j < n; j++) {
      const t = tokens[i + j] as string;
      const want = p.tokens[j] as string;
      if (!(t === want || (p.prefix && j === n - 1 && t.startsWith(want)))) break;
    }
    if (j === n) count++;
  }
  return count;
}

/** A matched row's text: its columns in feature_fts's order and its docsize record. */
export interface FtsRow {
  cols: readonly (string | null)[];
  /** feature_fts_docsize.sz: each column's token count as varints */
  sz: Uint8Array;
}

/**
 * Each phrase's occurrences in the row, weighted by column (BM25_WEIGHTS): bm25's f. A column
 * is tokenised only when its text could hold a phrase's first token.
 */
export function frequencies(row: FtsRow, phrases: readonly Phrase[]): number[] {
  const tokens: (string[] | undefined)[] = [];
  return phrases.map((p) => {
    const first = p.tokens[0];
    if (first === undefined) return 0;
    let f = 0;
    row.cols.forEach((text, c) => {
      if (!text) return;
      if (ASCII.test(text) && !text.toLowerCase().includes(first)) return;
      const ts = (tokens[c] ??= ftsTokenize(text));
      f += (BM25_WEIGHTS[c] ?? 1) * occurrences(ts, p);
    });
    return f;
  });
}

/** bm25() of one row, from its phrases' frequencies and IDFs, as FTS5 computes it. */
export function bm25(
  row: FtsRow,
  freqs: readonly number[],
  idfs: readonly number[],
  avgdl: number,
): number {
  const d = varints(row.sz).reduce((a, c) => a + c, 0);
  let score = 0;
  freqs.forEach((f, k) => {
    score += (idfs[k] as number) * ((f * (K1 + 1)) / (f + K1 * (1 - B + (B * d) / avgdl)));
  });
  return -1 * score;
}
