/**
 * Output images as the page draws them (8-bit RGBA, row-major) and how far "after" is from
 * "before", computed in the inference worker on the raw pixels, before any PNG:
 * - pixel Δ: mean absolute difference over R, G and B, 0–255;
 * - changed: the share of pixels pixelmatch calls different at threshold 0.05 (the package
 *   itself decides, so the definition is its own);
 * - SSIM: what ssim.js's `ssim(a, b).mssim` gives with its defaults (integer grey, "weber"
 *   window sums, 11 × 11 windows, k1 0.01, k2 0.03), re-done here so that the "before"
 *   half (grey image, window sums and variances) is computed once per before-image;
 *   for lines of letters ("ink" references: the typeface packs) the mean is taken over the
 *   windows that hold ink in either image only, so the blank paper around the letters (most
 *   of a specimen) does not keep SSIM high while the letters themselves are ruined;
 * - a difference heatmap (RGBA).
 * A Reference holds one before-image and what is derived from it; an engine keeps it with
 * its unsteered output, so a dial drag costs one pass over the after-image.
 */
import { encodePng } from './pngEncode';
import { to8 } from './imageIo';
import { pixelmatch, ssimJs } from '../../packages';

export interface ImageMetrics {
  /** Mean absolute difference over RGB, 0–255. */
  meanAbs: number;
  /** Share of pixels pixelmatch (threshold 0.05) calls different, 0–1. */
  changedShare: number;
  /** Mean SSIM (ssim.js defaults), 1 = the same; over the windows with ink when `ssimOver`
   * is 'ink'. */
  ssim: number;
  /** What the SSIM is the mean over: the whole image, or the windows holding ink in either
   * image (lines of letters). */
  ssimOver: SsimOver;
}

export type SsimOver = 'image' | 'ink';

/** A pixel is ink when its grey differs from the paper's (the before-image's commonest grey)
 * by more than this (of 255). */
const INK_CONTRAST = 64;

export interface Comparison {
  metrics: ImageMetrics;
  /** [height, width, 4] RGBA: where they differ, warm over a dimmed grey before-image. */
  heatmap: Uint8Array;
}

/** A planar tensor [channels, height, width] (channels 1 = grey, 3 = RGB) → RGBA bytes. */
export function chwToRgba(
  chw: Float32Array,
  channels: 1 | 3,
  height: number,
  width: number,
  range: readonly [number, number] = [0, 1],
): Uint8Array {
  const plane = height * width;
  if (chw.length !== channels * plane) {
    throw new RangeError(
      `image tensor has ${chw.length} values for [${channels}, ${height}, ${width}]`,
    );
  }
  const [lo, hi] = range;
  const out = new Uint8Array(plane * 4);
  for (let p = 0; p < plane; p++) {
    const o = p * 4;
    if (channels === 1) {
      const v = to8(((chw[p] ?? 0) - lo) / (hi - lo));
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
    } else {
      out[o] = to8(((chw[p] ?? 0) - lo) / (hi - lo));
      out[o + 1] = to8(((chw[plane + p] ?? 0) - lo) / (hi - lo));
      out[o + 2] = to8(((chw[2 * plane + p] ?? 0) - lo) / (hi - lo));
    }
    out[o + 3] = 255;
  }
  return out;
}

/** RGBA (opaque) → PNG file bytes, grey (one channel) or RGB. */
export function rgbaToPng(
  rgba: Uint8Array,
  width: number,
  height: number,
  grey: boolean,
): Uint8Array {
  const n = width * height;
  const channels = grey ? 1 : 3;
  const px = new Uint8Array(n * channels);
  for (let p = 0; p < n; p++) {
    if (grey) px[p] = rgba[p * 4] ?? 0;
    else {
      px[p * 3] = rgba[p * 4] ?? 0;
      px[p * 3 + 1] = rgba[p * 4 + 1] ?? 0;
      px[p * 3 + 2] = rgba[p * 4 + 2] ?? 0;
    }
  }
  return encodePng(px, width, height, channels);
}

