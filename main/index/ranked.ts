/**
 * One page of a broad text search's matches, ranked by bm25 × the label's source weight,
 * scored here (bm25.ts) rather than by FTS5's bm25(), which once per statement reads every
 * match of each phrase to count them: 3 ms for a word in a twelfth of 1M labels, more than the
 * rest of the search. An expression with more than RANK_ALL_MAX matches is ranked over a
 * sample; one with fewer but a common phrase in it (a common word and a rare prefix) over all
 * its matches, which is FTS5's own ranking but for that phrase's IDF, estimated.
 */
import type { Db } from '../db/connection';
import { bm25, frequencies, ftsTotals, idf, phraseSql, type FtsRow, type Phrase } from './bm25';
import type { LabelSource } from './store';
import { cached } from './statements';

/**
 * Up to this many matches every match is ranked. A broader expression (a common word or
 * prefix) is ranked over a sample: the first this many matches in feature id order that pass
 * the filters. Feature ids follow the SAE's feature index, which means nothing in an SAE (its
 * features are exchangeable, their order an accident of training), so the first matches in id
 * order are as fair a sample as any spread over the ids, and reading them costs no scan of the
 * rest: FTS5 cannot seek a doclist by row id, so a sample spread over it (every s-th id, or
 * windows) read all of it. The page holds the best of the sample, not of every match; the
 * features a person named that match always join the sample.
 */
export const RANK_ALL_MAX = 256;

/**
 * The longest prefix feature_fts keeps an index of (prefix = '2 3 4', migrations.ts). A longer
 * prefix ("bible"*) makes FTS5 merge the doclists of every word it covers before returning a
 * row: 3–4 ms for a word in a twelfth of 1M labels even when 512 rows are asked for. When such
 * a word is itself that common, its first letters are searched instead (streamed from the
 * prefix index) and each row is checked here for the whole prefix.
 */
const INDEXED_PREFIX = 4;

export interface HitRow {
  /** the feature's row id (its FTS row id) */
  id: number;
  idx: number;
  label: string | null;
  label_source: LabelSource | null;
  density: number;
  max_act: number;
  cluster: number | null;
  score: number | null;
}

/** A match with its source weight and the FTS row's text. */
interface TextRow extends Omit<HitRow, 'score'>, Record<`c${0 | 1 | 2 | 3 | 4}`, string | null> {
  w: number;
  sz: Buffer;
}

export interface RankQuery {
  /** every group required; in a group any phrase */
  groups: Phrase[][];
  /** the filters, an SQL condition on features f */
  where: string;
  /** the filters' parameters (and @sae) */
  params: Record<string, unknown>;
  /** the features' columns a hit reads */
  cols: string;
  /** the source weight, an SQL expression on f */
  weight: string;
  limit: number;
  offset: number;
}

/** The FTS5 MATCH expression of phrase groups. */
export const groupsSql = (groups: Phrase[][]): string =>
  groups
    .map((g) => (g.length === 1 ? phraseSql(g[0] as Phrase) : `(${g.map(phraseSql).join(' OR ')})`))
    .join(' AND ');

/** How many rows an FTS5 expression matches, counted up to `cap` + 1 (reading only that much
 * of its doclists), and the row id of the last one counted. */
export interface MatchCounter {
  cap: number;
  count: (match: string) => { n: number; last: number };
}

/** A MatchCounter for one search, each expression counted once. */
export function matchCounter(db: Db, cap: number): MatchCounter {
  const counted = new Map<string, { n: number; last: number }>();
  return {
    cap,
    count: (match) => {
      let c = counted.get(match);
      if (!c) {
        c = cached(
          db,
          `select count(*) as n, ifnull(max(rowid), 0) as last
           from (select rowid from feature_fts where feature_fts match @expr limit @cap)`,
        ).get({ expr: match, cap: cap + 1 }) as { n: number; last: number };
        counted.set(match, c);
      }
      return c;
    },
  };
}

/** A long prefix whose word alone is common, as the indexed prefix it starts with. */
function streamed(c: MatchCounter, p: Phrase): Phrase | null {
  const last = p.tokens[p.tokens.length - 1];
  if (!p.prefix || last === undefined || [...last].length <= INDEXED_PREFIX) return null;
  if (c.count(phraseSql({ ...p, prefix: false })).n <= c.cap) return null;
  const head = [...last].slice(0, INDEXED_PREFIX).join('');
  const tokens = [...p.tokens.slice(0, -1), head];
  return { text: tokens.join(' '), tokens, prefix: true };
}

/**
 * Whether the search is ranked here (rankMatches) rather than by FTS5: the expression matches
 * more than the cap, or one of its phrases does (FTS5's bm25() would read all of that phrase's
 * matches to count them), or it holds a long prefix of a common word.
 */
export function rankedHere(c: MatchCounter, groups: Phrase[][]): boolean {
  // a long prefix first: counting an expression that holds one merges its doclists
  if (groups.some((g) => g.some((p) => streamed(c, p) !== null))) return true;
  if (c.count(groupsSql(groups)).n > c.cap) return true;
  return groups.some((g) => g.some((p) => isCheap(p) && c.count(phraseSql(p)).n > c.cap));
}

