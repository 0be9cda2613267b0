/**
 * The star buffers: static attributes (position, colour, size) and the per-point state bytes
 * shared with the store (the same Uint8Array, so updates are in place). Pure three, no React.
 */
import { BufferAttribute, BufferGeometry, DynamicDrawUsage, Float32BufferAttribute } from 'three';
import type { GalaxyMap } from './mapData';
import { pointColors, pointSizes } from './palette';

/**
 * World size of a middling star: 2.5% of the map's radius for a small map, smaller for
 * crowded ones (∝ count^(−1/3), the mean spacing), so a million stars stay stars.
 */
export function starBase(map: GalaxyMap): number {
  const crowd = Math.min(1, Math.max(0.15, Math.cbrt(1000 / Math.max(1, map.count))));
  return map.bounds.radius * 0.025 * crowd;
}

export function makeStarGeometry(map: GalaxyMap, state: Uint8Array): BufferGeometry {
  const g = new BufferGeometry();
  g.setAttribute('position', new Float32BufferAttribute(map.positions, 3));
  g.setAttribute('aColor', new Float32BufferAttribute(pointColors(map.cluster), 3));
  g.setAttribute('aSize', new Float32BufferAttribute(pointSizes(map.density, starBase(map)), 1));
  const s = new BufferAttribute(state, 4, true);
  s.setUsage(DynamicDrawUsage);
  g.setAttribute('aState', s);
  g.boundingSphere = null;
  g.computeBoundingSphere();
  return g;
}

/** Uploads only the changed points of the state attribute. */
export function uploadState(g: BufferGeometry, range: [number, number]): void {
  const attr = g.getAttribute('aState') as BufferAttribute;
  attr.clearUpdateRanges();
  attr.addUpdateRange(range[0] * 4, (range[1] - range[0]) * 4);
  attr.needsUpdate = true;
}
