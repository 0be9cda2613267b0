/**
 * The page side of the lasso worker: one worker, positions sent once, resolves by id. The hit
 * buffers go to the worker and come back (transferred), kept in a small pool, so a lasso
 * allocates no result array.
 */
import type { LassoReply, LassoRequest } from './lassoProtocol';
import type { GalaxyMap } from './mapData';
import { PointGrid } from './pointGrid';

export interface LassoResult {
  /**
   * The points inside, ascending: a view into a pooled buffer, valid until the next
   * `resolve` call (read it, or copy it, before then).
   */
  hits: Uint32Array;
  /** Time the worker spent projecting and testing. */
  ms: number;
}

export class LassoResolver {
  private readonly worker = new Worker(new URL('./lasso.worker.ts', import.meta.url), {
    type: 'module',
  });
  private nextId = 1;
  private count = 0;
  private readonly pending = new Map<number, (r: LassoResult) => void>();
  /** Hit buffers not at the worker. */
  private readonly free: Uint32Array[] = [];

  /**
   * Called once the worker has built its grid over the positions, with the floats it decoded
   * when it was sent 16-bit ones.
   */
  onGrid: ((grid: PointGrid, positions: Float32Array | null) => void) | null = null;

  constructor() {
    this.worker.onmessage = (e: MessageEvent<LassoReply>) => {
      if (e.data.type === 'grid') {
        this.onGrid?.(new PointGrid(e.data.parts), e.data.positions);
        return;
      }
      const { id, hits, count, ms } = e.data;
      this.free.push(hits);
      const settle = this.pending.get(id);
      this.pending.delete(id);
      settle?.({ hits: hits.subarray(0, count), ms });
    };
  }

  private post(m: LassoRequest, transfer: Transferable[]): void {
    this.worker.postMessage(m, transfer);
  }

  /**
   * Sends a copy of the map's positions (transferred, so the page keeps its own): the 16-bit
   * ones when the map has them (the worker decodes them), else the floats.
   */
  setPositions(map: GalaxyMap): void {
    this.count = map.count;
    this.free.length = 0;
    const q = map.quantised;
    if (q) {
      const levels = q.levels.slice();
      this.post({ type: 'quantised', levels, box: q.box }, [levels.buffer]);
      return;
    }
    const copy = map.positions.slice();
    this.post({ type: 'positions', positions: copy }, [copy.buffer]);
  }

  resolve(
    matrix: ArrayLike<number>,
    width: number,
    height: number,
    polygon: ArrayLike<number>,
  ): Promise<LassoResult> {
    const id = this.nextId++;
    let hits = this.free.pop();
    while (hits && hits.length < this.count) hits = this.free.pop();
    hits ??= new Uint32Array(this.count);
    // The matrix and polygon are small: copied by the message, not transferred.
    const m = Float64Array.from(matrix);
    const p = Float64Array.from(polygon);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.post({ type: 'resolve', id, matrix: m, width, height, polygon: p, hits }, [hits.buffer]);
    });
  }

  dispose(): void {
    this.worker.terminate();
    for (const settle of this.pending.values()) settle({ hits: new Uint32Array(0), ms: 0 });
    this.pending.clear();
  }
}
