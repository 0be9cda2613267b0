/**
 * Reading the index: full-text search with filters, the galaxy's positions as typed arrays,
 * clusters. Read-only queries; safe to run while a build writes (WAL).
 */
import type { Db } from '../db/connection';
import type { LabelSource } from './store';
import { BM25_SQL, ftsTokenize, phrase, type Phrase } from './bm25';
import {
  groupsSql,
  matchCounter,
  RANK_ALL_MAX,
  rankedHere,
  rankMatches,
  type HitRow,
} from './ranked';
import { cached } from './statements';
import { related, relatedWords, relationWords } from './synonyms';

export interface SearchQuery {
  saeId: string;
  /** Words, each matched as a prefix (all must match); empty = filters only. */
  text?: string;
  densityMin?: number;
  densityMax?: number;
  cluster?: number;
  /** true: only labelled features; false: only unlabelled ones. */
  hasLabel?: boolean;
  labelSources?: readonly LabelSource[];
  limit?: number;
  offset?: number;
}

export interface SearchHit {
  idx: number;
  label: string | null;
  labelSource: LabelSource | null;
  density: number;
  maxAct: number;
  cluster: number | null;
  /**
   * bm25 (lower is better) weighted by where the label came from, when the query has text;
   * null otherwise. A broad search's bm25 is computed in ranked.ts, its common phrases' IDF
   * estimated: compare scores within one search only.
   */
  score: number | null;
  /** Why it matched, in words: where the word (or a related one) was found. */
  why?: string;
}

/** The query's words: the tokens the index's own tokenizer makes of it (bm25.ts), 16 at most. */
const queryWords = (text: string): string[] => ftsTokenize(text).slice(0, 16);

/**
 * The query's phrases: one group a word, every group required; in a group the word as a prefix
 * and, when `related`, its related words (synonyms.ts, from WordNet: "crimson" → red,
 * scarlet…) as they are, any of which matches.
 */
function ftsGroups(text: string, related = true): Phrase[][] {
  return queryWords(text).map((w) => [
    phrase(w, true),
    ...(related ? relatedWords(w).slice(1) : []).map((o) =>
      phrase(ftsTokenize(o).join(' '), false),
    ),
  ]);
}

/** A safe FTS5 MATCH expression of ftsGroups: each phrase quoted, the word a prefix. */
export function ftsExpression(text: string, related = true): string | null {
  const groups = ftsGroups(text, related);
  return groups.length === 0 ? null : groupsSql(groups);
}

interface MatchCols {
  label: string;
  notes: string;
  description: string;
  top_tokens: string;
  words: string;
}

const COLUMN_WORDS: [keyof MatchCols, string][] = [
  ['label', 'its title'],
  ['words', 'its measured effect'],
  ['description', 'its description'],
  ['top_tokens', 'its top tokens'],
  ['notes', 'your notes'],
];

/** "‘red’ in its measured effect (related to ‘crimson’: WordNet lists ‘red’ as a synonym of
 * ‘crimson’)". */
export function whyMatched(text: string, cols: MatchCols): string {
  return whyMatcher(text)(cols);
}

/** Whether `ts` occurs in `tokens` as consecutive tokens, the last one as a prefix if `prefix`. */
function holds(tokens: readonly string[], ts: readonly string[], prefix: boolean): boolean {
  const last = ts.length - 1;
  for (let i = 0; i + last < tokens.length; i++) {
    let k = 0;
    while (k < last && tokens[i + k] === ts[k]) k++;
    const t = tokens[i + last] as string;
    const end = ts[last] as string;
    if (k === last && (prefix ? t.startsWith(end) : t === end)) return true;
  }
  return false;
}

/**
 * whyMatched for one query, its words' related words looked up once for every row. Columns and
 * words are compared as the index's tokenizer sees them (ftsTokenize), so what is named is
 * what FTS5 matched: the query word as a prefix, a related word whole.
 */
