/**
 * Rewires a decoder-only ONNX model at its residual stream (main/onnx/residual): each exposed
 * hook becomes an extra graph output named exactly the hook name (an Identity of the stream
 * there, before that hook's steering), and each steered hook gets a new input `steer.<hook>`
 * (the stream's element type, [batch, seq, d_model] or anything that broadcasts to it) added to
 * the stream right there: the new Add sits after the node that computes the tensor and every
 * reader of the tensor reads the sum instead. Hooks on one tensor (block N's resid_post and
 * block N+1's resid_pre) run in TransformerLens order, so a steering at the first shows in the
 * second. Block N's attn.hook_z (when found) is exposed and steered the same way at the input of
 * the attention's output projection, with [batch, seq, n_heads·d_head] tensors. Every other byte stays as it was: initializers and untouched nodes are copied as
 * views of the input, and only the nodes that read a steered tensor are re-encoded.
 */
import { OrreryError } from '../../preload/contract/result';
import { valueInfo, type ElemType } from '../runtime/onnxGraph';
import { concat, fieldChunks, message, scanFields, type Chunks } from '../runtime/protobuf';
import {
  GRAPH_INPUT,
  GRAPH_NODE,
  GRAPH_OUTPUT,
  MODEL_GRAPH,
  NODE_INPUT,
  readGraph,
  type OnnxGraph,
} from './graph';
import { hooksAt, steerInputName } from './hookNames';
import { mapResidual, type ResidualChain } from './residual';

export interface RewireOptions {
  /** Hook names to expose as outputs. */
  expose: string[];
  /** Hook names that get a steering input. */
  steer: string[];
}

const ELEM_NAMES: Record<number, ElemType> = { 1: 'float32', 10: 'float16' };

function checkHooks(chain: ResidualChain, options: RewireOptions): void {
  for (const h of [...options.expose, ...options.steer]) {
    if (!chain.map.hooks.has(h) && !chain.map.z.has(h)) {
      const last = chain.map.nLayers - 1;
      const z = chain.z.length > 0 ? ', and attn.hook_z' : '';
      throw new OrreryError(
        'bad_input',
        `Unknown hook '${h}': this model has ${chain.map.nLayers} blocks, so its hooks are ` +
          `blocks.0.hook_resid_pre … blocks.${last}.hook_resid_post (hook_resid_pre, hook_resid_mid ` +
          `and hook_resid_post of each block${z}).`,
      );
    }
  }
}

function encodeNode(op: string, name: string, inputs: string[], outputs: string[]): Uint8Array {
  return message([
    ...inputs.map((s) => ({ n: 1, string: s })),
    ...outputs.map((s) => ({ n: 2, string: s })),
    { n: 3, string: name },
    { n: 4, string: op },
  ]);
}

/** A node's bytes with its inputs renamed (other fields copied as they were). */
function renameInputs(node: Uint8Array, rename: Map<string, string>): Uint8Array {
  const parts: Uint8Array[] = [];
  let changed = false;
  for (const f of scanFields(node)) {
    const to =
      f.n === NODE_INPUT && f.value ? rename.get(new TextDecoder().decode(f.value)) : undefined;
    if (to === undefined) parts.push(f.raw);
    else {
      parts.push(message([{ n: NODE_INPUT, string: to }]));
      changed = true;
    }
  }
  return changed ? concat(parts) : node;
}

interface Plan {
  /** New nodes to place after the node computing a tensor ('' = before every node). */
  after: Map<string, Uint8Array[]>;
  rename: Map<string, string>;
  inputs: Uint8Array[];
  outputs: Uint8Array[];
}

/** Each tensor carrying hooks, its hooks in TransformerLens order and its width. */
function sites(chain: ResidualChain): { tensor: string; hooks: string[]; width: number | null }[] {
  const stream = chain.tensors.map((tensor, k) => ({
    tensor,
    hooks: hooksAt(k, chain.map.nLayers),
    width: chain.map.dModel,
  }));
  const z = chain.z.map((site) => ({ tensor: site.tensor, hooks: [site.hook], width: site.width }));
  return [...stream, ...z];
}

