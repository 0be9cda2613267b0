/** The page side of the lasso worker: one worker, positions sent once, resolves by id. */
import type { LassoReply, LassoRequest } from './lassoProtocol';

export interface LassoResult {
  hits: Uint32Array;
  /** Time the worker spent projecting and testing. */
  ms: number;
}

export class LassoResolver {
  private readonly worker = new Worker(new URL('./lasso.worker.ts', import.meta.url), {
    type: 'module',
  });
  private nextId = 1;
  private readonly pending = new Map<number, (r: LassoResult) => void>();

  constructor() {
    this.worker.onmessage = (e: MessageEvent<LassoReply>) => {
      const settle = this.pending.get(e.data.id);
      this.pending.delete(e.data.id);
      settle?.({ hits: e.data.hits, ms: e.data.ms });
    };
  }

  private post(m: LassoRequest, transfer: Transferable[]): void {
    this.worker.postMessage(m, transfer);
  }

  /** Sends a copy of the positions (transferred, so the page keeps its own). */
  setPositions(positions: Float32Array): void {
    const copy = positions.slice();
    this.post({ type: 'positions', positions: copy }, [copy.buffer]);
  }

  resolve(
    matrix: ArrayLike<number>,
    width: number,
    height: number,
    polygon: ArrayLike<number>,
  ): Promise<LassoResult> {
    const id = this.nextId++;
    const m = Float64Array.from(matrix as ArrayLike<number>);
    const p = Float64Array.from(polygon as ArrayLike<number>);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.post({ type: 'resolve', id, matrix: m, width, height, polygon: p }, [
        m.buffer,
        p.buffer,
      ]);
    });
  }

  dispose(): void {
    this.worker.terminate();
    for (const settle of this.pending.values()) settle({ hits: new Uint32Array(0), ms: 0 });
    this.pending.clear();
  }
}
