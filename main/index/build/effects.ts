/**
 * The "effects" index stage (image and typeface packs): each live feature is turned up on a
 * few examples through the pack's own runtime engine (the decode the app shows), and
 * - its useful range is measured (calibration): the add strength at which the output's SSIM
 *   to before (computed as the worker computes it) falls to CALIBRATION_SSIM on any of the
 *   examples, found on a grid of multiples of its typical activation and interpolated;
 * - what it does is measured at the strongest grid point still above that level
 *   (descriptors.ts): hue, lightness, saturation, contrast, edges; stroke weight, slant, width.
 * Decodes are batched; the steering is the app's `add` (value × decoder row, everywhere).
 */
import type { Db } from '../../db/connection';
import { LATENT_HOOK } from '../../packs/kindHooks';
import type { LoadedPack } from '../../packs/packReader';
import { GlyphEngine } from '../../runtime/glyph/glyphEngine';
import { ImageEngine } from '../../runtime/image/imageEngine';
import { chwToRgba, Reference } from '../../runtime/image/imageMetrics';
import { nchwToRows, rowsToNchw, type Sae } from '../../sae';
import {
  colourName,
  glyphWords,
  hex,
  hueName,
  imageWords,
  measureGlyphs,
  measureImage,
  summarize,
  type Descriptors,
  type Rgba,
} from './descriptors';
import { recordStage } from './describe';

/** The effects stage's version per pack kind: typeface packs are at 2, their SSIM taken over
 * the windows holding ink (imageMetrics.ts), image packs still at 1. */
export const EFFECTS_VERSIONS = { 'image-vae': 1, 'glyph-cvae': 2 } as const;
export function effectsVersion(kind: string): number {
  return kind === 'glyph-cvae' ? EFFECTS_VERSIONS['glyph-cvae'] : EFFECTS_VERSIONS['image-vae'];
}
export const CALIBRATION_SSIM = 0.5;
/** Multiples of the typical activation tried, in order (stopping once SSIM is under the level). */
export const MULTIPLES = [1, 2, 4, 8, 16, 32, 64] as const;
/** The line of letters a typeface feature is measured on (the app's default specimen). */
export const SPECIMEN = 'Orrery';

export interface Calibration {
  version: number;
  method: 'add';
  /** typical activation (mean when active): the dial's 1× tick */
  typical: number;
  /** add strength where SSIM to before reaches `level` on the first of `examples` to get there */
  limit: number;
  level: number;
  /** what `level` is of: SSIM to before over the whole picture, or over the windows of a line
   * of letters that hold ink (typeface packs) */
  measure: 'ssim' | 'ink-ssim';
  /** false: even the largest multiple kept SSIM above the level (limit is that multiple) */
  reached: boolean;
  examples: number[];
  /** min SSIM over the examples at each multiple tried */
  curve: { multiple: number; ssim: number }[];
}

interface Renderer {
  /** RGBA of each example at rest */
  refs: Reference[];
  /** decode (example, delta along a decoder row × value) pairs → RGBA */
  render(jobs: { example: number; feature: number; value: number }[]): Promise<Rgba[]>;
  cell: number | null;
  dispose(): Promise<void>;
}

