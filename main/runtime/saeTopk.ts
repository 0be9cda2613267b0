/**
 * A TopK SAE's encoder as a small ONNX graph built in code (Gemm with the bias, TopK, Relu):
 * x' (the SAE's prepared input, [n, d_in]) → the k largest codes per row, values [n, k]
 * (after ReLU, so a non-positive one is 0) and their feature ids [n, k]. The index build
 * codes whole corpora with it; pin/scale dials, which need a few features' codes at every
 * generated token, read them with main/runtime/saeRank instead.
 */
import type { Sae } from '../sae';
import { buildModel, elemCode } from './onnxGraph';

export function topkGraph(sae: Sae, k: number): Uint8Array {
  return buildModel({
    name: 'orrery_sae_topk',
    inputs: [{ name: 'x', type: 'float32', shape: ['n', sae.dIn] }],
    outputs: [
      { name: 'values', type: 'float32', shape: ['n', k] },
      { name: 'indices', type: 'int32', shape: ['n', k] },
    ],
    nodes: [
      { op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['pre'], intAttrs: { transB: 1 } },
      { op: 'TopK', inputs: ['pre', 'k'], outputs: ['top', 'idx64'], intAttrs: { axis: 1 } },
      { op: 'Relu', inputs: ['top'], outputs: ['values'] },
      { op: 'Cast', inputs: ['idx64'], outputs: ['indices'], intAttrs: { to: elemCode.int32 } },
    ],
    initializers: [
      { name: 'w', dims: [sae.dSae, sae.dIn], values: sae.encoderTransposed },
      { name: 'b', dims: [sae.dSae], values: sae.encoderBias },
      { name: 'k', dims: [1], values: [k], type: 'int64' },
    ],
  });
}

/** k when the SAE is TopK with 0 < k < d_sae (the graph above serves it), else null. */
export function topkOf(sae: Sae): number | null {
  const k = sae.config.k;
  return sae.architecture === 'topk' && k !== null && k > 0 && k < sae.dSae ? k : null;
}