export function whyMatcher(text: string): (cols: MatchCols) => string {
  const words = queryWords(text).map((q) => ({
    q,
    candidates: relatedWords(q)
      .map((c) => ({ c, tokens: ftsTokenize(c) }))
      .filter(({ tokens }) => tokens.length > 0),
  }));
  return (cols) => {
    const columns = new Map<keyof MatchCols, string[]>();
    const tokensOf = (col: keyof MatchCols): string[] => {
      let ts = columns.get(col);
      if (!ts) columns.set(col, (ts = ftsTokenize(cols[col] ?? '')));
      return ts;
    };
    const parts: string[] = [];
    for (const { q, candidates } of words) {
      for (const [col, where] of COLUMN_WORDS) {
        const tokens = tokensOf(col);
        const i = candidates.findIndex(({ tokens: ts }, j) => holds(tokens, ts, j === 0));
        const hit = candidates[i];
        if (!hit) continue;
        const shown =
          i === 0
            ? (tokens.find((t) => t.startsWith(hit.tokens[0] as string)) ?? hit.c)
            : hit.c.replace(/[-_]/g, ' ');
        const how = i === 0 ? undefined : related(q).find((r) => r.word === hit.c);
        parts.push(
          `‘${shown}’ in ${where}${
            i === 0 ? '' : ` (related to ‘${q}’${how ? `: ${relationWords(how)}` : ''})`
          }`,
        );
        break;
      }
    }
    return parts.join('; ');
  };
}

/**
 * How much a match counts by the label's source: a person's own name first, then labels with
 * evidence behind them (metadata, imported explanations), then names read off the top tokens or
 * examples. bm25 is negative (more negative = better), so a larger weight ranks higher. Without
 * this, a common word ("italic") ranks the many features named after their top examples
 * ("Lato Italic, Inter Italic") above the ones whose label the metadata earned ("italic=true").
 */
const SOURCE_WEIGHT = `case f.label_source
  when 'user' then 2.0 when 'metadata' then 1.5 when 'neuronpedia' then 1.5
  when 'visual' then 1.5 else 1.0 end`;

export { RANK_ALL_MAX } from './ranked';

export function searchFeatures(db: Db, q: SearchQuery): SearchHit[] {
  const where: string[] = ['f.sae_id = @sae'];
  const params: Record<string, unknown> = { sae: q.saeId };
  if (q.densityMin !== undefined) {
    where.push('f.density >= @dmin');
    params.dmin = q.densityMin;
  }
  if (q.densityMax !== undefined) {
    where.push('f.density <= @dmax');
    params.dmax = q.densityMax;
  }
  if (q.cluster !== undefined) {
    where.push('f.cluster = @cluster');
    params.cluster = q.cluster;
  }
  if (q.hasLabel === true) where.push('f.label is not null');
  if (q.hasLabel === false) where.push('f.label is null');
  if (q.labelSources && q.labelSources.length > 0) {
    const names = q.labelSources.map((s, i) => {
      params[`src${i}`] = s;
      return `@src${i}`;
    });
    where.push(`f.label_source in (${names.join(', ')})`);
  }
  params.limit = Math.max(1, Math.min(q.limit ?? 50, 1000));
  params.offset = Math.max(0, q.offset ?? 0);
  const expr = q.text ? ftsExpression(q.text) : null;
  const cols = `f.id, f.idx, f.label, f.label_source, f.density, f.max_act, f.cluster`;
  let rows: HitRow[];
  if (expr) {
    const limit = params.limit as number;
    const offset = params.offset as number;
    const counter = matchCounter(db, Math.max(RANK_ALL_MAX, limit + offset));
    /** One page of an FTS expression's matches, ranked: here when it is broad (ranked.ts), else
     * every match by FTS5's bm25, weighted. */
    const page = (groups: Phrase[][]): HitRow[] => {
      const count = limit + offset;
      if (rankedHere(counter, groups)) {
        const q = { groups, where: where.join(' and '), params, cols, weight: SOURCE_WEIGHT };
        return rankMatches(db, { ...q, limit: count, offset: 0 }, counter);
      }
      // every match ranked by FTS5 (no more than RANK_ALL_MAX, or it would be ranked here)
      return fullRanking({ ...params, expr: groupsSql(groups), limit: count, offset: 0 });
    };
    /** Every match scored, filtered and ranked. */
    const fullRanking = (p: Record<string, unknown>): HitRow[] =>
      cached(
        db,
        `select ${cols}, ${BM25_SQL} * ${SOURCE_WEIGHT} as score
         from feature_fts cross join features f on f.id = feature_fts.rowid
         where feature_fts match @expr and ${where.join(' and ')}
         order by score, f.max_act desc, f.idx limit @limit offset @offset`,
      ).all(p) as HitRow[];
    // The words themselves first; features found only through a related word come after.
    const direct = ftsGroups(q.text ?? '', false);
    const all = ftsGroups(q.text ?? '');
    rows = page(direct);
    if (groupsSql(direct) !== expr && rows.length < limit + offset) {
      const have = new Set(rows.map((r) => r.idx));
      const related = page(all).filter((r) => !have.has(r.idx));
      rows = rows.concat(related);
    }
    rows = rows.slice(offset, offset + limit);
  } else {
    rows = cached(
      db,
      `select ${cols}, null as score from features f where ${where.join(' and ')}
       order by f.max_act desc, f.idx limit @limit offset @offset`,
    ).all(params) as HitRow[];
  }
  const text = expr ? (q.text ?? '') : '';
  const why = text ? whyMatcher(text) : null;
  // The matched rows' columns in one read of FTS5's content table (id, c0… in the order
  // feature_fts declares label, notes, description, top_tokens, words).
  const matched = new Map<number, MatchCols>();
  if (why && rows.length > 0) {
    for (const c of cached(
      db,
      `select id, c0 as label, c1 as notes, c2 as description, c3 as top_tokens, c4 as words
       from feature_fts_content where id in (select value from json_each(?))`,
    ).all(JSON.stringify(rows.map((r) => r.id))) as (MatchCols & { id: number })[])
      matched.set(c.id, c);
  }
  return rows.map((r) => ({
    idx: r.idx,
    label: r.label,
    labelSource: r.label_source,
    density: r.density,
    maxAct: r.max_act,
    cluster: r.cluster,
    score: r.score,
    ...(why
      ? {
          why: why(
            matched.get(r.id) ?? {
              label: '',
              notes: '',
              description: '',
              top_tokens: '',
              words: '',
            },
          ),
        }
      : {}),
  }));
}

