/**
 * A feature card in the contract's own shape (preload/contract FeatureCardSchema), read from
 * the index in one place — the reader worker runs it — so the service passes it on as is.
 * Thumbnails stored in the index are filled in; an example whose thumbnail has to be cut from
 * the pack's sheet is named in `needThumbs` (by its position in topExamples and example id).
 * A feature with an imported Neuronpedia dashboard shows the dashboard's stats, histogram,
 * logit lens, activation records and explanations (computed over a far bigger corpus than a
 * local build), and its Neuronpedia id.
 */
import type { FeatureCard, FeatureTitle } from '../../preload/contract';
import type { Db } from '../db/connection';
import { readDashboard, type Dashboard } from './dashboards/read';
import { rebin } from './dashboards/stage';
import { getExampleThumb, getFeature, parseJson } from './feature';

/** Activation records a card shows. */
const CARD_RECORDS = 20;

export interface CardRead {
  card: FeatureCard;
  /** top examples with no stored thumbnail and no token window: [position, example id] */
  needThumbs: [number, number][];
}

export function readCard(db: Db, saeId: string, idx: number): CardRead | null {
  const c = getFeature(db, saeId, idx);
  if (!c) return null;
  const needThumbs: [number, number][] = [];
  const topExamples = c.topExamples.map((e, i) => {
    const w = (e.window ?? {}) as { tokens?: unknown; acts?: number[] };
    if (Array.isArray(w.tokens)) {
      return {
        activation: e.activation,
        name: e.name,
        tokens: w.tokens as string[],
        activations: w.acts ?? [],
      };
    }
    const thumb = getExampleThumb(db, e.exampleId);
    if (!thumb) needThumbs.push([i, e.exampleId]);
    return {
      activation: e.activation,
      name: e.name,
      ...(thumb ? { thumbnailPng: thumb.toString('base64') } : {}),
    };
  });
  const card: FeatureCard = {
    feature: c.idx,
    label: cardLabel(c.idx, c.label),
    labelSource: c.labelSource ?? 'none',
    labelWhy:
      c.labelSource === 'user'
        ? c.autoLabel
          ? `renamed by you (the automatic label was “${c.autoLabel}”)`
          : 'renamed by you'
        : (c.description ?? ''),
    evidence: c.evidence,
    effect: effectOfCard(c.descriptors),
    calibration: c.calibration
      ? {
          typical: c.calibration.typical,
          limit: c.calibration.limit,
          level: c.calibration.level,
          reached: c.calibration.reached,
          ...(c.calibration.measure ? { measure: c.calibration.measure } : {}),
        }
      : null,
    notes: c.notes ?? '',
    density: c.density,
    maxActivation: c.maxAct,
    meanActivation: c.meanAct,
    histogram: c.histogram,
    topTokens: c.topTokens,
    cluster: c.cluster,
    topExamples,
    logitLens: c.logitLens
      ? {
          top: c.logitLens.top.map((t) => ({ token: t.token, value: t.logit })),
          bottom: c.logitLens.bottom.map((t) => ({ token: t.token, value: t.logit })),
        }
      : null,
    nearest: c.nearest.map((n) => ({
      feature: n.idx,
      label: n.label ?? `feature ${n.idx}`,
      cosine: n.cosine,
    })),
    associations: c.associations.map((a) => ({
      key: a.key,
      value: a.value,
      auc: a.auc,
      share: a.precisionTop,
      log10Chance: a.log10P,
    })),
  };
  const dash = readDashboard(db, saeId, idx, CARD_RECORDS);
  return { card: dash ? withDashboard(db, saeId, card, dash) : card, needThumbs };
}

/** The card with what the imported dashboard holds in place of the local build's. */
function withDashboard(db: Db, saeId: string, card: FeatureCard, d: Dashboard): FeatureCard {
  const out: FeatureCard = {
    ...card,
    neuronpedia: { modelId: d.modelId, sourceId: d.sourceId, index: d.idx },
    explanations: d.explanations.map((e) => ({
      description: e.description,
      explainer: e.modelName,
      method: e.typeName,
    })),
    histogramBars: d.bars,
  };
  if (d.density !== null) out.density = d.density;
  if (d.maxAct !== null) out.maxActivation = d.maxAct;
  if (d.meanAct !== null) out.meanActivation = d.meanAct;
  if (d.bars) {
    const b = rebin(d.bars.values, d.bars.heights);
    out.histogram = {
      ...card.histogram,
      counts: Array.from(new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4)),
    };
  }
  if (d.pos || d.neg) out.logitLens = { top: d.pos ?? [], bottom: d.neg ?? [] };
  if (d.records.length > 0)
    out.topExamples = d.records.map((r, i) => ({
      activation: r.activation,
      name: r.dataSource ?? `Neuronpedia record ${i + 1}`,
      tokens: r.tokens,
      activations: r.values,
    }));
  if (card.nearest.length === 0 && d.near) {
    const label = db.prepare('select label from features where sae_id = ? and idx = ?').pluck();
    out.nearest = d.near.idx.slice(0, 10).map((j, i) => ({
      feature: j,
      label: (label.get(saeId, j) as string | null | undefined) ?? `feature ${j}`,
      cosine: d.near?.cos[i] ?? 0,
    }));
  }
  return out;
}

/**
 * The titles of `features` (a list's rows): each one's label, as its card says it, and its
 * effect's swatch and words, in one query; features the SAE does not have are left out.
 */
export function readTitles(db: Db, saeId: string, features: readonly number[]): FeatureTitle[] {
  const rows = db
    .prepare(
      `select idx, label, descriptors from features
       where sae_id = ? and idx in (select value from json_each(?))`,
    )
    .all(saeId, JSON.stringify(features)) as {
    idx: number;
    label: string | null;
    descriptors: string | null;
  }[];
  const byIdx = new Map(rows.map((r) => [r.idx, r]));
  return features.flatMap((f) => {
    const r = byIdx.get(f);
    if (!r) return [];
    const effect = effectOfCard(parseJson(r.descriptors) as Record<string, unknown> | null);
    return [
      {
        feature: f,
        label: cardLabel(r.idx, r.label),
        swatch: effect?.swatch ?? null,
        words: effect?.words ?? [],
      },
    ];
  });
}

/** A feature's label as cards and lists show it. */
function cardLabel(idx: number, label: string | null): string {
  return label ?? `feature ${idx}`;
}

/** The card's effect facts from the stored descriptors (descriptors.ts). */
function effectOfCard(d: Record<string, unknown> | null): FeatureCard['effect'] {
  if (!d || !Array.isArray(d.facts)) return null;
  const image = d.image as { dominantHex?: string; dominantName?: string } | undefined;
  return {
    facts: (d.facts as unknown[]).filter((x): x is string => typeof x === 'string'),
    words: Array.isArray(d.words)
      ? (d.words as unknown[]).filter((x): x is string => typeof x === 'string')
      : [],
    swatch:
      image?.dominantHex && image.dominantName
        ? { hex: image.dominantHex, name: image.dominantName }
        : null,
    multiple: typeof d.multiple === 'number' ? d.multiple : 0,
    ssim: typeof d.ssim === 'number' ? d.ssim : 1,
  };
}
