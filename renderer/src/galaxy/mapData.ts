/**
 * The galaxy's data: the index.map reply (compact typed arrays off the wire; the positions kept
 * 16-bit for the GPU, their floats decoded when first needed), and the bounds the camera frames.
 * Pure: no DOM, no three.
 */
import type { CallOutput, DensityScale, MapBox } from '../../../preload/contract';
import {
  checkMapWire,
  decodeMapAttributes,
  dequantisePositions,
  identityIds,
  mapBounds,
  snapDensity,
  type MapAttributes,
  type MapWireArrays,
} from '../../../preload/contract/mapWire';

export type FeatureMapReply = CallOutput<'index.map'>;

export interface ClusterLabel {
  id: number;
  label: string;
  size: number;
  x: number;
  y: number;
  z: number;
}

export interface GalaxyMap {
  /** Points (features shown; dead features may be left out). */
  count: number;
  /** [count] the feature index of each point. */
  features: Uint32Array;
  /** Feature index → point, −1 for a feature without a point. */
  pointOf: Int32Array;
  /**
   * [count × 3] xyz as floats, for what runs on the CPU (picking, arrow keys, fly-to); for a
   * map off the wire, decoded from `quantised` on first read, or handed over by the lasso
   * worker, which decodes them for itself first.
   */
  readonly positions: Float32Array;
  /** The positions as the wire sent them, which the GPU draws as they are; null for float maps. */
  quantised: QuantisedPositions | null;
  /**
   * [count] fraction of examples on which the feature fires (off the wire: 16-bit log levels,
   * decoded when first read).
   */
  readonly density: Float32Array;
  /**
   * A density filter's bound as the map's densities are (mapWire.ts snapDensity: a density equal
   * to the bound stays inside it); the identity for maps built from exact arrays.
   */
  snapDensity: (d: number) => number;
  /** [count] cluster id, −1 for none (off the wire: decoded when first read). */
  readonly cluster: Int32Array;
  /**
   * The wire's density levels (with their scale) and cluster ids, for a map off the wire: the
   * star look and the draw order read them as they came (geometry.ts, lod.ts), so drawing a
   * map decodes neither `density` nor `cluster`. Null for maps built from arrays.
   */
  levels: Pick<MapWireArrays, 'density' | 'densityScale' | 'cluster'> | null;
  clusters: ClusterLabel[];
  bounds: Bounds;
}

/**
 * 16-bit positions and their box (mapWire.ts), with the floats decoded once, when first asked
 * for or when someone who decoded them already hands them over.
 */
export class QuantisedPositions {
  private floats: Float32Array | null = null;

  constructor(
    /** [count × 3] levels 0…65535 per axis. */
    readonly levels: Uint16Array,
    readonly box: MapBox,
  ) {}

  get decoded(): boolean {
    return this.floats !== null;
  }

  floatsNow(): Float32Array {
    this.floats ??= dequantisePositions(this.levels, this.box);
    return this.floats;
  }

  /** Takes floats decoded elsewhere from the same levels (the lasso worker's), if none yet. */
  adopt(floats: Float32Array): void {
    if (this.floats === null && floats.length === this.levels.length) this.floats = floats;
  }
}

export interface Bounds {
  center: [number, number, number];
  /** Radius of the sphere around center that holds every point. */
  radius: number;
}

export function computeBounds(positions: Float32Array, count: number): Bounds {
  if (count === 0) return { center: [0, 0, 0], radius: 1 };
  let minX = Infinity;
  let minY = Infinity;
  let minZ = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  let maxZ = -Infinity;
  for (let i = 0; i < count; i++) {
    const x = positions[i * 3] as number;
    const y = positions[i * 3 + 1] as number;
    const z = positions[i * 3 + 2] as number;
    if (x < minX) minX = x;
    if (y < minY) minY = y;
    if (z < minZ) minZ = z;
    if (x > maxX) maxX = x;
    if (y > maxY) maxY = y;
    if (z > maxZ) maxZ = z;
  }
  const center: [number, number, number] = [
    (minX + maxX) / 2,
    (minY + maxY) / 2,
    (minZ + maxZ) / 2,
  ];
  let r2 = 0;
  for (let i = 0; i < count; i++) {
    const dx = (positions[i * 3] as number) - center[0];
    const dy = (positions[i * 3 + 1] as number) - center[1];
    const dz = (positions[i * 3 + 2] as number) - center[2];
    r2 = Math.max(r2, dx * dx + dy * dy + dz * dz);
  }
  return { center, radius: Math.max(Math.sqrt(r2), 1e-3) };
}

/** Feature → point lookup. */
export function pointIndex(features: Uint32Array): Int32Array {
  // Indexed loops: a million features in a few ms (for…of and forEach were 3× slower).
  const n = features.length;
  let max = -1;
  for (let i = 0; i < n; i++) {
    const f = features[i] as number;
    if (f > max) max = f;
  }
  const out = new Int32Array(max + 1).fill(-1);
  for (let i = 0; i < n; i++) out[features[i] as number] = i;
  return out;
}

/** performance.mark names around the page's index.map call (read by bench/mapTransfer.ts). */
export const MAP_MARKS = {
  request: 'orrery:map-request',
  reply: 'orrery:map-reply',
  decoded: 'orrery:map-decoded',
} as const;

/**
 * The galaxy's map from index.map's reply, in time independent of the count but for the checks
 * of the arrays' lengths: what the galaxy draws from is kept as it came (the positions 16-bit,
 * which the GPU scales by the box; the density levels and cluster ids, which the star look and
 * the draw order read), and the rest is made when first read: the float positions (within the
 * quantisation step of the stored ones; mapWire.ts), the densities and cluster ids (filters,
 * cluster picks), the feature ids when point i is feature i, and the feature → point lookup.
 */
export function decodeMap(reply: FeatureMapReply): GalaxyMap {
  checkMapWire(reply);
  const n = reply.count;
  const scale: DensityScale = reply.densityScale;
  const quantised = new QuantisedPositions(reply.positions, reply.box);
  let attrs: MapAttributes | null = null;
  const decoded = (): MapAttributes => (attrs ??= decodeMapAttributes(reply));
  let ids: Uint32Array | null = reply.features;
  let lookup: Int32Array | null = null;
  return {
    count: n,
    get features() {
      return (ids ??= identityIds(n));
    },
    // Point i is feature i when the reply left the ids out: the lookup is a native copy.
    get pointOf() {
      return (lookup ??=
        reply.features === null ? new Int32Array(this.features) : pointIndex(this.features));
    },
    get positions() {
      return quantised.floatsNow();
    },
    quantised,
    get density() {
      return decoded().density;
    },
    snapDensity: (d) => snapDensity(scale, d),
    get cluster() {
      return decoded().cluster;
    },
    levels: { density: reply.density, densityScale: scale, cluster: reply.cluster },
    clusters: reply.clusters.map((c) => ({ ...c })),
    bounds: mapBounds(reply),
  };
}

/** Builds a map from arrays (synthetic galaxies for tests and the bench). */
export function makeMap(
  positions: Float32Array,
  density: Float32Array,
  cluster: Int32Array,
  clusters: ClusterLabel[] = [],
  features: Uint32Array = Uint32Array.from(density, (_, i) => i),
): GalaxyMap {
  const count = density.length;
  return {
    count,
    features,
    pointOf: pointIndex(features),
    positions,
    quantised: null,
    density,
    snapDensity: (d) => d,
    cluster,
    levels: null,
    clusters,
    bounds: computeBounds(positions, count),
  };
}