/** A phrase FTS5 streams from its index (not a prefix longer than the indexed ones). */
const isCheap = (p: Phrase): boolean =>
  !p.prefix || [...(p.tokens[p.tokens.length - 1] ?? '')].length <= INDEXED_PREFIX;

/** The page: matches that pass the filters, ranked, `offset` skipped, `limit` kept. */
export function rankMatches(db: Db, q: RankQuery, counter: MatchCounter): HitRow[] {
  const need = q.limit + q.offset;
  const cap = counter.cap;
  const firstMatches = counter.count;
  const searched = q.groups.map((g) => g.map((p) => streamed(counter, p) ?? p));
  const checked = searched.some((g, i) => g.some((p, j) => p !== q.groups[i]?.[j]));
  const phrases = q.groups.flat();
  const expr = groupsSql(searched);

  const text = `${q.cols}, ${q.weight} as w, c.c0, c.c1, c.c2, c.c3, c.c4, d.sz`;
  const texts = `cross join feature_fts_content c on c.id = f.id
     cross join feature_fts_docsize d on d.id = f.id`;
  const scored: { row: TextRow; freqs: number[] }[] = [];
  /** Rows whose every group occurs (all of them when nothing was searched more broadly). */
  const keep = (rows: TextRow[]): void => {
    for (const row of rows) {
      const freqs = frequencies(textOf(row), phrases);
      let k = 0;
      const all = q.groups.every((g) => {
        const any = g.some((_, j) => (freqs[k + j] ?? 0) > 0);
        k += g.length;
        return any;
      });
      if (all || !checked) scored.push({ row, freqs });
    }
  };
  const page = cached(
    db,
    `select ${text}
     from feature_fts cross join features f on f.id = feature_fts.rowid ${texts}
     where feature_fts match @expr and feature_fts.rowid > @after and ${q.where}
     order by feature_fts.rowid limit @n`,
  );
  // The first `cap` matches in id order; when a broader prefix was searched, read on past the
  // rows it adds (an eighth more first: the words it adds are rarely as common as the word).
  let after = Number.MIN_SAFE_INTEGER;
  for (
    let n = checked ? cap + (cap >> 3) : cap;
    scored.length < cap;
    n = cap - scored.length + (cap >> 3)
  ) {
    const rows = page.all({ ...q.params, expr, after, n }) as TextRow[];
    keep(rows);
    if (rows.length < n) break;
    after = (rows[rows.length - 1] as TextRow).id;
  }
  scored.length = Math.min(scored.length, cap);

  // A person's own names are never left to the sample: they are few, and they rank first.
  // They come from their partial index (features_user), and only they are looked up in the
  // FTS table by row id: joining every match to its feature to find them cost more than the
  // rest of the query (28 ms of 35 for a 3-letter prefix over 1M labels).
  const named = (
    cached(db, "select id from features where sae_id = @sae and label_source = 'user'").all({
      sae: q.params.sae,
    }) as { id: number }[]
  ).map((r) => r.id);
  if (named.length > 0) {
    const have = new Set(scored.map((s) => s.row.id));
    const own = cached(
      db,
      `select ${text}
       from json_each(@ids) j cross join features f on f.id = j.value
       cross join feature_fts on feature_fts.rowid = f.id ${texts}
       where feature_fts match @expr and f.label_source = 'user' and ${q.where}
       limit @cap`,
    ).all({ ...q.params, expr, cap, ids: JSON.stringify(named) }) as TextRow[];
    keep(own.filter((r) => !have.has(r.id)));
  }

  const { rows: total, avgdl } = ftsTotals(db);
  // the content table's id span, read once a search and only when a phrase passes the cap
  let span: { lo: number; hi: number } | null = null;
  /** The rows a phrase matches: counted up to the cap, estimated past it as if its matches
   * were spread over every row id as densely as over the ids its first matches span. A long
   * prefix searched more broadly is counted as its word alone. */
  const hits = (p: Phrase, wide: Phrase): number => {
    const { n, last } = firstMatches(phraseSql(wide === p ? p : { ...p, prefix: false }));
    if (n <= cap) return n;
    span ??= cached(
      db,
      `select (select min(id) from feature_fts_content) as lo,
              (select max(id) from feature_fts_content) as hi`,
    ).get({}) as { lo: number; hi: number };
    return Math.min(
      total,
      Math.round((n * (span.hi - span.lo + 1)) / Math.max(1, last - span.lo + 1)),
    );
  };
  const wide = searched.flat();
  const idfs = phrases.map((p, k) => idf(total, hits(p, wide[k] as Phrase)));
  const ranked: HitRow[] = scored.map(({ row, freqs }) => ({
    id: row.id,
    idx: row.idx,
    label: row.label,
    label_source: row.label_source,
    density: row.density,
    max_act: row.max_act,
    cluster: row.cluster,
    score: bm25(textOf(row), freqs, idfs, avgdl) * row.w,
  }));
  ranked.sort((a, b) => (a.score ?? 0) - (b.score ?? 0) || b.max_act - a.max_act || a.idx - b.idx);
  return ranked.slice(q.offset, need);
}

const textOf = (r: TextRow): FtsRow => ({ cols: [r.c0, r.c1, r.c2, r.c3, r.c4], sz: r.sz });
