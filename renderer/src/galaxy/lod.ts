/**
 * Level of detail for the star field. Points are drawn from an importance order whose end
 * holds the brightest stars (densest features, brightest last, so on top) and before them a
 * random sample of the rest; a zoom-dependent count of that order's tail is drawn. Zoomed out,
 * a million points show as a sampled density of light with the bright stars on top; flying
 * in draws more, up to all. Pure: no DOM, no three.
 */
import { perDensityLevel, type DensityScale } from '../../../preload/contract/mapWire';

/** The smallest band of the sample sorted by index. */
const BAND = 32_768;

/** Share of the points (at most) that count as "brightest". */
const BRIGHT_SHARE = 1 / 64;

/** A small seeded generator (mulberry32): the same sample for the same seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The histogram bin of a density: log density from 1e-12 to 1 in `BINS` steps. */
const BINS = 512;
function densityBin(d: number): number {
  return Math.min(
    BINS - 1,
    Math.max(0, Math.floor(((Math.log10(Math.max(d, 1e-12)) + 12) / 12) * BINS)),
  );
}

/**
 * The draw order: a seeded random permutation of the ordinary points, then the brightest
 * (density at or above the top-1/64 threshold) by ascending density. Drawing the last k
 * entries draws the brightest and a uniform sample of the rest.
 */
export function importanceOrder(density: Float32Array, seed = 1): Uint32Array {
  return orderBy(density, densityBin, seed);
}

/**
 * The same order from a map's 16-bit density levels (mapWire.ts): levels rise with density,
 * so they order and bin the points as their densities do, and no density is decoded.
 */
export function importanceOrderOfLevels(
  levels: Uint16Array,
  scale: DensityScale,
  seed = 1,
): Uint32Array {
  return orderBy(levels, perDensityLevel(scale, densityBin), seed);
}

/** The order from a key per point that rises with density, and the key's histogram bin. */
function orderBy(
  key: Float32Array | Uint16Array,
  bin: (k: number) => number,
  seed: number,
): Uint32Array {
  const n = key.length;
  const order = new Uint32Array(n);
  // The brightness threshold from a histogram of log density (no sort of n values).
  const hist = new Uint32Array(BINS);
  for (let i = 0; i < n; i++) {
    const b = bin(key[i] as number);
    hist[b] = (hist[b] as number) + 1;
  }
  const want = Math.floor(n * BRIGHT_SHARE);
  let cut = BINS;
  for (let seen = 0; cut > 0 && seen + (hist[cut - 1] as number) <= want;)
    seen += hist[--cut] as number;
  let rest = 0;
  let bright = n;
  for (let i = 0; i < n; i++) {
    if (bin(key[i] as number) >= cut) order[--bright] = i;
    else order[rest++] = i;
  }
  const r = rng(seed);
  for (let i = rest - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  order.subarray(rest).sort((a, b) => (key[a] as number) - (key[b] as number) || a - b);
  // The sample in bands, doubling from the end (32k, 32k, 64k, …), each sorted by index: any
  // tail is still a uniform sample, and memory is read in order within a band.
  for (let end = rest, size = BAND, band = 0; end > 0; band++) {
    const start = Math.max(0, end - size);
    order.subarray(start, end).sort();
    end = start;
    if (band > 0) size *= 2;
  }
  return order;
}

/** Point → its position in the order. */
export function rankOf(order: Uint32Array): Uint32Array {
  const rank = new Uint32Array(order.length);
  for (let k = 0; k < order.length; k++) rank[order[k] as number] = k;
  return rank;
}

/**
 * How many points to draw: `perPixel` points per CSS pixel of the viewport at the home
 * distance, growing with the square of the zoom (the map's screen area), never fewer than
 * `floor` nor more than all.
 */
export function lodCount(
  n: number,
  distance: number,
  homeDistance: number,
  cssPixels: number,
  perPixel: number,
  floor = 50_000,
): number {
  const zoom = homeDistance / Math.max(distance, 1e-9);
  const want = cssPixels * perPixel * zoom * zoom;
  return Math.min(n, Math.max(Math.min(n, floor), Math.round(want)));
}