// ---------------------------------------------------------------- SSIM (ssim.js "weber")

const WINDOW = 11;
const K1 = 0.01;
const K2 = 0.03;
const L = 255;
const C1 = K1 * L * (K1 * L);
const C2 = K2 * L * (K2 * L);

/** ssim.js's rgb2grayInteger. */
function greyOf(rgba: Uint8Array, n: number): Int32Array {
  const g = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const i = p * 4;
    g[p] = (77 * (rgba[i] ?? 0) + 150 * (rgba[i + 1] ?? 0) + 29 * (rgba[i + 2] ?? 0) + 128) >> 8;
  }
  return g;
}

/**
 * Sums of f over every WINDOW × WINDOW window (top-left at (x, y), x < W − 10, y < H − 10),
 * row-major. Exact: integers well inside 2^53.
 */
function windowSums(
  width: number,
  height: number,
  f: (p: number) => number,
): { sums: Float64Array; ww: number; wh: number } {
  const ww = Math.max(0, width - WINDOW + 1);
  const wh = Math.max(0, height - WINDOW + 1);
  const mw = width + 1;
  const integral = new Float64Array(mw * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += f(y * width + x);
      integral[(y + 1) * mw + x + 1] = (integral[y * mw + x + 1] ?? 0) + row;
    }
  }
  const sums = new Float64Array(ww * wh);
  for (let y = 0; y < wh; y++) {
    for (let x = 0; x < ww; x++) {
      sums[y * ww + x] =
        (integral[(y + WINDOW) * mw + x + WINDOW] ?? 0) -
        (integral[y * mw + x + WINDOW] ?? 0) -
        (integral[(y + WINDOW) * mw + x] ?? 0) +
        (integral[y * mw + x] ?? 0);
    }
  }
  return { sums, ww, wh };
}

/** ssim.js windowVariance: 1024 × the window variance, truncated to an integer (as it stores it). */
function varianceOf(sums: Float64Array, sq: Float64Array): Int32Array {
  const ws2 = WINDOW * WINDOW;
  const out = new Int32Array(sums.length);
  for (let i = 0; i < sums.length; i++) {
    const mean = (sums[i] ?? 0) / ws2;
    const sumSquares = (sq[i] ?? 0) / ws2;
    const squareMeans = mean * mean;
    out[i] = 1024 * (sumSquares - squareMeans);
  }
  return out;
}

interface SsimHalf {
  grey: Int32Array;
  sums: Float64Array;
  variance: Int32Array;
}

function ssimHalf(rgba: Uint8Array, width: number, height: number): SsimHalf {
  const grey = greyOf(rgba, width * height);
  const { sums } = windowSums(width, height, (p) => grey[p] ?? 0);
  const { sums: sq } = windowSums(width, height, (p) => (grey[p] ?? 0) * (grey[p] ?? 0));
  return { grey, sums, variance: varianceOf(sums, sq) };
}

/** The commonest grey of an image: the paper a line of letters is drawn on. */
export function paperGrey(grey: Int32Array): number {
  const counts = new Uint32Array(256);
  for (const g of grey) counts[g] = (counts[g] ?? 0) + 1;
  let best = 0;
  for (let g = 1; g < 256; g++) if ((counts[g] ?? 0) > (counts[best] ?? 0)) best = g;
  return best;
}

/** Per SSIM window, how many of its pixels are ink (differ from `paper` by > INK_CONTRAST). */
function inkSums(grey: Int32Array, paper: number, width: number, height: number): Float64Array {
  return windowSums(width, height, (p) => (Math.abs((grey[p] ?? 0) - paper) > INK_CONTRAST ? 1 : 0))
    .sums;
}

