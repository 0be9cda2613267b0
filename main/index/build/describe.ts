/**
 * The "titles" index stage: plain titles and one-line descriptions for every feature, and the
 * cluster badges in the same words (titles.ts). It reads only what the index holds (the label
 * rule's evidence, associations, top examples and their metadata, measured descriptors), so it
 * runs after a build and over an index built before it existed. Each later stage records its
 * version in index_stages (provenance), and a build runs a stage whose version is older.
 */
import type { Db } from '../../db/connection';
import {
  ASSOCIATION_COLUMNS,
  associationOf,
  type Association,
  type AssociationRow,
} from './associations';
import { peakTokens } from './labels';
import {
  badgeRelation,
  clusterBadge,
  conceptsWithParents,
  focusWord,
  isPlainPhrase,
  metaParents,
  nameableConcepts,
  plainTitle,
  type EffectSummary,
  type Title,
  type TitleInput,
} from './titles';
import { metaPhrase, type MetaPhrase, type PackKind } from './vocab';
import { refreshLabels } from '../store';

export const TITLES_VERSION = 5;

export function stageVersion(db: Db, saeId: string, stage: string): number {
  const r = db
    .prepare('select version from index_stages where sae_id = ? and stage = ?')
    .get(saeId, stage) as { version: number } | undefined;
  return r?.version ?? 0;
}

export function recordStage(
  db: Db,
  saeId: string,
  stage: string,
  version: number,
  detail: unknown,
): void {
  db.prepare(
    `insert into index_stages(sae_id, stage, version, finished_at, detail) values (?, ?, ?, ?, ?)
     on conflict(sae_id, stage) do update set version = excluded.version,
       finished_at = excluded.finished_at, detail = excluded.detail`,
  ).run(saeId, stage, version, new Date().toISOString(), JSON.stringify(detail));
}

interface Row {
  idx: number;
  n_active: number;
  auto_label: string | null;
  auto_source: string | null;
  auto_description: string | null;
  evidence_label: string | null;
  evidence_source: string | null;
  evidence: string | null;
  descriptors: string | null;
  cluster: number | null;
}

export interface TitleFigures {
  features: number;
  titled: number;
  /** titles that are a plain phrase (not key=value, not a bare token list) */
  plain: number;
  bySource: Record<string, number>;
  /** titled features whose title names their cluster badge's concept (or one inside it) */
  agree: number;
  /** titled features under a mixed badge (which claims nothing) */
  mixed: number;
  /** titled features whose badge names a concept their own evidence does not hold: their card
   * shows the badge as the cluster's, "not this one" */
  other: number;
  /** of `agree`, titles that name the badge's concept as a third measured adjective */
  renamed: number;
}

/** The effect summary stored by the descriptors stage, if any. */
export function effectOf(json: string | null): EffectSummary | null {
  if (!json) return null;
  try {
    const d = JSON.parse(json) as { adjectives?: string[]; facts?: string[] };
    return { adjectives: d.adjectives ?? [], facts: d.facts ?? [] };
  } catch {
    return null;
  }
}

/** Metadata keys worth reading (the pack's label keys, else keys with few values). */
function keysOf(metas: readonly Record<string, unknown>[], labelKeys: readonly string[] | null) {
  if (labelKeys && labelKeys.length) return [...labelKeys];
  const values = new Map<string, Set<string>>();
  for (const m of metas) {
    for (const [k, v] of Object.entries(m)) {
      let s = values.get(k);
      if (!s) values.set(k, (s = new Set()));
      s.add(String(v));
    }
  }
  return [...values.entries()].filter(([, s]) => s.size <= 200).map(([k]) => k);
}

