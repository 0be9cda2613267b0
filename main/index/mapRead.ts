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

/**
 * The read with its arrays moved into one SharedArrayBuffer. A reader keeps its maps
 * (keptReads.ts) and answers each index.map with the kept one: posted to the API thread, a
 * shared buffer goes as a reference, where plain arrays are copied twice (serialised, then
 * deserialised: 9 MiB each at a million points, in memory the receiving thread touches for the
 * first time). Nothing writes a map's arrays after the read, so sharing them is safe.
 */
export function sharedMapRead(r: MapRead): MapRead {
  const { map } = r;
  const arrays = [map.features, map.positions, map.density, map.cluster];
  const align = (n: number): number => Math.ceil(n / 8) * 8;
  const total = arrays.reduce((n, a) => n + align(a?.byteLength ?? 0), 0);
  const sab = new SharedArrayBuffer(total);
  let at = 0;
  const place = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(
    a: T,
    make: (b: SharedArrayBuffer, offset: number, length: number) => T,
  ): T => {
    const view = make(sab, at, a.length);
    view.set(a);
    at += align(a.byteLength);
    return view;
  };
  const cluster = map.cluster;
  return {
    ...r,
    map: {
      ...map,
      features: map.features && place(map.features, (b, o, n) => new Uint32Array(b, o, n)),
      positions: place(map.positions, (b, o, n) => new Uint16Array(b, o, n)),
      density: place(map.density, (b, o, n) => new Uint16Array(b, o, n)),
      cluster:
        cluster instanceof Uint8Array
          ? place(cluster, (b, o, n) => new Uint8Array(b, o, n))
          : cluster instanceof Uint16Array
            ? place(cluster, (b, o, n) => new Uint16Array(b, o, n))
            : place(cluster, (b, o, n) => new Int32Array(b, o, n)),
    },
  };
}