/** Mean SSIM over the windows (all, or those `keep` marks); 1 when no window is kept. */
function ssimOf(
  a: SsimHalf,
  b: SsimHalf,
  width: number,
  height: number,
  keep: ((i: number) => boolean) | null = null,
): number {
  const ws2 = WINDOW * WINDOW;
  const { sums: cross } = windowSums(width, height, (p) => (a.grey[p] ?? 0) * (b.grey[p] ?? 0));
  let mssim = 1;
  let kept = 0;
  for (let i = 0; i < a.sums.length; i++) {
    if (keep && !keep(i)) continue;
    const s1 = a.sums[i] ?? 0;
    const s2 = b.sums[i] ?? 0;
    // ssim.js keeps 1024 × the covariance as an integer (truncated), as for the variances
    const cov1024 = (1024 * ((cross[i] ?? 0) / ws2 - (s1 / ws2) * (s2 / ws2))) | 0;
    const meanx = s1 / ws2;
    const meany = s2 / ws2;
    const varx = (a.variance[i] ?? 0) / 1024;
    const vary = (b.variance[i] ?? 0) / 1024;
    const cov = cov1024 / 1024;
    const na = 2 * meanx * meany + C1;
    const nb = 2 * cov + C2;
    const da = meanx * meanx + meany * meany + C1;
    const db = varx + vary + C2;
    const s = (na * nb) / da / db;
    kept++;
    mssim = kept === 1 ? s : mssim + (s - mssim) / kept;
  }
  return mssim;
}

/**
 * Where ssim.js does something else, it does the work: it shrinks images whose shorter side
 * is 384 px or more, and has its own answers for images smaller than its window.
 */
function ssimJsOwnCase(width: number, height: number): boolean {
  return Math.round(Math.min(width, height) / 256) > 1 || width < WINDOW || height < WINDOW;
}

// ---------------------------------------------------------------- heatmap

/**
 * Where two images differ: the largest channel difference per pixel, scaled to the largest
 * in the image, in warm colours over a dimmed grey copy of the first image.
 */
export function differenceHeatmap(a: Uint8Array, b: Uint8Array, n: number): Uint8Array {
  const diff = new Float32Array(n);
  let max = 0;
  for (let p = 0; p < n; p++) {
    const i = p * 4;
    const d = Math.max(
      Math.abs((a[i] ?? 0) - (b[i] ?? 0)),
      Math.abs((a[i + 1] ?? 0) - (b[i + 1] ?? 0)),
      Math.abs((a[i + 2] ?? 0) - (b[i + 2] ?? 0)),
    );
    diff[p] = d;
    if (d > max) max = d;
  }
  const out = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    const i = p * 4;
    const grey = 0.25 * (0.3 * (a[i] ?? 0) + 0.59 * (a[i + 1] ?? 0) + 0.11 * (a[i + 2] ?? 0));
    const t = max > 0 ? (diff[p] ?? 0) / max : 0;
    out[i] = grey + t * (255 - grey);
    out[i + 1] = grey + t * t * (200 - grey);
    out[i + 2] = grey * (1 - t) + t * 40;
    out[i + 3] = 255;
  }
  return new Uint8Array(out.buffer);
}

// ---------------------------------------------------------------- the before-image

/** One before-image and what every comparison with it reuses. */
export class Reference {
  private half: SsimHalf | null = null;
  private ink: { paper: number; sums: Float64Array } | null = null;
  private self: Comparison | null = null;
  private png: Uint8Array | null = null;

  constructor(
    /** [height, width, 4] */
    readonly rgba: Uint8Array,
    readonly width: number,
    readonly height: number,
    /** A grey image (R = G = B): its PNG is written with one channel. */
    readonly grey = false,
    /** 'ink': a line of letters, whose SSIM is over the windows with ink (see above). */
    readonly ssimOver: SsimOver = 'image',
  ) {
    if (rgba.length !== width * height * 4) {
      throw new RangeError(`RGBA has ${rgba.length} bytes for ${width} × ${height}`);
    }
  }