/** Runs the titles stage for one SAE: titles, descriptions, concepts, cluster badges. */
export function titleStage(
  db: Db,
  saeId: string,
  kind: PackKind,
  labelKeys: readonly string[] | null,
): TitleFigures {
  const examples = (
    db.prepare('select id, name, meta from examples').all() as {
      id: number;
      name: string;
      meta: string;
    }[]
  ).map((e) => ({ id: e.id, name: e.name, meta: JSON.parse(e.meta) as Record<string, string> }));
  const byId = new Map(examples.map((e) => [e.id, e]));
  const keys = keysOf(
    examples.map((e) => e.meta),
    labelKeys,
  );
  const parents = metaParents(examples, keys);
  const placeKey = kind === 'text-lm' ? (keys[0] ?? null) : null;

  const rows = db
    .prepare(
      `select idx, n_active, auto_label, auto_source, auto_description, evidence_label,
              evidence_source, evidence, descriptors, cluster
       from features where sae_id = ? order by idx`,
    )
    .all(saeId) as Row[];
  const tops = new Map<number, { activation: number; example_id: number; window: string }[]>();
  for (const t of db
    .prepare(
      'select idx, activation, example_id, window from top_examples where sae_id = ? order by idx, rank',
    )
    .all(saeId) as { idx: number; activation: number; example_id: number; window: string }[]) {
    let l = tops.get(t.idx);
    if (!l) tops.set(t.idx, (l = []));
    l.push(t);
  }
  const assoc = db.prepare(
    `select ${ASSOCIATION_COLUMNS} from associations
     where sae_id = ? and idx = ? and key = ? and value = ?`,
  );
  const update = db.prepare(
    `update features set auto_label = ?, auto_source = ?, auto_description = ?, concept = ?,
       evidence_label = ?, evidence_source = ?, evidence = ? where sae_id = ? and idx = ?`,
  );
  interface Titled {
    row: Row;
    input: TitleInput | null;
    title: Title | null;
    evLabel: string | null;
    evSource: string | null;
    evidence: string | null;
  }
  const done: Titled[] = rows.map((r) => {
    // what the label rule found: kept as evidence (first run over an older index: the
    // automatic label it stored is that evidence)
    const evLabel = r.evidence_source ? r.evidence_label : r.auto_label;
    const evSource = r.evidence_source ?? r.auto_source;
    const evidence = r.evidence_source ? r.evidence : r.auto_description;
    let chosen: Association | null = null;
    if (evSource === 'metadata' && evLabel) {
      const eq = evLabel.indexOf('=');
      const a = assoc.get(saeId, r.idx, evLabel.slice(0, eq), evLabel.slice(eq + 1)) as
        AssociationRow | undefined;
      if (a) chosen = associationOf(a);
    }
    if (r.n_active <= 0) return { row: r, input: null, title: null, evLabel, evSource, evidence };
    const t = tops.get(r.idx) ?? [];
    const windows = t.map((x) => JSON.parse(x.window) as { tokens?: string[]; focus?: number });
    const peaks = t.map((x, i) => ({
      activation: x.activation,
      token: windows[i]?.tokens?.[windows[i]?.focus ?? 0] ?? null,
    }));
    const words = t.map((x, i) => {
      const w = windows[i];
      return {
        activation: x.activation,
        token: w?.tokens ? focusWord(w.tokens, w.focus ?? 0) : null,
      };
    });
    const input: TitleInput = {
      kind,
      chosen,
      tokens: peakTokens(peaks),
      words: peakTokens(words),
      tops: t.map((x) => byId.get(x.example_id) ?? { name: '', meta: {} }),
      effect: effectOf(r.descriptors),
      placeKey,
      parents,
    };
    return { row: r, input, title: plainTitle(input), evLabel, evSource, evidence };
  });

  // cluster badges from what the members' titles name or could name from their own evidence,
  // in the same words as the titles; a member whose evidence holds the badge's concept gets a
  // title that names it
  const phraseOf = (c: string): MetaPhrase | null => {
    if (c.startsWith('effect:')) {
      const adj = c.slice('effect:'.length);
      const t = `makes ${kind === 'glyph-cvae' ? 'letters' : 'the picture'} ${adj}`;
      return adj ? { title: `M${t.slice(1)}`, noun: t } : null;
    }
    if (c.startsWith('token:')) {
      const t = `the word ‘${c.slice('token:'.length)}’`;
      return { title: `T${t.slice(1)}`, noun: t };
    }
    if (c.startsWith('examples:')) return null;
    const eq = c.indexOf('=');
    if (eq <= 0) return null;
    const key = c.slice(0, eq);
    const values = c.slice(eq + 1).split(' | ');
    const parent = parents.get(`${key}=${values[0] ?? ''}`);
    return metaPhrase(kind, key, values, parent?.startsWith('source=') ? parent.slice(7) : null);
  };
  const clusterRows = db
    .prepare('select id from clusters where sae_id = ? order by id')
    .all(saeId) as { id: number }[];
  const members = new Map<number, Titled[]>();
  for (const d of done) {
    if (d.row.cluster === null) continue;
    let l = members.get(d.row.cluster);
    if (!l) members.set(d.row.cluster, (l = []));
    l.push(d);
  }
  let agree = 0;
  let mixed = 0;
  let other = 0;
  let renamed = 0;
  const badges = new Map<number, { label: string; concept: string | null }>();
  for (const c of clusterRows) {
    const m = members.get(c.id) ?? [];
    const badge = clusterBadge(
      m.map((d) => ({ concepts: d.title && d.input ? nameableConcepts(d.input, d.title) : [] })),
      c.id,
      phraseOf,
      parents,
    );
    badges.set(c.id, badge);
    for (const d of m) {
      if (!d.title || !d.input) continue;
      if (badgeRelation(d.title.concepts, badge.concept, parents) === 'other') {
        const again = plainTitle(d.input, badge.concept);
        if (again && badgeRelation(again.concepts, badge.concept, parents) === 'names') {
          d.title = again;
          renamed++;
        }
      }
      const rel = badgeRelation(d.title.concepts, badge.concept, parents);
      if (rel === 'names') agree++;
      else if (rel === 'mixed') mixed++;
      else other++;
    }
  }

  const sources: Record<string, number> = {};
  let titled = 0;
  let plain = 0;
  const setBadge = db.prepare(
    'update clusters set label = ?, concept = ? where sae_id = ? and id = ?',
  );
  db.transaction(() => {
    for (const { row: r, title, evLabel, evSource, evidence } of done) {
      update.run(
        title?.title ?? null,
        title?.source ?? null,
        title?.description ?? (r.n_active === 0 ? 'Never fired on the corpus' : null),
        // what the title names with the broader concepts they sit inside, one a line
        title ? conceptsWithParents(title.concepts, parents).join('\n') : null,
        evLabel,
        evSource,
        evidence,
        saeId,
        r.idx,
      );
      if (title) {
        titled++;
        if (isPlainPhrase(title.title)) plain++;
        sources[title.source] = (sources[title.source] ?? 0) + 1;
      }
    }
    refreshLabels(db, saeId);
    for (const [id, badge] of badges) setBadge.run(badge.label, badge.concept, saeId, id);
  })();
  const figures: TitleFigures = {
    features: rows.length,
    titled,
    plain,
    bySource: sources,
    agree,
    mixed,
    other,
    renamed,
  };
  recordStage(db, saeId, 'titles', TITLES_VERSION, figures);
  return figures;
}
