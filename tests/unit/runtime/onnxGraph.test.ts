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

  it('fails clearly on bytes that are not a model', async () => {
    await expect(OnnxSession.create(Uint8Array.from([1, 2, 3, 4, 5]))).rejects.toThrow();
  });
});