function plan(g: OnnxGraph, chain: ResidualChain, options: RewireOptions): Plan {
  const expose = new Set(options.expose);
  const steer = new Set(options.steer);
  const type = ELEM_NAMES[chain.elemType] ?? 'float32';
  const taken = new Set([...g.producer.keys(), ...g.inputs.map((i) => i.name)]);
  const p: Plan = { after: new Map(), rename: new Map(), inputs: [], outputs: [] };
  for (const { tensor, hooks, width } of sites(chain)) {
    const shape = ['batch_size', 'sequence_length', width ?? 'd_model'];
    const nodes: Uint8Array[] = [];
    let current = tensor;
    for (const hook of hooks) {
      if (expose.has(hook)) {
        if (taken.has(hook)) {
          throw new OrreryError('bad_input', `The graph already has a tensor named '${hook}'.`);
        }
        nodes.push(encodeNode('Identity', `orrery/expose/${hook}`, [current], [hook]));
        p.outputs.push(valueInfo({ name: hook, type, shape }));
      }
      if (steer.has(hook)) {
        const input = steerInputName(hook);
        const sum = `orrery/steered/${hook}`;
        nodes.push(encodeNode('Add', `orrery/steer/${hook}`, [current, input], [sum]));
        p.inputs.push(valueInfo({ name: input, type, shape }));
        current = sum;
      }
    }
    if (nodes.length === 0) continue;
    const at = g.producer.has(tensor) ? tensor : '';
    p.after.set(at, [...(p.after.get(at) ?? []), ...nodes]);
    if (current !== tensor) p.rename.set(tensor, current);
  }
  return p;
}

/**
 * The rewired model as chunks (views of `model` where unchanged), and its residual chain
 * (found by mapResidual unless given: a test gives a wrong one to see the self-check fail).
 */
export function rewireChunks(
  model: Uint8Array,
  options: RewireOptions,
  given?: ResidualChain,
): { chunks: Chunks; chain: ResidualChain } {
  const g = readGraph(model);
  const chain = given ?? mapResidual(g);
  checkHooks(chain, options);
  const p = plan(g, chain, options);
  const graph: Chunks = [];
  const place = (nodes: Uint8Array[] | undefined): void => {
    for (const n of nodes ?? []) graph.push(...fieldChunks(GRAPH_NODE, [n]));
  };
  let nodeIndex = 0;
  for (const f of g.graphFields) {
    if (f.n !== GRAPH_NODE || !f.value) {
      graph.push(f.raw);
      continue;
    }
    if (nodeIndex === 0) place(p.after.get(''));
    const node = g.nodes[nodeIndex++];
    const renamed = p.rename.size > 0 ? renameInputs(f.value, p.rename) : f.value;
    graph.push(...(renamed === f.value ? [f.raw] : fieldChunks(GRAPH_NODE, [renamed])));
    for (const out of node?.outputs ?? []) place(p.after.get(out));
  }
  for (const input of p.inputs) graph.push(...fieldChunks(GRAPH_INPUT, [input]));
  for (const output of p.outputs) graph.push(...fieldChunks(GRAPH_OUTPUT, [output]));
  const chunks: Chunks = [];
  g.modelFields.forEach((f, i) => {
    if (i === g.graphAt) chunks.push(...fieldChunks(MODEL_GRAPH, graph));
    chunks.push(f.raw);
  });
  if (g.graphAt === g.modelFields.length) chunks.push(...fieldChunks(MODEL_GRAPH, graph));
  return { chunks, chain };
}

/**
 * The model with each exposed hook as an extra output named exactly the hook name (the value
 * before that hook's steering), and for each steered hook a new input `steer.<hook>` added to
 * the stream there. Throws OrreryError('bad_input') for an unknown hook or a graph it cannot map.
 */
export function rewireDecoder(model: Uint8Array, options: RewireOptions): Uint8Array {
  return concat(rewireChunks(model, options).chunks);
}
