/**
 * The index's "must show" figures:
 * - label coverage: of the metadata values the build tested, how many have at least one
 *   feature whose label names them (metadata-sourced labels);
 * (Both read the label rule's evidence, evidence_label, which the plain titles stand on.)
 * - map agreement: for features with a metadata label, how often the nearest labelled
 *   feature on the 3D map has the same label, against the same with labels shuffled.
 */
import type { Db } from '../db/connection';
import { metaIndex, namedValues } from './build/associations';
import { LABEL_AUC_THRESHOLD, MIN_PRECISION_TOP, metadataCandidates } from './build/labels';
import { mulberry32 } from './build/rng';
import type { CorpusExample } from './corpus';

export interface LabelCoverage {
  /** metadata values the build tested (enough examples, not held by all) */
  values: number;
  /** values that at least one feature's label names */
  named: number;
  /** values with a feature whose stored association passes the label rule (labels.ts),
   * though another value may have won that feature's label */
  associated: number;
  missing: string[];
}

/** The values a build tested (label_values); recomputed from the examples for an index
 * built before that table existed. */
function testedValues(db: Db, saeId: string): string[] {
  const stored = (
    db
      .prepare('select key, value from label_values where sae_id = ? order by key, value')
      .all(saeId) as { key: string; value: string }[]
  ).map((r) => `${r.key}=${r.value}`);
  if (stored.length > 0) return stored;
  const examples = (
    db.prepare('select id, name, meta from examples order by id').all() as {
      id: number;
      name: string;
      meta: string;
    }[]
  ).map<CorpusExample>((e) => ({
    id: e.id,
    name: e.name,
    body: null,
    meta: JSON.parse(e.meta) as Record<string, string>,
    split: null,
  }));
  return metaIndex(examples).values.map((v) => `${v.key}=${v.value}`);
}

export function labelCoverage(db: Db, saeId: string): LabelCoverage {
  const tested = testedValues(db, saeId);
  const perKey = new Map<string, number>();
  for (const t of tested) {
    const key = t.slice(0, t.indexOf('='));
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  const pairs = [...perKey.values()].reduce((s, c) => s + (c * (c - 1)) / 2, 0);
  const labels = new Set(
    (
      db
        .prepare(
          `select distinct coalesce(evidence_label, auto_label) as l from features
           where sae_id = ? and coalesce(evidence_source, auto_source) = 'metadata'`,
        )
        .all(saeId) as { l: string }[]
    ).flatMap((r) => namedValues(r.l)),
  );
  const missing = tested.filter((t) => !labels.has(t));
  const rows = db
    .prepare(
      `select key, value, auc, precision_top as p, log10_p as lp from associations
       where sae_id = ? and auc > ? and precision_top >= ?`,
    )
    .all(saeId, LABEL_AUC_THRESHOLD, MIN_PRECISION_TOP) as {
    key: string;
    value: string;
    auc: number;
    p: number;
    lp: number;
  }[];
  const candidates = metadataCandidates(
    rows.map((r) => ({
      key: r.key,
      value: r.value,
      auc: r.auc,
      precisionTop: r.p,
      log10P: r.lp,
      nPositive: 0,
    })),
    tested.length,
    LABEL_AUC_THRESHOLD,
    pairs,
  );
  const strong = new Set(candidates.flatMap((c) => namedValues(`${c.key}=${c.value}`)));
  return {
    values: tested.length,
    named: tested.length - missing.length,
    associated: tested.filter((t) => strong.has(t)).length,
    missing,
  };
}

export interface MapAgreement {
  /** features with a metadata label and a map position */
  n: number;
  agreement: number;
  shuffled: number;
  /** The same within each metadata key (e.g. only "group=…" labels), keys with ≥ 10 features. */
  byKey: { key: string; n: number; values: number; agreement: number; shuffled: number }[];
}

interface Point {
  x: number;
  y: number;
  z: number;
  l: string;
}

/** Share of points whose nearest other point has the same label; and the same, shuffled. */
function agreementOf(
  rows: readonly Point[],
  shuffles: number,
  seed: number,
): { agreement: number; shuffled: number } {
  const n = rows.length;
  if (n < 2) return { agreement: 0, shuffled: 0 };
  const nn = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = rows[i] as Point;
    let best = -1;
    let bd = Infinity;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const b = rows[j] as Point;
      const d = (a.x - b.x) ** 2 + (a.y - b.y) ** 2 + (a.z - b.z) ** 2;
      if (d < bd) {
        bd = d;
        best = j;
      }
    }
    nn[i] = best;
  }
  const agree = (labels: readonly string[]): number => {
    let s = 0;
    for (let i = 0; i < n; i++) if (labels[i] === labels[nn[i] ?? 0]) s++;
    return s / n;
  };
  const labels = rows.map((r) => r.l);
  const rand = mulberry32(seed);
  let shuffled = 0;
  for (let s = 0; s < shuffles; s++) {
    const p = [...labels];
    for (let i = p.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [p[i], p[j]] = [p[j] as string, p[i] as string];
    }
    shuffled += agree(p);
  }
  return { agreement: agree(labels), shuffled: shuffled / shuffles };
}

export function mapAgreement(db: Db, saeId: string, shuffles = 20, seed = 1): MapAgreement {
  const rows = db
    .prepare(
      `select x, y, z, coalesce(evidence_label, auto_label) as l from features
       where sae_id = ? and coalesce(evidence_source, auto_source) = 'metadata' and x is not null
       order by idx`,
    )
    .all(saeId) as Point[];
  const all = agreementOf(rows, shuffles, seed);
  const byKeyRows = new Map<string, Point[]>();
  for (const r of rows) {
    const key = r.l.slice(0, Math.max(0, r.l.indexOf('=')));
    let l = byKeyRows.get(key);
    if (!l) byKeyRows.set(key, (l = []));
    l.push(r);
  }
  const byKey: MapAgreement['byKey'] = [];
  for (const [key, pts] of [...byKeyRows.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const values = new Set(pts.map((p) => p.l)).size;
    if (pts.length < 10 || values < 2) continue;
    byKey.push({ key, n: pts.length, values, ...agreementOf(pts, shuffles, seed) });
  }
  return { n: rows.length, ...all, byKey };
}
