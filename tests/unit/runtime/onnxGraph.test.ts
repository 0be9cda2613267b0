import { describe, expect, it } from 'vitest';
import { OnnxSession } from '../../../main/runtime/onnx';
import { buildModel } from '../../../main/runtime/onnxGraph';

describe('ONNX graphs built in code', () => {
  it('runs a MatMul graph with a dynamic batch through onnxruntime-node', async () => {
    const model = buildModel({
      name: 'mm',
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 2] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['batch', 2] }],
      initializers: [{ name: 'W', dims: [2, 2], values: [1, 2, 3, 4] }],
      nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
    });
    const s = await OnnxSession.create(model);
    expect(s.inputs).toEqual([{ name: 'x', type: 'float32', shape: ['batch', 2] }]);
    const out = await s.run({ x: { dims: [2, 2], data: Float32Array.from([1, 0, 0.5, -1]) } });
    expect(out.y?.dims).toEqual([2, 2]);
    expect(Array.from(out.y?.data as Float32Array)).toEqual([1, 2, -2.5, -3]);
    await s.release();
  });

  it('keeps float initializers exactly, also a view into a larger array', async () => {
    // (written as raw bytes: a view must give its own values, not its buffer's first ones)
    const big = Float32Array.from({ length: 12 }, (_, i) => i * 1.5 - 3.25);
    const w = big.subarray(5, 9);
    const model = buildModel({
      name: 'add',
      inputs: [{ name: 'x', type: 'float32', shape: [4] }],
      outputs: [{ name: 'y', type: 'float32', shape: [4] }],
      initializers: [
        { name: 'w', dims: [4], values: w },
        { name: 'v', dims: [4], values: [0.1, -2, 1e-30, 3e38] },
      ],
      nodes: [
        { op: 'Add', inputs: ['x', 'w'], outputs: ['s'] },
        { op: 'Add', inputs: ['s', 'v'], outputs: ['y'] },
      ],
    });
    const s = await OnnxSession.create(model);
    const out = await s.run({ x: { dims: [4], data: new Float32Array(4) } });
    const v = Float32Array.from([0.1, -2, 1e-30, 3e38]);
    expect(Array.from(out.y?.data as Float32Array)).toEqual(
      Array.from(w, (x, i) => Math.fround(x + (v[i] ?? 0))),
    );
    await s.release();
  });

  it('fails clearly on bytes that are not a model', async () => {
    await expect(OnnxSession.create(Uint8Array.from([1, 2, 3, 4, 5]))).rejects.toThrow();
  });
});
