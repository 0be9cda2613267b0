/**
 * One feature's card: label (with its source), notes, stats, histogram, top examples,
 * logit lens, nearest features, metadata associations and cluster.
 */
import type { Db } from '../db/connection';
import { HISTOGRAM_BINS, HISTOGRAM_LOW } from './migrations';
import type { LabelSource } from './store';
import type { BadgeRelation } from './build/titles';
import { ASSOCIATION_COLUMNS, associationOf, type AssociationRow } from './build/associations';

export interface TopExample {
  rank: number;
  exampleId: number;
  name: string;
  meta: Record<string, string>;
  activation: number;
  position: number;
  /** text: {tokens, acts, start, focus}; spatial: {grid, acts}; else {} */
  window: unknown;
}

export interface FeatureCard {
  saeId: string;
  idx: number;
  label: string | null;
  labelSource: LabelSource | null;
  autoLabel: string | null;
  autoSource: string | null;
  description: string | null;
  notes: string | null;
  topTokens: string[];
  evidence: { label: string; source: string; detail: string } | null;
  descriptors: Record<string, unknown> | null;
  calibration: {
    typical: number;
    limit: number;
    level: number;
    reached: boolean;
    measure?: 'ssim' | 'ink-ssim' | 'changed-tokens';
  } | null;
  density: number;
  nActive: number;
  maxAct: number;
  meanAct: number;
  /** counts per bin; bin b covers [2^((b + low) / 4), 2^((b + 1 + low) / 4)) */
  histogram: { counts: number[]; low: number; perOctave: number };
  position: [number, number, number] | null;
  /** relation: whether the feature's title names what the cluster's badge names ('names'), the
   * badge names something its evidence does not hold ('other': "not this one"), or the badge is
   * mixed and claims nothing */
  cluster: { id: number; label: string; relation: BadgeRelation } | null;
  topExamples: TopExample[];
  logitLens: {
    top: { token: string; logit: number }[];
    bottom: { token: string; logit: number }[];
  } | null;
  nearest: { idx: number; cosine: number; label: string | null }[];
  associations: {
    key: string;
    value: string;
    auc: number;
    precisionTop: number;
    log10P: number;
    nPositive: number;
  }[];
}

interface FeatureRow {
  idx: number;
  label: string | null;
  label_source: LabelSource | null;
  auto_label: string | null;
  auto_source: string | null;
  description: string | null;
  top_tokens: string | null;
  evidence_label: string | null;
  evidence_source: string | null;
  evidence: string | null;
  descriptors: string | null;
  calibration: string | null;
  density: number;
  n_active: number;
  max_act: number;
  mean_act: number;
  histogram: Buffer | null;
  x: number | null;
  y: number | null;
  z: number | null;
  cluster: number | null;
  concept: string | null;
  notes: string | null;
}

export function parseJson(s: string | null): unknown {
  if (!s) return null;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return null;
  }
}