async function imageRenderer(
  pack: LoadedPack,
  hook: string,
  sae: Sae,
  examples: number[],
): Promise<Renderer> {
  const engine = await ImageEngine.load(pack);
  const ctx = { signal: new AbortController().signal };
  const m = pack.manifest as { model: { image: { size: number; range: [number, number] } } };
  const S = m.model.image.size;
  const range = m.model.image.range;
  const mus = await Promise.all(examples.map((e) => engine.latentOf({ example: e }, ctx)));
  const D = sae.dIn;
  const latent = hook === LATENT_HOOK;
  const spatials = await Promise.all(mus.map((mu) => engine.runHead(mu, 1)));
  const sp = (
    pack.manifest as { model: { spatial?: { channels: number; height: number; width: number } } }
  ).model.spatial ?? { channels: 0, height: 0, width: 0 };
  const before = await Promise.all(spatials.map((s) => engine.runTail(s, 1)));
  const refs = before.map((b) => new Reference(chwToRgba(b, 3, S, S, range), S, S));
  const hw = sp.height * sp.width;
  const rows = spatials.map((s) => nchwToRows(s, 1, sp.channels, sp.height, sp.width));
  return {
    refs,
    cell: null,
    async render(jobs) {
      const n = jobs.length;
      let images: Float32Array;
      if (latent) {
        const z = new Float32Array(n * D);
        jobs.forEach((j, k) => {
          z.set(mus[j.example] as Float32Array, k * D);
          const w = sae.decoderRow(j.feature);
          for (let i = 0; i < D; i++) z[k * D + i] = (z[k * D + i] ?? 0) + j.value * (w[i] ?? 0);
        });
        images = await engine.decode(z, n);
      } else {
        const per = hw * D;
        const all = new Float32Array(n * sp.channels * hw);
        jobs.forEach((j, k) => {
          const r = (rows[j.example] as Float32Array).slice();
          const w = sae.decoderRow(j.feature);
          for (let p = 0; p < hw; p++) {
            for (let i = 0; i < D; i++) r[p * D + i] = (r[p * D + i] ?? 0) + j.value * (w[i] ?? 0);
          }
          all.set(rowsToNchw(r, 1, sp.channels, sp.height, sp.width), k * per);
        });
        images = await engine.runTail(all, n);
      }
      const plane = 3 * S * S;
      return jobs.map((_, k) => ({
        data: chwToRgba(images.subarray(k * plane, (k + 1) * plane), 3, S, S, range),
        width: S,
        height: S,
      }));
    },
    dispose: () => engine.dispose(),
  };
}

async function glyphRenderer(pack: LoadedPack, sae: Sae, examples: number[]): Promise<Renderer> {
  const engine = await GlyphEngine.load(pack);
  const ctx = { signal: new AbortController().signal };
  const styles = await Promise.all(examples.map((e) => engine.styleOf({ example: e }, ctx)));
  const cells = engine.charIds(SPECIMEN);
  const ids = cells.filter((c) => c >= 0);
  const S = (pack.manifest as { model: { glyph: { size: number } } }).model.glyph.size;
  const W = S * cells.length;
  const D = sae.dIn;
  const draw = async (batch: Float32Array[]): Promise<Rgba[]> => {
    const st = new Float32Array(batch.length * ids.length * D);
    const all: number[] = [];
    batch.forEach((s, b) => {
      ids.forEach((id, k) => {
        st.set(s, (b * ids.length + k) * D);
        all.push(id);
      });
    });
    const drawn = await engine.decode(st, all);
    const G = ids.length * S * S;
    return batch.map((_, b) => ({
      data: chwToRgba(engine.layout(cells, drawn.subarray(b * G, (b + 1) * G)), 1, S, W),
      width: W,
      height: S,
    }));
  };
  const refs = (await draw(styles)).map((r) => new Reference(r.data, W, S, true, 'ink'));
  return {
    refs,
    cell: S,
    render: (jobs) =>
      draw(
        jobs.map((j) => {
          const s = (styles[j.example] as Float32Array).slice();
          const w = sae.decoderRow(j.feature);
          for (let i = 0; i < D; i++) s[i] = (s[i] ?? 0) + j.value * (w[i] ?? 0);
          return s;
        }),
      ),
    dispose: () => engine.dispose(),
  };
}

/** Examples to measure on: the app's default input first, then a few spread over the corpus. */
export function measureExamples(nExamples: number, count: number): number[] {
  const out = [0];
  for (let k = 1; k < count; k++) {
    const e = Math.floor((k * nExamples) / count);
    if (e > 0 && e < nExamples && !out.includes(e)) out.push(e);
  }
  return out;
}

/** The strength between two grid points where the SSIM curve crosses `level` (log-linear),
 * taken a tenth short of it so the dial's last tick stays above the level. */