  /** The before-image as PNG bytes, encoded once. */
  pngBytes(): Uint8Array {
    this.png ??= rgbaToPng(this.rgba, this.width, this.height, this.grey);
    return this.png;
  }

  /** Metrics and heatmap of an after-image (same size) against this before-image. */
  compare(after: Uint8Array): Comparison {
    if (after === this.rgba && this.self) return this.self;
    const { width: w, height: h } = this;
    const n = w * h;
    if (after.length !== n * 4) {
      throw new RangeError(`after-image has ${after.length} bytes; before has ${n * 4}`);
    }
    let sum = 0;
    for (let p = 0; p < n; p++) {
      const i = p * 4;
      sum += Math.abs((this.rgba[i] ?? 0) - (after[i] ?? 0));
      sum += Math.abs((this.rgba[i + 1] ?? 0) - (after[i + 1] ?? 0));
      sum += Math.abs((this.rgba[i + 2] ?? 0) - (after[i + 2] ?? 0));
    }
    const changed = pixelmatch().default(this.rgba, after, undefined, w, h, { threshold: 0.05 });
    let ssim: number;
    // where ssim.js does the work (very large or tiny images) it is over the whole image
    const over: SsimOver = ssimJsOwnCase(w, h) ? 'image' : this.ssimOver;
    if (ssimJsOwnCase(w, h)) {
      try {
        ssim = ssimJs().ssim(
          { data: new Uint8ClampedArray(this.rgba), width: w, height: h },
          { data: new Uint8ClampedArray(after), width: w, height: h },
        ).mssim;
      } catch {
        // ssim.js throws on an image narrower than its window in one direction only
        ssim = after === this.rgba ? 1 : 0;
      }
    } else {
      const half = (this.half ??= ssimHalf(this.rgba, w, h));
      const other = after === this.rgba ? half : ssimHalf(after, w, h);
      let keep: ((i: number) => boolean) | null = null;
      if (this.ssimOver === 'ink') {
        if (!this.ink) {
          const paper = paperGrey(half.grey);
          this.ink = { paper, sums: inkSums(half.grey, paper, w, h) };
        }
        const before = this.ink.sums;
        const inAfter = after === this.rgba ? before : inkSums(other.grey, this.ink.paper, w, h);
        keep = (i) => (before[i] ?? 0) + (inAfter[i] ?? 0) > 0;
      }
      ssim = ssimOf(half, other, w, h, keep);
    }
    const out: Comparison = {
      metrics: {
        meanAbs: sum / (n * 3),
        changedShare: changed / n,
        ssim,
        ssimOver: over,
      },
      heatmap: differenceHeatmap(this.rgba, after, n),
    };
    if (after === this.rgba) this.self = out;
    return out;
  }
}

/** What an image or glyph engine answers: the contract's ImageOutput, plus PNGs to keep. */
export interface ImageRun {
  width: number;
  height: number;
  before: Uint8Array;
  after: Uint8Array;
  heatmap: Uint8Array;
  metrics: ImageMetrics;
  changed: boolean;
  ms: number;
  /** PNG bytes of both, when the run is to be saved as a session step (else null). */
  png: { before: Uint8Array; after: Uint8Array } | null;
}

/** A run's answer: `after` null means no dial is off rest (after is before). */
export function imageRun(
  before: Reference,
  after: Uint8Array | null,
  opts: { png: boolean; t0: number },
): ImageRun {
  const a = after ?? before.rgba;
  const { metrics, heatmap } = before.compare(a);
  const png = opts.png
    ? {
        before: before.pngBytes(),
        after: after ? rgbaToPng(a, before.width, before.height, before.grey) : before.pngBytes(),
      }
    : null;
  return {
    width: before.width,
    height: before.height,
    before: before.rgba,
    after: a,
    heatmap,
    metrics,
    changed: after !== null,
    ms: performance.now() - opts.t0,
    png,
  };
}
