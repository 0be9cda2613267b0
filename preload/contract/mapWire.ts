/**
 * index.map's arrays on the wire, compact (issue 14: a million positions cost the page its
 * bytes, ~25 ms a MiB into chromium): positions quantised to 16 bits per axis against the map's
 * bounding box, density to 16 bits of log₂ against its own range, the feature ids left out when
 * point i is feature i, cluster ids in 8 or 16 bits when they fit. 1M points: 9 MiB (24 stored).
 *
 * Precision of a position: within step/2 per axis, step = (max − min) / 65535 of that axis,
 * i.e. ≤ 1/131070 of the map's extent (plus float32 rounding). With the galaxy's camera
 * (fov 50°, a search flight at 0.35 of the map's radius), that is under 0.1 px on a 1080 px
 * canvas, and under 0.2 px at the closest framing the app flies to.
 *
 * Precision of a density: 0 stays 0; a positive density d is 2^(min + (q − 1) · step) with
 * step = (log₂ max − log₂ min) / 65534 over the map's positive densities, so within a factor
 * 2^(step/2) of d: 1.05e-4 relative for densities from 1e-6 to 1 (the smallest and largest come
 * back as they were, up to float32 rounding). A filter bound is put through the same levels
 * (snapDensity), so a density equal to the bound is always on the inside; only a density within
 * that relative distance of a bound can land on the other side of it. Pure: no Node, no DOM.
 */

/** Quantisation levels per axis (a position is min + q · step, q in 0…POSITION_LEVELS). */
export const POSITION_LEVELS = 65535;

/** A point without a cluster, in the 16-bit cluster array. */
export const NO_CLUSTER_U16 = 0xffff;

/** A point without a cluster, in the 8-bit cluster array. */
export const NO_CLUSTER_U8 = 0xff;

/** Density levels: 0 is a density of 0, 1…DENSITY_LEVELS the positive range in log₂. */
export const DENSITY_LEVELS = 65535;

/** Where the 16-bit positions sit: x = min[0] + q · step[0], and so on per axis. */
export interface MapBox {
  min: [number, number, number];
  step: [number, number, number];
}

/** Where the 16-bit densities sit: level q ≥ 1 is 2^(min + (q − 1) · step), level 0 is 0. */
export interface DensityScale {
  min: number;
  step: number;
}

/** The map's arrays as index.map sends them. */
export interface MapWireArrays {
  count: number;
  /** [count] the feature of each point, or null when point i is feature i. */
  features: Uint32Array | null;
  /** [count × 3] positions quantised against `box`. */
  positions: Uint16Array;
  box: MapBox;
  /**
   * The radius of the sphere around the box's centre that holds every quantised point (≥ 1e-3):
   * measured where the positions are quantised, so the page frames the map without a pass
   * over them.
   */
  radius: number;
  /** [count] fraction of examples on which the feature fires, in levels of `densityScale`. */
  density: Uint16Array;
  densityScale: DensityScale;
  /** [count] cluster id: 8 or 16 bits with all ones for none when every id fits, else −1 for none. */
  cluster: Uint8Array | Uint16Array | Int32Array;
}

/** The map's arrays as the galaxy uses them. */
export interface MapArrays {
  count: number;
  features: Uint32Array;
  positions: Float32Array;
  /** Within a factor 2^(densityScale.step / 2) of the stored densities. */
  density: Float32Array;
  densityScale: DensityScale;
  /** −1 for none. */
  cluster: Int32Array;
  /** The sphere around the positions' box centre that holds every point (radius ≥ 1e-3). */
  bounds: { center: [number, number, number]; radius: number };
}

/** The same arrays as read from the index: clusters as stored (u32, 0xffffffff for none). */
export interface StoredMapArrays {
  count: number;
  features: Uint32Array;
  positions: Float32Array;
  density: Float32Array;
  cluster: Uint32Array | Int32Array;
}

function isIdentity(features: Uint32Array, count: number): boolean {
  for (let i = 0; i < count; i++) if (features[i] !== i) return false;
  return true;
}

