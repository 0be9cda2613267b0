/**
 * The text packs' calibration stage: each live feature's useful dial range, measured as the
 * add strength at which greedy generation from the default prompt changes a set share of its
 * tokens (CHANGED_LEVEL of TOKENS), through the pack's own text engine (the app's `add`).
 * A light measurement: one prompt, a few strengths (MULTIPLES of the feature's typical
 * activation, walking up until the share is reached), interpolated log-linearly between the
 * last two. Stored like the image calibration (features.calibration, measure
 * 'changed-tokens'), with its provenance in index_stages.
 */
import { DEFAULT_TEXT_PROMPT, runtimeInputs } from '../../../preload/contract';
import type { Db } from '../../db/connection';
import type { LoadedPack } from '../../packs/packReader';
import { isHfModel } from '../../packs/manifest';
import { HfTextEngine } from '../../runtime/hf/hfTextEngine';
import { TextEngine } from '../../runtime/text/textEngine';
import { recordStage } from './describe';
import { crossing } from './effects';

export const TEXT_CALIBRATION_VERSION = 1;
/** Share of the generated tokens that differ from the unsteered continuation. */
export const CHANGED_LEVEL = 0.5;
/** Tokens generated per strength. */
export const TOKENS = 8;
/** Multiples of the typical activation tried, in order (stopping once the share is reached). */
export const TEXT_MULTIPLES = [2, 8, 32] as const;

export interface TextCalibration {
  version: number;
  method: 'add';
  measure: 'changed-tokens';
  typical: number;
  /** add strength where the changed share reaches `level` (a tenth short of the crossing) */
  limit: number;
  level: number;
  reached: boolean;
  prompt: string;
  tokens: number;
  /** changed share at each multiple tried */
  curve: { multiple: number; changed: number }[];
}

/** Share of positions (of `n`) where `after` differs from `before` (missing counts as changed). */
export function changedShare(
  before: readonly number[],
  after: readonly number[],
  n: number,
): number {
  let c = 0;
  for (let i = 0; i < n; i++) if (before[i] !== after[i]) c++;
  return n > 0 ? c / n : 0;
}

/** The calibrated limit from a walk's curve (changed shares rising with the multiple). */
export function textLimit(
  curve: readonly { multiple: number; changed: number }[],
  level: number = CHANGED_LEVEL,
): { multiple: number; reached: boolean } {
  const last = curve[curve.length - 1];
  if (!last) return { multiple: 1, reached: false };
  if (last.changed < level) return { multiple: last.multiple, reached: false };
  const prev = curve.length >= 2 ? curve[curve.length - 2] : undefined;
  // as a similarity falling through 1 − level (the image crossing's shape)
  const m = crossing(
    prev ? { multiple: prev.multiple, ssim: 1 - prev.changed } : { multiple: 0, ssim: 1 },
    { multiple: last.multiple, ssim: 1 - last.changed },
    1 - level,
  );
  return { multiple: m, reached: true };
}

export async function textCalibrationStage(
  db: Db,
  pack: LoadedPack,
  saeId: string,
  o: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ features: number; reached: number; generations: number; seconds: number } | null> {
  if (pack.manifest.kind !== 'text-lm') return null;
  const t0 = performance.now();
  const engine = isHfModel(pack.manifest.model)
    ? await HfTextEngine.load(pack)
    : await TextEngine.load(pack);
  const ctx = { signal: o.signal ?? new AbortController().signal };
  const features = db
    .prepare(
      'select idx, mean_act, max_act from features where sae_id = ? and n_active > 0 order by idx',
    )
    .all(saeId) as { idx: number; mean_act: number; max_act: number }[];
  const sampling = { maxTokens: TOKENS, temperature: 0, topK: 0, topP: 1, seed: 0 };
  const gen = (dials: { feature: number; value: number }[]) =>
    engine.generate(
      runtimeInputs.textGenerate.parse({
        packId: pack.manifest.id,
        prompt: DEFAULT_TEXT_PROMPT,
        dials: dials.map((d) => ({ saeId, feature: d.feature, method: 'add', value: d.value })),
        sampling,
      }),
      ctx,
    );
  const out: { idx: number; cal: TextCalibration }[] = [];
  let generations = 0;
  let reached = 0;
  try {
    const before = (await gen([])).before.tokenIds;
    generations++;
    for (let k = 0; k < features.length; k++) {
      if (o.signal?.aborted) throw new Error('cancelled');
      const f = features[k] as (typeof features)[number];
      const typical = f.mean_act > 0 ? f.mean_act : f.max_act;
      const curve: { multiple: number; changed: number }[] = [];
      for (const m of TEXT_MULTIPLES) {
        const r = await gen([{ feature: f.idx, value: m * typical }]);
        generations++;
        const changed = changedShare(before, r.after.tokenIds, TOKENS);
        curve.push({ multiple: m, changed: Number(changed.toFixed(4)) });
        if (changed >= CHANGED_LEVEL) break;
      }
      const lim = textLimit(curve);
      if (lim.reached) reached++;
      out.push({
        idx: f.idx,
        cal: {
          version: TEXT_CALIBRATION_VERSION,
          method: 'add',
          measure: 'changed-tokens',
          typical,
          limit: typical * Math.max(lim.multiple, 0.25),
          level: CHANGED_LEVEL,
          reached: lim.reached,
          prompt: DEFAULT_TEXT_PROMPT,
          tokens: TOKENS,
          curve,
        },
      });
      if (k % 16 === 15) o.onProgress?.(k + 1, features.length);
    }
  } finally {
    await engine.dispose();
  }
  const figures = {
    features: features.length,
    reached,
    generations,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
  };
  const upd = db.prepare('update features set calibration = ? where sae_id = ? and idx = ?');
  db.transaction(() => {
    db.prepare('update features set calibration = null where sae_id = ?').run(saeId);
    for (const x of out) upd.run(JSON.stringify(x.cal), saeId, x.idx);
    recordStage(db, saeId, 'calibration', TEXT_CALIBRATION_VERSION, {
      ...figures,
      prompt: DEFAULT_TEXT_PROMPT,
      tokens: TOKENS,
      level: CHANGED_LEVEL,
      multiples: TEXT_MULTIPLES,
    });
  })();
  o.onProgress?.(features.length, features.length);
  return figures;
}
