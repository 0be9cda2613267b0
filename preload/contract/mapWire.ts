/**
 * index.map's arrays on the wire, compact (issue 14: a million positions cost the page its
 * bytes, ~7 ms a MiB in chromium): positions quantised to 16 bits per axis against the map's
 * bounding box, the feature ids left out when point i is feature i, cluster ids in 16 bits
 * when they fit. Density stays float32 (filters compare it with what a person types).
 *
 * Precision of a position: within step/2 per axis, step = (max − min) / 65535 of that axis,
 * i.e. ≤ 1/131070 of the map's extent (plus float32 rounding). With the galaxy's camera
 * (fov 50°, a search flight at 0.35 of the map's radius), that is under 0.1 px on a 1080 px
 * canvas, and under 0.2 px at the closest framing the app flies to. Pure: no Node, no DOM.
 */

/** Quantisation levels per axis (a position is min + q · step, q in 0…POSITION_LEVELS). */
export const POSITION_LEVELS = 65535;

/** A point without a cluster, in the 16-bit cluster array. */
export const NO_CLUSTER_U16 = 0xffff;

/** Where the 16-bit positions sit: x = min[0] + q · step[0], and so on per axis. */
export interface MapBox {
  min: [number, number, number];
  step: [number, number, number];
}

/** The map's arrays as index.map sends them. */
export interface MapWireArrays {
  count: number;
  /** [count] the feature of each point, or null when point i is feature i. */
  features: Uint32Array | null;
  /** [count × 3] positions quantised against `box`. */
  positions: Uint16Array;
  box: MapBox;
  /** [count] fraction of examples on which the feature fires (exact). */
  density: Float32Array;
  /** [count] cluster id: 16 bits with NO_CLUSTER_U16 for none when every id fits, else −1 for none. */
  cluster: Uint16Array | Int32Array;
}

/** The map's arrays as the galaxy uses them. */
export interface MapArrays {
  count: number;
  features: Uint32Array;
  positions: Float32Array;
  density: Float32Array;
  /** −1 for none. */
  cluster: Int32Array;
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
): { positions: Uint16Array; box: MapBox } {
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
  // Storing v + 0.5 truncates: rounds to the nearest level (v ≥ 0 here; NaN stores as 0).
  for (let i = 0; i < count * 3; i += 3) {
    out[i] = ((xyz[i] as number) - mx) * sx + 0.5;
    out[i + 1] = ((xyz[i + 1] as number) - my) * sy + 0.5;
    out[i + 2] = ((xyz[i + 2] as number) - mz) * sz + 0.5;
  }
  return { positions: out, box: { min: [mx, my, mz], step: [ax.step, ay.step, az.step] } };
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

/** Cluster ids in 16 bits when every id fits (none → NO_CLUSTER_U16), else as i32 (none → −1). */
function packClusters(cluster: Uint32Array | Int32Array, count: number): Uint16Array | Int32Array {
  const signed =
    cluster instanceof Int32Array
      ? cluster
      : new Int32Array(cluster.buffer, cluster.byteOffset, count);
  for (let i = 0; i < count; i++) {
    const c = signed[i] as number;
    if (c !== -1 && (c < 0 || c >= NO_CLUSTER_U16)) return signed.subarray(0, count);
  }
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = signed[i] as number; // −1 wraps to 0xffff
  return out;
}

function unpackClusters(cluster: Uint16Array | Int32Array): Int32Array {
  if (cluster instanceof Int32Array) return cluster;
  const out = new Int32Array(cluster.length);
  for (let i = 0; i < cluster.length; i++) {
    const c = cluster[i] as number;
    out[i] = c === NO_CLUSTER_U16 ? -1 : c;
  }
  return out;
}

/** The index's arrays as index.map sends them. */
export function encodeMapArrays(m: StoredMapArrays): MapWireArrays {
  const { positions, box } = quantisePositions(m.positions, m.count);
  return {
    count: m.count,
    features: isIdentity(m.features, m.count) ? null : m.features.subarray(0, m.count),
    positions,
    box,
    density: m.density.subarray(0, m.count),
    cluster: packClusters(m.cluster, m.count),
  };
}

/** index.map's arrays as the galaxy uses them; throws when an array has the wrong length. */
export function decodeMapArrays(w: MapWireArrays): MapArrays {
  const n = w.count;
  const sized = <T extends { length: number }>(a: T, want: number, what: string): T => {
    if (a.length !== want) throw new Error(`${what}: expected ${want} values, got ${a.length}`);
    return a;
  };
  const features = w.features ? sized(w.features, n, 'features') : new Uint32Array(n);
  if (!w.features) for (let i = 0; i < n; i++) features[i] = i;
  return {
    count: n,
    features,
    positions: dequantisePositions(sized(w.positions, n * 3, 'positions'), w.box),
    density: sized(w.density, n, 'density'),
    cluster: unpackClusters(sized(w.cluster, n, 'cluster')),
  };
}