/** Quantises [count × 3] positions to 16 bits per axis against their bounding box. */
export function quantisePositions(
  xyz: Float32Array,
  count: number,
): { positions: Uint16Array; box: MapBox; radius: number } {
  // One pass, the six bounds in locals (indexing small arrays in the loop was 3× slower).
  let x0 = Infinity;
  let y0 = Infinity;
  let z0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  let z1 = -Infinity;
  for (let i = 0; i < count * 3; i += 3) {
    const x = xyz[i] as number;
    const y = xyz[i + 1] as number;
    const z = xyz[i + 2] as number;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
    if (z < z0) z0 = z;
    if (z > z1) z1 = z;
  }
  const axis = (lo: number, hi: number): { min: number; step: number; scale: number } => {
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo)
      return { min: Number.isFinite(lo) ? lo : 0, step: 0, scale: 0 };
    return { min: lo, step: (hi - lo) / POSITION_LEVELS, scale: POSITION_LEVELS / (hi - lo) };
  };
  const ax = axis(x0, x1);
  const ay = axis(y0, y1);
  const az = axis(z0, z1);
  const out = new Uint16Array(count * 3);
  const [mx, my, mz, sx, sy, sz] = [ax.min, ay.min, az.min, ax.scale, ay.scale, az.scale];
  const box: MapBox = { min: [mx, my, mz], step: [ax.step, ay.step, az.step] };
  const [cx, cy, cz] = boxCentre(box);
  const [qx, qy, qz] = box.step;
  let r2 = 0;
  // Storing v + 0.5 truncates: rounds to the nearest level (v ≥ 0 here; NaN stores as 0). The
  // radius is measured on the decoded values (as the page will have them, in float32).
  for (let i = 0; i < count * 3; i += 3) {
    out[i] = ((xyz[i] as number) - mx) * sx + 0.5;
    out[i + 1] = ((xyz[i + 1] as number) - my) * sy + 0.5;
    out[i + 2] = ((xyz[i + 2] as number) - mz) * sz + 0.5;
    const dx = Math.fround(mx + (out[i] as number) * qx) - cx;
    const dy = Math.fround(my + (out[i + 1] as number) * qy) - cy;
    const dz = Math.fround(mz + (out[i + 2] as number) * qz) - cz;
    const d2 = dx * dx + dy * dy + dz * dz;
    if (d2 > r2) r2 = d2;
  }
  return { positions: out, box, radius: Math.max(Math.sqrt(r2), 1e-3) };
}

/** The centre of the positions' box (its ends are points' coordinates: levels 0 and 65535). */
export function boxCentre(box: MapBox): [number, number, number] {
  const [x0, y0, z0] = box.min;
  const [sx, sy, sz] = box.step;
  return [
    x0 + (sx * POSITION_LEVELS) / 2,
    y0 + (sy * POSITION_LEVELS) / 2,
    z0 + (sz * POSITION_LEVELS) / 2,
  ];
}

/** Float positions back from 16-bit ones (what the galaxy draws, picks and lassos). */
export function dequantisePositions(q: Uint16Array, box: MapBox): Float32Array {
  const out = new Float32Array(q.length);
  const [x0, y0, z0] = box.min;
  const [sx, sy, sz] = box.step;
  for (let i = 0; i < q.length; i += 3) {
    out[i] = x0 + (q[i] as number) * sx;
    out[i + 1] = y0 + (q[i + 1] as number) * sy;
    out[i + 2] = z0 + (q[i + 2] as number) * sz;
  }
  return out;
}

/** Cluster ids in 8 or 16 bits when every id fits (none → all ones), else as i32 (none → −1). */
function packClusters(
  cluster: Uint32Array | Int32Array,
  count: number,
): Uint8Array | Uint16Array | Int32Array {
  const signed =
    cluster instanceof Int32Array
      ? cluster
      : new Int32Array(cluster.buffer, cluster.byteOffset, count);
  let max = -1;
  for (let i = 0; i < count; i++) {
    const c = signed[i] as number;
    if (c < -1) return signed.subarray(0, count);
    if (c > max) max = c;
  }
  if (max >= NO_CLUSTER_U16) return signed.subarray(0, count);
  const out = max < NO_CLUSTER_U8 ? new Uint8Array(count) : new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = signed[i] as number; // −1 wraps to all ones
  return out;
}

/** The level of a positive density d (as float32) on `scale` (one rule for the wire and the filters). */
function densityLevel(d: number, min: number, perStep: number): number {
  // Truncating v + 0.5 rounds (v ≥ 0 inside the range); level 1 is the smallest density.
  return Math.min(DENSITY_LEVELS, Math.max(1, Math.floor((Math.log2(d) - min) * perStep + 1.5)));
}

/** Densities (fractions in [0, 1]) as 16-bit levels of log₂ against their positive range. */
export function quantiseDensity(
  density: Float32Array,
  count: number,
): { density: Uint16Array; densityScale: DensityScale } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < count; i++) {
    const d = density[i] as number;
    if (d > 0 && d < lo) lo = d;
    if (d > hi) hi = d;
  }
  const out = new Uint16Array(count);
  if (!(lo <= hi)) return { density: out, densityScale: { min: 0, step: 0 } }; // none above 0
  const min = Math.log2(lo);
  const step = hi > lo ? (Math.log2(hi) - min) / (DENSITY_LEVELS - 1) : 0;
  const perStep = step > 0 ? 1 / step : 0;
  for (let i = 0; i < count; i++) {
    const d = density[i] as number;
    out[i] = d > 0 ? densityLevel(d, min, perStep) : 0;
  }
  return { density: out, densityScale: { min, step } };
}

/** The density level q stands for (level 0 → 0), as float32. */
const densityOfLevel = (scale: DensityScale, q: number): number =>
  q === 0 ? 0 : Math.fround(2 ** (scale.min + (q - 1) * scale.step));

