/// <reference lib="webworker" />
/**
 * The lasso worker: holds the map's positions and resolves a screen-space polygon to the
 * points whose projection lies inside it. Results go back as a transferred Uint32Array.
 */
import type { LassoReply, LassoRequest } from './lassoProtocol';
import { resolveLasso } from './project';

let positions: Float32Array = new Float32Array(0);

self.onmessage = (e: MessageEvent<LassoRequest>) => {
  const m = e.data;
  if (m.type === 'positions') {
    positions = m.positions;
    return;
  }
  const t0 = performance.now();
  const hits = resolveLasso(positions, {
    matrix: m.matrix,
    width: m.width,
    height: m.height,
    polygon: m.polygon,
  });
  const reply: LassoReply = { type: 'resolved', id: m.id, hits, ms: performance.now() - t0 };
  (self as unknown as Worker).postMessage(reply, [hits.buffer]);
};
