/**
 * Label bookkeeping shared by the build, user edits and imports. A feature's shown label is,
 * in order: the person's rename (label_source 'user'), an imported label ('neuronpedia'),
 * then what the build derived (metadata, top tokens, top examples). The FTS row of a feature
 * is rewritten whenever any of these change.
 */
import type { Db } from '../db/connection';

export type LabelSource =
  'metadata' | 'top-tokens' | 'top-examples' | 'visual' | 'user' | 'neuronpedia';

interface LabelRow {
  id: number;
  idx: number;
  auto_label: string | null;
  auto_source: string | null;
  auto_description: string | null;
  top_tokens: string | null;
  descriptors: string | null;
  evidence_label: string | null;
  user_label: string | null;
  notes: string | null;
  imported: string | null;
  imported_source: string | null;
  /** Imported explanations other than the label (Neuronpedia dashboards), space-separated. */
  explained: string | null;
}

/** Recomputes label, label_source and description (and the FTS rows) for some or all features. */
export function refreshLabels(
  db: Db,
  saeId: string,
  idxs: readonly number[] | null = null,
): number {
  const base = `
    select f.id, f.idx, f.auto_label, f.auto_source, f.auto_description, f.top_tokens,
           f.descriptors, f.evidence_label,
           u.label as user_label, u.notes,
           (select i.description from imported_labels i
             where i.sae_id = f.sae_id and i.idx = f.idx order by i.source limit 1) as imported,
           (select i.source from imported_labels i
             where i.sae_id = f.sae_id and i.idx = f.idx order by i.source limit 1) as imported_source,
           (select group_concat(e.description, ' ') from np_explanations e
             where e.sae_id = f.sae_id and e.idx = f.idx and e.rank > 1) as explained
    from features f left join user_edits u on u.sae_id = f.sae_id and u.idx = f.idx
    where f.sae_id = ?`;
  const one = db.prepare(`${base} and f.idx = ?`);
  const all = db.prepare(base);
  const update = db.prepare(
    'update features set label = ?, label_source = ?, description = ? where id = ?',
  );
  const delFts = db.prepare('delete from feature_fts where rowid = ?');
  const insFts = db.prepare(
    `insert into feature_fts(rowid, label, notes, description, top_tokens, words)
     values (?, ?, ?, ?, ?, ?)`,
  );
  const rows: LabelRow[] = idxs
    ? idxs.flatMap((i) => one.all(saeId, i) as LabelRow[])
    : (all.all(saeId) as LabelRow[]);
  const run = db.transaction(() => {
    for (const r of rows) {
      let label: string | null = r.auto_label;
      let source: string | null = r.auto_source;
      if (r.imported) {
        label = r.imported;
        source = r.imported_source;
      }
      if (r.user_label) {
        label = r.user_label;
        source = 'user';
      }
      const description = r.imported ?? r.auto_description;
      update.run(label, label ? source : null, description, r.id);
      delFts.run(r.id);
      const tokens = r.top_tokens ? (JSON.parse(r.top_tokens) as string[]).join(' ') : '';
      insFts.run(r.id, label ?? '', r.notes ?? '', description ?? '', tokens, searchWords(r));
    }
  });
  run();
  return rows.length;
}

/** The measured effect's words ("redder red crimson…"), the evidence label's words and the
 * imported explanations beyond the first (which is the label). */
function searchWords(r: LabelRow): string {
  const out: string[] = [];
  if (r.descriptors) {
    try {
      const d = JSON.parse(r.descriptors) as { words?: unknown };
      if (Array.isArray(d.words)) out.push(...d.words.filter((w) => typeof w === 'string'));
    } catch {
      // a damaged descriptor row only loses its words
    }
  }
  if (r.evidence_label) out.push(r.evidence_label.replace(/[=|_-]+/g, ' '));
  if (r.explained) out.push(r.explained);
  return out.join(' ');
}

function assertFeature(db: Db, saeId: string, idx: number): void {
  const hit = db.prepare('select 1 from features where sae_id = ? and idx = ?').get(saeId, idx);
  if (!hit) throw new RangeError(`feature ${saeId}/${idx} is not in this index`);
}

/** A person renames a feature (null or '' restores the automatic label). Survives rebuilds. */
export function renameFeature(db: Db, saeId: string, idx: number, label: string | null): void {
  assertFeature(db, saeId, idx);
  const clean = label?.trim() ? label.trim() : null;
  db.prepare(
    `insert into user_edits(sae_id, idx, label, notes, updated_at) values (?, ?, ?, null, ?)
     on conflict(sae_id, idx) do update set label = excluded.label, updated_at = excluded.updated_at`,
  ).run(saeId, idx, clean, new Date().toISOString());
  refreshLabels(db, saeId, [idx]);
}

/** A person's notes on a feature (searchable). Survive rebuilds. */
export function setFeatureNotes(db: Db, saeId: string, idx: number, notes: string | null): void {
  assertFeature(db, saeId, idx);
  const clean = notes?.trim() ? notes : null;
  db.prepare(
    `insert into user_edits(sae_id, idx, label, notes, updated_at) values (?, ?, null, ?, ?)
     on conflict(sae_id, idx) do update set notes = excluded.notes, updated_at = excluded.updated_at`,
  ).run(saeId, idx, clean, new Date().toISOString());
  refreshLabels(db, saeId, [idx]);
}