/** The galaxy's points: [count] feature indices, [count, 3] positions, clusters, densities. */
export interface MapPositions {
  saeId: string;
  count: number;
  idx: Uint32Array;
  xyz: Float32Array;
  cluster: Uint32Array;
  density: Float32Array;
}

function view<T>(b: Buffer, make: (buf: ArrayBuffer) => T): T {
  // A blob of a few KiB or more comes back in an ArrayBuffer of its own (better-sqlite3 copies
  // it out of SQLite's pages): use it as it is. A small one may share Node's pool: copy it into
  // a fresh, aligned ArrayBuffer. Either way the result can be transferred to another thread.
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength)
    return make(b.buffer as ArrayBuffer);
  return make(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
}

export function loadPositions(db: Db, saeId: string): MapPositions | null {
  const r = cached(
    db,
    'select count, idx, xyz, cluster, density from map_blobs where sae_id = ?',
  ).get(saeId) as
    { count: number; idx: Buffer; xyz: Buffer; cluster: Buffer; density: Buffer } | undefined;
  if (!r) return null;
  return {
    saeId,
    count: r.count,
    idx: view(r.idx, (b) => new Uint32Array(b)),
    xyz: view(r.xyz, (b) => new Float32Array(b)),
    cluster: view(r.cluster, (b) => new Uint32Array(b)),
    density: view(r.density, (b) => new Float32Array(b)),
  };
}

export interface ClusterInfo {
  id: number;
  label: string;
  size: number;
  centroid: [number, number, number];
}

export function listClusters(db: Db, saeId: string): ClusterInfo[] {
  return (
    db
      .prepare('select id, label, size, cx, cy, cz from clusters where sae_id = ? order by id')
      .all(saeId) as {
      id: number;
      label: string;
      size: number;
      cx: number;
      cy: number;
      cz: number;
    }[]
  ).map((c) => ({ id: c.id, label: c.label, size: c.size, centroid: [c.cx, c.cy, c.cz] }));
}

export interface IndexedSae {
  saeId: string;
  hook: string;
  kind: string;
  dSae: number;
  nExamples: number;
  nPositions: number;
  builtAt: string | null;
  stage: string | null;
  chunksDone: number;
  chunksTotal: number;
}

/** The SAEs in this index and how far their builds got. */
export function listIndexedSaes(db: Db): IndexedSae[] {
  return (
    db
      .prepare(
        `select s.sae_id, s.hook, s.kind, s.d_sae, s.n_examples, s.n_positions, s.built_at,
                b.stage, b.chunks_done, b.chunks_total
         from saes s left join build_state b on b.sae_id = s.sae_id order by s.sae_id`,
      )
      .all() as {
      sae_id: string;
      hook: string;
      kind: string;
      d_sae: number;
      n_examples: number;
      n_positions: number;
      built_at: string | null;
      stage: string | null;
      chunks_done: number | null;
      chunks_total: number | null;
    }[]
  ).map((r) => ({
    saeId: r.sae_id,
    hook: r.hook,
    kind: r.kind,
    dSae: r.d_sae,
    nExamples: r.n_examples,
    nPositions: r.n_positions,
    builtAt: r.built_at,
    stage: r.stage,
    chunksDone: r.chunks_done ?? 0,
    chunksTotal: r.chunks_total ?? 0,
  }));
}
