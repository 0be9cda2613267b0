/**
 * Which tensors of a graph feed a normalisation: a LayerNorm or RMSNorm op (ONNX's
 * LayerNormalization, RMSNormalization, ORT's SimplifiedLayerNormalization and their Skip
 * forms), or one decomposed into primitive ops — LayerNorm starts with ReduceMean(x) (and
 * Sub(x, mean)), RMSNorm with ReduceMean(Pow(x, 2)) or ReduceMean(Mul(x, x)). Casts in front
 * of the norm (HF's `.to(torch.float32)`) are looked through.
 */
import type { OnnxGraph, OnnxNode } from './graph';

const NORM_OPS = new Set([
  'LayerNormalization',
  'RMSNormalization',
  'SimplifiedLayerNormalization',
  'SkipLayerNormalization',
  'SkipSimplifiedLayerNormalization',
]);

/** The nodes that read `tensor`, and those that read a Cast of it. */
function readers(g: OnnxGraph, tensor: string): { node: OnnxNode; input: string }[] {
  const out: { node: OnnxNode; input: string }[] = [];
  for (const node of g.consumers.get(tensor) ?? []) {
    out.push({ node, input: tensor });
    if (node.op === 'Cast' && node.outputs[0]) {
      for (const next of g.consumers.get(node.outputs[0]) ?? []) {
        out.push({ node: next, input: node.outputs[0] });
      }
    }
  }
  return out;
}

const readsMean = (g: OnnxGraph, tensor: string | undefined): boolean =>
  tensor !== undefined && (g.consumers.get(tensor) ?? []).some((n) => n.op === 'ReduceMean');

/** The node where the normalisation of `tensor` starts, or null when `tensor` feeds none. */
export function normOf(g: OnnxGraph, tensor: string): OnnxNode | null {
  for (const { node, input } of readers(g, tensor)) {
    if (NORM_OPS.has(node.op) && node.inputs[0] === input) return node;
    if (node.op === 'ReduceMean' && node.inputs[0] === input) return node;
    if (node.op === 'Pow' && node.inputs[0] === input && readsMean(g, node.outputs[0])) return node;
    if (node.op === 'Mul' && node.inputs[0] === input && node.inputs[1] === input) {
      if (readsMean(g, node.outputs[0])) return node;
    }
  }
  return null;
}
