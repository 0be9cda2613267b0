/// <reference lib="webworker" />
/**
 * The lasso worker: holds the map's positions (decoding 16-bit ones itself, and sending the
 * page a copy of the floats) and resolves a screen-space polygon to the
 * points whose projection lies inside it, with a polygon mask rasterised once per call
 * (MaskLasso keeps its buffers) and a PointGrid built once per map (sent to the page too, for
 * picking). The hits go into the buffer that came with the request,
 * which goes back transferred.
 */
import { dequantisePositions } from '../../../preload/contract/mapWire';
import { MaskLasso } from './lassoMask';
import type { LassoReply, LassoRequest } from './lassoProtocol';
import { PointGrid } from './pointGrid';

let positions: Float32Array = new Float32Array(0);
let grid: PointGrid | undefined;
const lasso = new MaskLasso();

self.onmessage = (e: MessageEvent<LassoRequest>) => {
  const m = e.data;
  if (m.type === 'positions' || m.type === 'quantised') {
    const decoded = m.type === 'quantised';
    positions = decoded ? dequantisePositions(m.levels, m.box) : m.positions;
    grid = new PointGrid(positions);
    const parts = grid.copyParts();
    // Decoded here, off the page's thread: the page gets a copy (it decodes none itself).
    const copy = decoded ? positions.slice() : null;
    const reply: LassoReply = { type: 'grid', parts, positions: copy };
    (self as unknown as Worker).postMessage(reply, [
      parts.start.buffer,
      parts.items.buffer,
      parts.sorted.buffer,
      ...(copy ? [copy.buffer] : []),
    ]);
    return;
  }
  const t0 = performance.now();
  const n = positions.length / 3;
  const hits = m.hits.length >= n ? m.hits : new Uint32Array(n);
  const count = lasso.resolve(
    positions,
    { matrix: m.matrix, width: m.width, height: m.height, polygon: m.polygon },
    hits,
    grid,
  );
  const reply: LassoReply = {
    type: 'resolved',
    id: m.id,
    hits,
    count,
    ms: performance.now() - t0,
  };
  (self as unknown as Worker).postMessage(reply, [hits.buffer]);
};
