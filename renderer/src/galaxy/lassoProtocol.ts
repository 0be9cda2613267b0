/**
 * Messages between the page and the lasso worker. Positions travel once per map; the hit
 * buffer travels to the worker with each request and comes back filled (transferred both
 * ways, so no call allocates one).
 */
export type LassoRequest =
  | { type: 'positions'; positions: Float32Array }
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

import type { PointGridParts } from './pointGrid';

export type LassoReply =
  | LassoResolved
  /** The worker's grid over the positions, once per map (the page picks with it). */
  | { type: 'grid'; parts: PointGridParts };

export type LassoResolved = {
  type: 'resolved';
  id: number;
  /** The buffer sent with the request (or a bigger one), hits in [0, count). */
  hits: Uint32Array;
  count: number;
  ms: number;
};
