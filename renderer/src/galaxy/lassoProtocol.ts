/**
 * Messages between the page and the lasso worker. Positions travel once per map; the hit
 * buffer travels to the worker with each request and comes back filled (transferred both
 * ways, so no call allocates one).
 */
export type LassoRequest =
  | { type: 'positions'; positions: Float32Array }
  /** 16-bit positions and their box (mapWire.ts): the worker decodes the floats itself. */
  | { type: 'quantised'; levels: Uint16Array; box: MapBox }
  | {
      type: 'resolve';
      id: number;
      matrix: Float64Array;
      width: number;
      height: number;
      polygon: Float64Array;
      /** Where the hits go; at least as long as the point count (else the worker makes one). */
      hits: Uint32Array;
    };

import type { MapBox } from '../../../preload/contract';
import type { PointGridParts } from './pointGrid';

export type LassoReply =
  | LassoResolved
  /**
   * The worker's grid over the positions, once per map (the page picks with it), and the float
   * positions when the worker decoded them from 16 bits (a copy for the page).
   */
  | { type: 'grid'; parts: PointGridParts; positions: Float32Array | null };

export type LassoResolved = {
  type: 'resolved';
  id: number;
  /** The buffer sent with the request (or a bigger one), hits in [0, count). */
  hits: Uint32Array;
  count: number;
  ms: number;
};
