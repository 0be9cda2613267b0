/**
 * The star buffers: static attributes (position, as floats or as the wire's 16 bits; colour and
 * size packed in four bytes) and
 * the per-point state bytes shared with the store (the same Uint8Array, so updates are in
 * place), drawn through an index in level-of-detail order. Pure three, no React.
 */
import {
  BufferAttribute,
  BufferGeometry,
  DynamicDrawUsage,
  Float32BufferAttribute,
  Sphere,
  Uint8BufferAttribute,
  Vector3,
  type Object3D,
} from 'three';
import { noCluster, perDensityLevel, POSITION_LEVELS } from '../../../preload/contract/mapWire';
import type { GalaxyMap } from './mapData';
import { clusterColor } from './palette';

/**
 * World size of a middling star: 2.5% of the map's radius for a small map, smaller for
 * crowded ones (∝ count^(−1/3), the mean spacing), so a million stars stay stars.
 */
export function starBase(map: GalaxyMap): number {
  const crowd = Math.min(1, Math.max(0.15, Math.cbrt(1000 / Math.max(1, map.count))));
  return map.bounds.radius * 0.025 * crowd;
}

const LOG_LOW = Math.log10(1e-5);

/** The size byte of a density: log density from 1e-5 (0) to 1 (255). */
function sizeByte(density: number): number {
  const d = Math.max(density, 1e-5);
  return Math.round(Math.min(1, Math.max(0, (Math.log10(d) - LOG_LOW) / -LOG_LOW)) * 255);
}

/**
 * RGB from the cluster and a size byte from log density (palette.pointSizes' rule:
 * world size = base · (0.5 + 1.1 · byte / 255)), four bytes per point. A map off the wire is
 * read as it came: each density level's byte made once (perDensityLevel), each cluster id with
 * the wire's mark for none, so neither `density` nor `cluster` is decoded (the same bytes).
 */
export function packLook(map: GalaxyMap): Uint8Array {
  const n = map.count;
  const look = new Uint8Array(n * 4);
  const put = (i: number, cluster: number, size: number): void => {
    const [r, g, b] = clusterColor(cluster);
    look[i * 4] = Math.round(r * 255);
    look[i * 4 + 1] = Math.round(g * 255);
    look[i * 4 + 2] = Math.round(b * 255);
    look[i * 4 + 3] = size;
  };
  const w = map.levels;
  if (w) {
    const size = perDensityLevel(w.densityScale, sizeByte);
    const none = noCluster(w.cluster);
    for (let i = 0; i < n; i++) {
      const c = w.cluster[i] as number;
      put(i, c === none ? -1 : c, size(w.density[i] as number));
    }
    return look;
  }
  const { density, cluster } = map;
  for (let i = 0; i < n; i++) put(i, cluster[i] ?? -1, sizeByte(density[i] ?? 0));
  return look;
}

/** World sizes per point from the packed look (what the shader computes), for picking. */
export function lookSizes(look: Uint8Array, base: number): Float32Array {
  const out = new Float32Array(look.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = base * (0.5 + (1.1 * (look[i * 4 + 3] ?? 0)) / 255);
  return out;
}

/**
 * Puts the object holding the star geometry where its positions are: for 16-bit positions the
 * box (x = min + level · step, with the attribute's 0…1 being level / POSITION_LEVELS), else
 * nowhere special. World coordinates are then the decoded positions (up to float32 rounding).
 */
export function placeQuantised(object: Object3D, map: GalaxyMap): void {
  const q = map.quantised;
  if (!q) return;
  const [x0, y0, z0] = q.box.min;
  const [sx, sy, sz] = q.box.step;
  object.position.set(x0, y0, z0);
  object.scale.set(sx * POSITION_LEVELS, sy * POSITION_LEVELS, sz * POSITION_LEVELS);
  object.updateMatrix();
}

/** The star geometry: shared attributes, drawn through `order` (an index). */
export function makeStarGeometry(
  map: GalaxyMap,
  state: Uint8Array,
  look: Uint8Array,
  order: Uint32Array,
): BufferGeometry {
  const g = new BufferGeometry();
  const q = map.quantised;
  // 16-bit positions go up as they came off the wire, read as 0…1 (normalised): the object's
  // matrix (placeQuantised) scales them by the box, so no pass over them runs in the page.
  // (BufferAttribute keeps the array; Uint16BufferAttribute would copy it.)
  g.setAttribute(
    'position',
    q ? new BufferAttribute(q.levels, 3, true) : new Float32BufferAttribute(map.positions, 3),
  );
  g.setAttribute('aLook', new Uint8BufferAttribute(look, 4, true));
  const s = new BufferAttribute(state, 4, true);
  s.setUsage(DynamicDrawUsage);
  g.setAttribute('aState', s);
  g.setIndex(new BufferAttribute(order, 1));
  g.boundingSphere = null;
  // The 16-bit positions' sphere is the unit box's (no pass over a million points to find it).
  if (q) g.boundingSphere = new Sphere(new Vector3(0.5, 0.5, 0.5), Math.sqrt(3) / 2);
  else g.computeBoundingSphere();
  return g;
}

/**
 * Another geometry over the same attributes: with its own (dynamic) index of `capacity`, or
 * with none (every point in memory order).
 */
export function makeEmphasisGeometry(
  stars: BufferGeometry,
  capacity: number,
  indexed = true,
): BufferGeometry {
  const g = new BufferGeometry();
  for (const name of ['position', 'aLook', 'aState'])
    g.setAttribute(name, stars.getAttribute(name) as BufferAttribute);
  if (!indexed) {
    g.boundingSphere = stars.boundingSphere;
    return g;
  }
  const index = new BufferAttribute(new Uint32Array(Math.max(1, capacity)), 1);
  index.setUsage(DynamicDrawUsage);
  g.setIndex(index);
  g.setDrawRange(0, 0);
  g.boundingSphere = stars.boundingSphere;
  return g;
}

/** Uploads only the changed points of the state attribute. */
export function uploadState(g: BufferGeometry, range: [number, number]): void {
  const attr = g.getAttribute('aState') as BufferAttribute;
  attr.clearUpdateRanges();
  attr.addUpdateRange(range[0] * 4, (range[1] - range[0]) * 4);
  attr.needsUpdate = true;
}
