/**
 * Star colours: a calm palette for clusters on the dark ground (muted, evenly spaced hues,
 * none louder than the accent), and a point size from density. Pure.
 */
const HEX = [
  '#7fa7e8', // blue
  '#e0b07a', // sand
  '#8cc9a8', // sage
  '#c99ad9', // lilac
  '#e39a9a', // rose
  '#79c4cc', // teal
  '#d4c77a', // straw
  '#a5a0e8', // periwinkle
  '#e0a3c4', // pink
  '#9ccf86', // moss
  '#d9b39a', // clay
  '#88b7d9', // sky
];
const NONE = '#6f788c';

function rgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
}

const TABLE = HEX.map(rgb);
const NONE_RGB = rgb(NONE);

export function clusterColor(id: number): [number, number, number] {
  if (id < 0) return NONE_RGB;
  return TABLE[id % TABLE.length] ?? NONE_RGB;
}

export function clusterHex(id: number): string {
  return id < 0 ? NONE : (HEX[id % HEX.length] ?? NONE);
}

/** Per point RGB (0..1) from its cluster. */
export function pointColors(cluster: Int32Array): Float32Array {
  const out = new Float32Array(cluster.length * 3);
  for (let i = 0; i < cluster.length; i++) out.set(clusterColor(cluster[i] ?? -1), i * 3);
  return out;
}

/**
 * World-space size per point: dense features are bigger stars. Densities span decades, so
 * the size follows log density, from 0.5× to 1.6× of `base`.
 */
export function pointSizes(density: Float32Array, base: number): Float32Array {
  const out = new Float32Array(density.length);
  const lo = Math.log10(1e-5);
  for (let i = 0; i < density.length; i++) {
    const d = Math.max(density[i] ?? 0, 1e-5);
    const t = Math.min(1, Math.max(0, (Math.log10(d) - lo) / -lo));
    out[i] = base * (0.5 + 1.1 * t);
  }
  return out;
}
