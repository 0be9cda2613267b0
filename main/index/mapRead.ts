/**
 * An SAE's galaxy map as index.map sends it: the stored positions, densities and clusters made
 * compact (preload/contract/mapWire.ts) and the cluster labels. Read by the reader threads
 * (reader.ts) and written beside a shipped index (shippedMap.ts).
 */
import { encodeMapArrays, type MapWireArrays } from '../../preload/contract/mapWire';
import type { Db } from '../db/connection';
import { listClusters, loadPositions, type ClusterInfo } from './search';

/** A map read: its arrays as index.map sends them, and the cluster labels. */
export interface MapRead {
  map: MapWireArrays;
  clusters: ClusterInfo[];
}

/** The map of `saeId` in `d` (compact arrays), or null when it has none. */
export function readMap(d: Db, saeId: string): MapRead | null {
  const p = loadPositions(d, saeId);
  if (!p) return null;
  const map = encodeMapArrays({
    count: p.count,
    features: p.idx,
    positions: p.xyz,
    density: p.density,
    cluster: p.cluster,
  });
  return { map, clusters: listClusters(d, saeId) };
}