export function crossing(
  lo: { multiple: number; ssim: number },
  hi: { multiple: number; ssim: number },
  level: number,
): number {
  if (hi.ssim >= lo.ssim) return lo.multiple;
  const f = Math.max(0, Math.min(1, (lo.ssim - level) / (lo.ssim - hi.ssim)));
  const m = lo.multiple * (hi.multiple / lo.multiple) ** f;
  return Math.max(lo.multiple, lo.multiple + (m - lo.multiple) * 0.9);
}

export interface EffectFigures {
  features: number;
  measured: number;
  reached: number;
  withWords: number;
  decodes: number;
  seconds: number;
}

export async function effectsStage(
  db: Db,
  pack: LoadedPack,
  saeId: string,
  hook: string,
  sae: Sae,
  o: {
    signal?: AbortSignal;
    onProgress?: (done: number, total: number) => void;
    examples?: number;
    batch?: number;
  } = {},
): Promise<EffectFigures | null> {
  const kind = pack.manifest.kind;
  if (kind !== 'image-vae' && kind !== 'glyph-cvae') return null;
  const t0 = performance.now();
  const nEx = (db.prepare('select count(*) as n from examples').get() as { n: number }).n;
  const examples = measureExamples(
    nEx,
    o.examples ?? (hook === LATENT_HOOK || kind === 'glyph-cvae' ? 2 : 1),
  );
  const r =
    kind === 'image-vae'
      ? await imageRenderer(pack, hook, sae, examples)
      : await glyphRenderer(pack, sae, examples);
  const features = db
    .prepare(
      'select idx, mean_act, max_act from features where sae_id = ? and n_active > 0 order by idx',
    )
    .all(saeId) as { idx: number; mean_act: number; max_act: number }[];
  const batch = o.batch ?? 16;
  const upd = db.prepare(
    'update features set descriptors = ?, calibration = ? where sae_id = ? and idx = ?',
  );
  const clear = db.prepare(
    'update features set descriptors = null, calibration = null where sae_id = ?',
  );
  let decodes = 0;
  let reached = 0;
  let withWords = 0;
  const out: { idx: number; desc: Descriptors; cal: Calibration }[] = [];
  // several features at a time, each walking up the grid until it crosses the level
  type Walk = {
    idx: number;
    typical: number;
    step: number;
    curve: { multiple: number; ssim: number }[];
    imgs: Rgba[][];
    done: boolean;
  };
  try {
    for (let f0 = 0; f0 < features.length; f0 += batch) {
      if (o.signal?.aborted) throw new Error('cancelled');
      const walks: Walk[] = features.slice(f0, f0 + batch).map((f) => ({
        idx: f.idx,
        typical: f.mean_act > 0 ? f.mean_act : f.max_act,
        step: 0,
        curve: [],
        imgs: [],
        done: false,
      }));
      while (walks.some((w) => !w.done)) {
        const live = walks.filter((w) => !w.done);
        const jobs = live.flatMap((w) =>
          examples.map((_, e) => ({
            example: e,
            feature: w.idx,
            value: w.typical * (MULTIPLES[w.step] ?? 1),
          })),
        );
        const imgs = await r.render(jobs);
        decodes += jobs.length;
        live.forEach((w, k) => {
          const mine = imgs.slice(k * examples.length, (k + 1) * examples.length);
          const ssim = Math.min(
            ...mine.map((img, e) => (r.refs[e] as Reference).compare(img.data).metrics.ssim),
          );
          w.curve.push({ multiple: MULTIPLES[w.step] ?? 1, ssim });
          w.imgs.push(mine);
          w.step++;
          if (ssim < CALIBRATION_SSIM || w.step >= MULTIPLES.length) w.done = true;
        });
      }
      for (const w of walks) {
        const last = w.curve[w.curve.length - 1] as { multiple: number; ssim: number };
        const hit = last.ssim < CALIBRATION_SSIM;
        const prev = w.curve.length >= 2 ? (w.curve[w.curve.length - 2] as typeof last) : null;
        const multiple = hit
          ? crossing(prev ?? { multiple: 0, ssim: 1 }, last, CALIBRATION_SSIM)
          : last.multiple;
        if (hit) reached++;
        // the effect, measured at the strongest grid point still above the level (or the
        // first one, when even 1× went under it)
        const at = hit ? Math.max(0, w.curve.length - 2) : w.curve.length - 1;
        const shown = w.imgs[at] as Rgba[];
        const point = w.curve[at] as { multiple: number; ssim: number };
        const desc = describe(kind, r, shown, examples, w.typical * point.multiple, point);
        if (desc.adjectives.length) withWords++;
        out.push({
          idx: w.idx,
          desc,
          cal: {
            version: effectsVersion(kind),
            method: 'add',
            measure: kind === 'glyph-cvae' ? 'ink-ssim' : 'ssim',
            typical: w.typical,
            limit: w.typical * Math.max(multiple, 0.25),
            level: CALIBRATION_SSIM,
            reached: hit,
            examples,
            curve: w.curve.map((c) => ({ multiple: c.multiple, ssim: Number(c.ssim.toFixed(4)) })),
          },
        });
      }
      o.onProgress?.(Math.min(features.length, f0 + batch), features.length);
    }
  } finally {
    await r.dispose();
  }
  const figures: EffectFigures = {
    features: features.length,
    measured: out.length,
    reached,
    withWords,
    decodes,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
  };
  db.transaction(() => {
    clear.run(saeId);
    for (const x of out) upd.run(JSON.stringify(x.desc), JSON.stringify(x.cal), saeId, x.idx);
    recordStage(db, saeId, 'effects', effectsVersion(kind), { ...figures, examples });
  })();
  return figures;
}

