/** Messages between the page and the lasso worker. Positions travel once per map. */
export type LassoRequest =
  | { type: 'positions'; positions: Float32Array }
  | {
      type: 'resolve';
      id: number;
      matrix: Float64Array;
      width: number;
      height: number;
      polygon: Float64Array;
    };

export type LassoReply = { type: 'resolved'; id: number; hits: Uint32Array; ms: number };