export function getFeature(db: Db, saeId: string, idx: number): FeatureCard | null {
  const f = db
    .prepare(
      `select f.*, u.notes from features f
       left join user_edits u on u.sae_id = f.sae_id and u.idx = f.idx
       where f.sae_id = ? and f.idx = ?`,
    )
    .get(saeId, idx) as FeatureRow | undefined;
  if (!f) return null;
  const counts = f.histogram
    ? Array.from(
        new Uint32Array(
          f.histogram.buffer.slice(
            f.histogram.byteOffset,
            f.histogram.byteOffset + f.histogram.byteLength,
          ),
        ),
      )
    : new Array<number>(HISTOGRAM_BINS).fill(0);
  const tops = db
    .prepare(
      `select t.rank, t.example_id, e.name, e.meta, t.activation, t.position, t.window
       from top_examples t join examples e on e.id = t.example_id
       where t.sae_id = ? and t.idx = ? order by t.rank`,
    )
    .all(saeId, idx) as {
    rank: number;
    example_id: number;
    name: string;
    meta: string;
    activation: number;
    position: number;
    window: string;
  }[];
  const lens = db
    .prepare('select top, bottom from logit_lens where sae_id = ? and idx = ?')
    .get(saeId, idx) as { top: string; bottom: string } | undefined;
  const near = db
    .prepare('select neighbours, cosines from nearest where sae_id = ? and idx = ?')
    .get(saeId, idx) as { neighbours: Buffer; cosines: Buffer } | undefined;
  const nearest: FeatureCard['nearest'] = [];
  if (near) {
    const ids = new Int32Array(
      near.neighbours.buffer.slice(
        near.neighbours.byteOffset,
        near.neighbours.byteOffset + near.neighbours.byteLength,
      ),
    );
    const cos = new Float32Array(
      near.cosines.buffer.slice(
        near.cosines.byteOffset,
        near.cosines.byteOffset + near.cosines.byteLength,
      ),
    );
    const lab = db.prepare('select label from features where sae_id = ? and idx = ?');
    ids.forEach((j, i) => {
      if (j < 0) return;
      const l = lab.get(saeId, j) as { label: string | null } | undefined;
      nearest.push({ idx: j, cosine: cos[i] ?? 0, label: l?.label ?? null });
    });
  }
  const c =
    f.cluster === null
      ? undefined
      : (db
          .prepare('select id, label, concept from clusters where sae_id = ? and id = ?')
          .get(saeId, f.cluster) as
          { id: number; label: string; concept: string | null } | undefined);
  // the features' concept column lists what its title names with the broader concepts they
  // sit inside, one a line (titles stage)
  const cluster = c
    ? {
        id: c.id,
        label: c.label,
        relation: (c.concept === null
          ? 'mixed'
          : (f.concept ?? '').split('\n').includes(c.concept)
            ? 'names'
            : 'other') as BadgeRelation,
      }
    : null;
  const associations = (
    db
      .prepare(
        `select ${ASSOCIATION_COLUMNS} from associations
         where sae_id = ? and idx = ? order by log10_p, auc desc, key, value`,
      )
      .all(saeId, idx) as AssociationRow[]
  ).map(associationOf);
  return {
    saeId,
    idx,
    label: f.label,
    labelSource: f.label_source,
    autoLabel: f.auto_label,
    autoSource: f.auto_source,
    description: f.description,
    notes: f.notes,
    topTokens: f.top_tokens ? (JSON.parse(f.top_tokens) as string[]) : [],
    evidence:
      f.evidence_source && f.evidence_label
        ? { label: f.evidence_label, source: f.evidence_source, detail: f.evidence ?? '' }
        : null,
    descriptors: parseJson(f.descriptors) as Record<string, unknown> | null,
    calibration: parseJson(f.calibration) as FeatureCard['calibration'],
    density: f.density,
    nActive: f.n_active,
    maxAct: f.max_act,
    meanAct: f.mean_act,
    histogram: { counts, low: HISTOGRAM_LOW, perOctave: 4 },
    position: f.x === null || f.y === null || f.z === null ? null : [f.x, f.y, f.z],
    cluster,
    topExamples: tops.map((t) => ({
      rank: t.rank,
      exampleId: t.example_id,
      name: t.name,
      meta: JSON.parse(t.meta) as Record<string, string>,
      activation: t.activation,
      position: t.position,
      window: JSON.parse(t.window) as unknown,
    })),
    logitLens: lens
      ? {
          top: JSON.parse(lens.top) as { token: string; logit: number }[],
          bottom: JSON.parse(lens.bottom) as { token: string; logit: number }[],
        }
      : null,
    nearest,
    associations,
  };
}

/** An example's thumbnail (PNG bytes), for image and typeface packs. */
export function getExampleThumb(db: Db, exampleId: number): Buffer | null {
  const r = db.prepare('select thumb from examples where id = ?').get(exampleId) as
    { thumb: Buffer | null } | undefined;
  return r?.thumb ?? null;
}
