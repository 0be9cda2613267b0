/**
 * Any layer's residual stream of a text pack, not only the hook its below.onnx outputs: the
 * residual chain is walked back from `hook_resid` (the output of the manifest's hook,
 * blocks.L.hook_resid_post) through the graph's Add nodes, two per block (after attention,
 * after the MLP), and the tensor of an earlier block's hook_resid_post is exposed as an extra
 * output (main/runtime/onnxExpose.ts); the weights and the other outputs stay as they were.
 * An Add on the chain is told from a bias Add by its inputs: both are computed by nodes (a
 * bias is an initializer, which no node computes).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isHfModel } from '../packs/manifest';
import type { LoadedPack } from '../packs/packReader';
import { exposeOutputs, graphNodes, type GraphNode } from '../runtime/onnxExpose';

/** The layer of a `blocks.L.hook_resid_post` name, or null for another hook. */
export function residLayer(hook: string): number | null {
  const m = /^blocks\.(\d+)\.hook_resid_post$/.exec(hook);
  return m ? Number(m[1]) : null;
}

/**
 * The tensor of blocks.`layer`.hook_resid_post inside a below graph whose `hook_resid`
 * output is blocks.`last`.hook_resid_post.
 */
export function residTensor(nodes: readonly GraphNode[], layer: number, last: number): string {
  if (layer > last || layer < 0)
    throw new Error(`below.onnx computes layers 0 … ${last}; blocks.${layer} is not among them`);
  const producer = new Map<string, GraphNode>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  const isResidualAdd = (n: GraphNode | undefined): n is GraphNode =>
    n !== undefined &&
    n.op === 'Add' &&
    n.inputs.length === 2 &&
    n.inputs.every((i) => producer.has(i));
  let tensor = 'hook_resid';
  for (let step = 0; step < 2 * (last - layer); step++) {
    const add = producer.get(tensor);
    if (!isResidualAdd(add))
      throw new Error(`below.onnx: ${tensor} is not a residual Add; cannot find blocks.${layer}`);
    // the residual input: itself the output of a residual Add (or of the embedding sum)
    const next = add.inputs.find((i) => isResidualAdd(producer.get(i)));
    if (!next) throw new Error(`below.onnx: no residual input to ${add.outputs[0] ?? '?'}`);
    tensor = next;
  }
  return tensor;
}

/**
 * below.onnx as bytes, with blocks.`layer`.hook_resid_post exposed, and the output name to
 * fetch for it ('hook_resid' for the pack's own hook).
 */
export async function belowWithHook(
  pack: LoadedPack,
  hook: string,
): Promise<{ model: Uint8Array; output: string }> {
  const m = pack.manifest;
  if (m.kind !== 'text-lm') throw new Error(`pack ${m.id} is not a text model`);
  const mm = m.model;
  if (isHfModel(mm)) throw new Error(`pack ${m.id} is a Hugging Face export, not a split pack`);
  const graphs = mm.onnx;
  if (typeof graphs === 'string') throw new Error(`pack ${m.id} has the older single-graph layout`);
  const model = new Uint8Array(await fs.readFile(path.join(pack.dir, graphs.below)));
  if (hook === mm.hook) return { model, output: 'hook_resid' };
  const layer = residLayer(hook);
  const last = residLayer(mm.hook);
  if (layer === null || last === null)
    throw new Error(`the text model exposes blocks.L.hook_resid_post hooks, not ${hook}`);
  const name = residTensor(graphNodes(model), layer, last);
  return {
    model: exposeOutputs(model, [{ name, type: 'float32', shape: ['batch', 'seq', mm.d_model] }]),
    output: name,
  };
}