/**
 * `f` of the density each level stands for, as a function of the level, each level's value
 * made on its first use and kept (in float32): a map with fewer points than levels (the
 * default packs' 4,096 against 65,536) computes only the levels it has, where a whole table
 * cost ~10 ms of cold code on the galaxy's first render; a million points read every level
 * once, as a table did.
 */
export function perDensityLevel(
  scale: DensityScale,
  f: (density: number) => number,
): (level: number) => number {
  const made = new Float32Array(DENSITY_LEVELS + 1).fill(Number.NaN);
  return (q) => {
    let v = made[q] as number;
    if (v !== v) {
      v = f(densityOfLevel(scale, q));
      made[q] = v;
    }
    return v;
  };
}

/**
 * A density bound (what a person types in a filter) put through the map's levels, so comparing
 * decoded densities with it compares levels: a density equal to the bound is on its inside.
 */
export function snapDensity(scale: DensityScale, d: number): number {
  if (!(d > 0)) return d;
  const l = Math.log2(d);
  const top = scale.min + (DENSITY_LEVELS - 1) * scale.step;
  // Outside the map's range no density lies between the bound and a level: keep it as typed.
  if (scale.step === 0 || l < scale.min || l > top) return d;
  const q = densityLevel(Math.fround(d), scale.min, 1 / scale.step);
  return Math.fround(2 ** (scale.min + (q - 1) * scale.step));
}

/** The index's arrays as index.map sends them. */
export function encodeMapArrays(m: StoredMapArrays): MapWireArrays {
  const { positions, box, radius } = quantisePositions(m.positions, m.count);
  return {
    count: m.count,
    features: isIdentity(m.features, m.count) ? null : m.features.subarray(0, m.count),
    positions,
    box,
    radius,
    ...quantiseDensity(m.density, m.count),
    cluster: packClusters(m.cluster, m.count),
  };
}

/** The map's arrays as the galaxy draws them: all but the float positions (MapArrays). */
export type MapAttributes = Omit<MapArrays, 'positions'>;

/**
 * index.map's arrays but the positions, as the galaxy uses them, with the positions' bounds
 * (the box's centre and the wire's radius); throws when an array has the wrong length. The
 * positions stay 16-bit: the galaxy draws them as they are (the GPU scales them by the box) and
 * decodes floats (dequantisePositions) only where the CPU needs them. One loop over the points
 * does every array (in a page each loop runs interpreted until V8 compiles it, which takes long
 * on a busy machine: one loop waits once). When point i is feature i (no ids on the wire), the
 * ids are made when first read (a million points: 4 MiB the galaxy mostly never reads).
 */
export function decodeMapAttributes(w: MapWireArrays): MapAttributes {
  checkMapWire(w);
  const n = w.count;
  const given = w.features;
  const dq = w.density;
  const cq = w.cluster;
  const density = new Float32Array(n);
  const wide = cq instanceof Int32Array;
  const cluster = wide ? cq : new Int32Array(n);
  const none = noCluster(cq);
  const densityAt = perDensityLevel(w.densityScale, (d) => d);
  for (let i = 0; i < n; i++) {
    density[i] = densityAt(dq[i] as number);
    if (!wide) {
      const c = cq[i] as number;
      cluster[i] = c === none ? -1 : c;
    }
  }
  let ids = given;
  return {
    count: n,
    get features() {
      return (ids ??= identityIds(n));
    },
    density,
    densityScale: w.densityScale,
    cluster,
    bounds: mapBounds(w),
  };
}

/** Throws when one of index.map's arrays has the wrong length for its count. */
export function checkMapWire(w: MapWireArrays): void {
  const n = w.count;
  const sized = (a: { length: number } | null, want: number, what: string): void => {
    if (a && a.length !== want)
      throw new Error(`${what}: expected ${want} values, got ${a.length}`);
  };
  sized(w.features, n, 'features');
  sized(w.positions, n * 3, 'positions');
  sized(w.density, n, 'density');
  sized(w.cluster, n, 'cluster');
}

/** The value of the wire's cluster array that stands for no cluster (−1 in 32 bits). */
export function noCluster(cluster: MapWireArrays['cluster']): number {
  return cluster instanceof Uint8Array
    ? NO_CLUSTER_U8
    : cluster instanceof Uint16Array
      ? NO_CLUSTER_U16
      : -1;
}

/** The map's bounds from the wire: the box's centre and the radius measured when quantised. */
export function mapBounds(w: MapWireArrays): MapAttributes['bounds'] {
  return w.count === 0
    ? { center: [0, 0, 0], radius: 1 }
    : { center: boxCentre(w.box), radius: Math.max(w.radius, 1e-3) };
}

/** 0, 1, …, n − 1. */
export function identityIds(n: number): Uint32Array {
  const ids = new Uint32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  return ids;
}

/** index.map's arrays as floats, positions too (tests, exports; the galaxy decodes lazily). */
export function decodeMapArrays(w: MapWireArrays): MapArrays {
  return { ...decodeMapAttributes(w), positions: dequantisePositions(w.positions, w.box) };
}