function describe(
  kind: string,
  r: Renderer,
  after: Rgba[],
  examples: number[],
  strength: number,
  point: { multiple: number; ssim: number },
): Descriptors {
  const base = {
    version: effectsVersion(kind),
    strength,
    multiple: point.multiple,
    examples,
    ssim: Number(point.ssim.toFixed(4)),
  };
  const before = r.refs.map((ref) => ({ data: ref.rgba, width: ref.width, height: ref.height }));
  if (kind === 'glyph-cvae') {
    const ms = after.map((a, e) => measureGlyphs(before[e] as Rgba, a, r.cell ?? 64));
    const mean = (f: (m: (typeof ms)[number]) => number) =>
      ms.reduce((s, m) => s + f(m), 0) / ms.length;
    const g = { ink: mean((m) => m.ink), slant: mean((m) => m.slant), width: mean((m) => m.width) };
    return { ...base, kind: 'glyphs', glyphs: round(g), ...summarize(glyphWords(g)) };
  }
  const ms = after.map((a, e) => measureImage(before[e] as Rgba, a));
  // colour direction: the mean change vector over the examples
  let da = 0;
  let db = 0;
  for (const m of ms) {
    if (m.towardHue === null) continue;
    da += (m.towardChroma * Math.cos((m.towardHue * Math.PI) / 180)) / ms.length;
    db += (m.towardChroma * Math.sin((m.towardHue * Math.PI) / 180)) / ms.length;
  }
  const chroma = Math.hypot(da, db);
  const hue = chroma > 1e-4 ? ((Math.atan2(db, da) * 180) / Math.PI + 360) % 360 : null;
  const mean = (f: (m: (typeof ms)[number]) => number) =>
    ms.reduce((s, m) => s + f(m), 0) / ms.length;
  const dominant = [0, 1, 2].map((c) => Math.round(mean((m) => m.dominant[c] ?? 0))) as [
    number,
    number,
    number,
  ];
  const im = {
    towardHue: hue,
    towardChroma: chroma,
    dominant,
    lightness: mean((m) => m.lightness),
    saturation: mean((m) => m.saturation),
    contrast: mean((m) => m.contrast),
    edges: mean((m) => m.edges),
  };
  return {
    ...base,
    kind: 'image',
    image: {
      ...round(im),
      dominant,
      towardHue: hue === null ? null : Math.round(hue),
      towardName: hue === null ? null : hueName(hue).name,
      dominantHex: hex(dominant),
      dominantName: colourName(dominant),
    },
    ...summarize(imageWords(im)),
  };
}

function round<T extends object>(o: T): T {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toFixed(4)) : v]),
  ) as T;
}
