import { describe, expect, it } from 'vitest';
import { OnnxSession } from '../../../main/runtime/onnx';
import { exposeOutputs, graphNodes, graphOutputs } from '../../../main/runtime/onnxExpose';
import { buildModel } from '../../../main/runtime/onnxGraph';
import { message, readFields } from '../../../main/runtime/protobuf';

/** past [n, 2] ++ new [n, 1] → present [n, 3], where new = −x (a tensor inside the graph). */
const model = buildModel({
  name: 'cache',
  inputs: [
    { name: 'past', type: 'float32', shape: ['n', 2] },
    { name: 'x', type: 'float32', shape: ['n', 1] },
  ],
  outputs: [{ name: 'present', type: 'float32', shape: ['n', 3] }],
  initializers: [],
  nodes: [
    { op: 'Neg', inputs: ['x'], outputs: ['fresh'] },
    { op: 'Concat', inputs: ['past', 'fresh'], outputs: ['present'], intAttrs: { axis: 1 } },
  ],
});

describe('reading and exposing ONNX graph tensors', () => {
  it('reads back the fields the writer wrote', () => {
    const bytes = message([
      { n: 1, varint: 300 },
      { n: 2, string: 'hé' },
      { n: 3, bytes: Uint8Array.from([7, 8]) },
      { n: 4, varint: 2 ** 40 + 5 },
    ]);
    const fields = [...readFields(bytes)].map((f) =>
      'bytes' in f ? { n: f.n, bytes: [...f.bytes] } : f,
    );
    expect(fields).toEqual([
      { n: 1, varint: 300 },
      { n: 2, bytes: [...new TextEncoder().encode('hé')] },
      { n: 3, bytes: [7, 8] },
      { n: 4, varint: 2 ** 40 + 5 },
    ]);
    expect(() => [...readFields(Uint8Array.from([0x0a, 5, 1]))]).toThrow(/past the end/);
  });

  it('lists the nodes with their inputs, outputs and integer attributes', () => {
    expect(graphNodes(model)).toEqual([
      { op: 'Neg', inputs: ['x'], outputs: ['fresh'], ints: {} },
      { op: 'Concat', inputs: ['past', 'fresh'], outputs: ['present'], ints: { axis: 1 } },
    ]);
  });

  it('an exposed tensor is fetched alone, and the graph computes as before', async () => {
    const fresh = { name: 'fresh', type: 'float32' as const, shape: ['n', 1] };
    const exposed = exposeOutputs(model, [fresh]);
    expect(graphNodes(exposed)).toEqual(graphNodes(model));
    expect(graphOutputs(exposed)).toEqual(['present', 'fresh']);
    // exposing an output again, or an existing one, changes nothing
    expect(exposeOutputs(exposed, [fresh])).toBe(exposed);
    expect(exposeOutputs(model, [{ ...fresh, name: 'present' }])).toBe(model);
    const s = await OnnxSession.create(exposed);
    try {
      expect(s.outputs.map((o) => o.name)).toEqual(['present', 'fresh']);
      const feeds = {
        past: { dims: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
        x: { dims: [2, 1], data: Float32Array.from([5, 6]) },
      };
      const alone = await s.run(feeds, ['fresh']);
      expect(Object.keys(alone)).toEqual(['fresh']);
      expect([...(alone.fresh?.data as Float32Array)]).toEqual([-5, -6]);
      const all = await s.run(feeds);
      expect([...(all.present?.data as Float32Array)]).toEqual([1, 2, -5, 3, 4, -6]);
    } finally {
      await s.release();
    }
  });
});
