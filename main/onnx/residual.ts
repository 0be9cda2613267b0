/**
 * Finds the residual stream of a decoder-only ONNX graph (a Hugging Face export: GPT-2 style
 * with LayerNorm and learned positions, Llama style with RMSNorm and rotary) by its structure,
 * not by node names. The stream is a chain of tensors r0 → r1 → … where each r_{i+1} =
 * Add(r_i, f(norm(r_i))): r_i feeds a normalisation and an Add whose other input is computed
 * from r_i, and that Add's output feeds the next normalisation; the last r feeds the final
 * norm only. Two Adds per block (attention, then MLP) give the TransformerLens hooks
 * (main/onnx/hookNames). A graph it cannot map throws OrreryError('bad_input') naming the
 * node where the search stopped and why.
 */
import { OrreryError } from '../../preload/contract/result';
import { describeNode, readGraph, type OnnxGraph, type OnnxNode } from './graph';
import { hooksAt } from './hookNames';
import { normOf } from './norms';

export interface ResidualMap {
  nLayers: number;
  /** From shapes or initializers when known. */
  dModel: number | null;
  /** TransformerLens hook name → the tensor in the graph that carries it. */
  hooks: Map<string, string>;
}

/** The map plus what surgery needs: the chain of tensors and the stream's element type. */
export interface ResidualChain {
  map: ResidualMap;
  /** r0 … r2L. */
  tensors: string[];
  /** TensorProto.DataType of the stream (1 float32, 10 float16). */
  elemType: number;
}

const bad = (detail: string): OrreryError => new OrreryError('bad_input', detail);

function refuseMerged(g: OnnxGraph): void {
  const branch = g.nodes.find((n) => n.op === 'If');
  if (!branch) return;
  throw bad(
    `Node ${describeNode(branch)} is at the top of the graph: this is a merged decoder (an If ` +
      'node choosing between with-past and without-past branches), whose branches Orrery does ' +
      'not rewire; open onnx/decoder_model.onnx instead (or decoder_with_past_model.onnx) from ' +
      'the same export.',
  );
}

/** Every tensor computed downstream of `from` (memoised per start). */
function downstreamOf(g: OnnxGraph): (from: string) => Set<string> {
  const memo = new Map<string, Set<string>>();
  return (from) => {
    const hit = memo.get(from);
    if (hit) return hit;
    const seen = new Set<string>();
    const queue = [from];
    while (queue.length > 0) {
      const t = queue.pop() as string;
      for (const node of g.consumers.get(t) ?? []) {
        for (const out of node.outputs) {
          if (out && !seen.has(out)) {
            seen.add(out);
            queue.push(out);
          }
        }
      }
    }
    memo.set(from, seen);
    return seen;
  };
}

function logitsOutput(g: OnnxGraph): string {
  const named = g.outputs.find((o) => o.name === 'logits');
  const first = named ?? g.outputs[0];
  if (!first) throw bad('The graph has no outputs, so there is no residual stream to find.');
  return first.name;
}

function lastDim(g: OnnxGraph, tensor: string): number | null {
  const meta = g.valueInfo.get(tensor) ?? g.outputs.find((o) => o.name === tensor);
  const d = meta?.dims?.[meta.dims.length - 1];
  return d !== undefined && d > 0 ? d : null;
}

/** The embedding table read by a Gather at r0 (or at one of r0's inputs). */
function embeddingOf(g: OnnxGraph, r0: string): { dims: number[]; dataType: number } | null {
  const producer = g.producer.get(r0);
  if (!producer) return null;
  const gathers = [producer, ...producer.inputs.map((t) => g.producer.get(t))].filter(
    (n): n is OnnxNode => n?.op === 'Gather',
  );
  for (const gather of gathers) {
    const table = g.initializers.get(gather.inputs[0] ?? '');
    if (table?.dims?.length === 2) return { dims: table.dims, dataType: table.dataType };
  }
  return null;
}

function dModelOf(g: OnnxGraph, tensors: string[]): number | null {
  for (const t of tensors) {
    const d = lastDim(g, t);
    if (d !== null) return d;
  }
  const table = embeddingOf(g, tensors[0] ?? '');
  if (table) return table.dims[1] ?? null;
  const norm = normOf(g, tensors[0] ?? '');
  const scale = norm?.op === 'LayerNormalization' ? g.initializers.get(norm.inputs[1] ?? '') : null;
  return scale?.dims?.length === 1 ? (scale.dims[0] ?? null) : null;
}

function elemTypeOf(g: OnnxGraph, tensors: string[]): number {
  for (const t of tensors) {
    const type = g.valueInfo.get(t)?.dataType;
    if (type) return type;
  }
  return embeddingOf(g, tensors[0] ?? '')?.dataType || 1;
}

/** The residual chain of an already-read graph. */
export function mapResidual(g: OnnxGraph): ResidualChain {
  refuseMerged(g);
  const logits = logitsOutput(g);
  const downstream = downstreamOf(g);
  const tensors = [...g.inputs.map((i) => i.name), ...g.producer.keys()];
  const normed = tensors.filter((t) => normOf(g, t) !== null);
  if (normed.length === 0) {
    const at = g.producer.get(logits);
    throw bad(
      `Stopped at node ${at ? describeNode(at) : `'${logits}'`}, which computes '${logits}': no ` +
        'tensor in the graph feeds a normalisation (LayerNormalization, SimplifiedLayerNormalization, ' +
        'or one decomposed into ReduceMean/Pow), so this is not a pre-norm decoder with a residual stream.',
    );
  }
  // next(t): the Add that makes the next residual from t.
  const next = new Map<string, OnnxNode>();
  for (const t of normed) {
    const adds = (g.consumers.get(t) ?? []).filter((c) => {
      if (c.op !== 'Add' || c.inputs.length !== 2 || !c.outputs[0]) return false;
      const other = c.inputs[0] === t ? c.inputs[1] : c.inputs[0];
      return other !== t && downstream(t).has(other ?? '') && normOf(g, c.outputs[0]) !== null;
    });
    if (adds.length > 1) {
      throw bad(
        `Stopped at tensor '${t}': two Adds (${adds.map(describeNode).join(', ')}) each add it ` +
          'to something computed from it and feed a normalisation; the residual stream is ambiguous.',
      );
    }
    if (adds[0]) next.set(t, adds[0]);
  }
  const made = new Set([...next.values()].map((n) => n.outputs[0]));
  const starts = [...next.keys()].filter((t) => !made.has(t));
  const first = normed[0] as string;
  if (starts.length === 0) {
    throw bad(
      `Stopped at node ${describeNode(normOf(g, first) as OnnxNode)}: its input '${first}' feeds a ` +
        'normalisation, but no Add adds any normalised tensor to something computed from it (a ' +
        'residual connection), so the residual stream cannot be followed.',
    );
  }
  const chains = starts.map((s) => {
    const chain = [s];
    for (let t = next.get(s); t; t = next.get(chain[chain.length - 1] as string)) {
      chain.push(t.outputs[0] as string);
    }
    return chain;
  });
  chains.sort((a, b) => b.length - a.length);
  const chain = chains[0] as string[];
  if (chains[1] && chains[1].length === chain.length) {
    throw bad(
      `Stopped at tensors '${chain[0]}' and '${chains[1][0]}': both start a residual chain of ` +
        `${chain.length - 1} Adds; the residual stream is ambiguous.`,
    );
  }
  const lastAdd = g.producer.get(chain[chain.length - 1] as string) as OnnxNode;
  const addCount = chain.length - 1;
  if (addCount % 2 !== 0) {
    throw bad(
      `Stopped at node ${describeNode(lastAdd)}: the residual chain has ${addCount} Adds, an odd ` +
        'count, where a sequential pre-norm block has two (attention, then MLP); blocks that add ' +
        'attention and MLP in parallel are not supported.',
    );
  }
  const nLayers = addCount / 2;
  const presents = g.outputs.filter((o) => /^present\.\d+\.key$/.test(o.name)).length;
  if (presents > 0 && presents !== nLayers) {
    throw bad(
      `Stopped at node ${describeNode(lastAdd)}: the residual chain has ${addCount} Adds ` +
        `(${nLayers} blocks) but the graph has ${presents} present.N.key outputs.`,
    );
  }
  const last = chain[chain.length - 1] as string;
  if (!downstream(last).has(logits)) {
    throw bad(
      `Stopped at node ${describeNode(lastAdd)}: the last residual tensor '${last}' does not ` +
        `lead to '${logits}'.`,
    );
  }
  const hooks = new Map<string, string>();
  chain.forEach((t, k) => {
    for (const h of hooksAt(k, nLayers)) hooks.set(h, t);
  });
  return {
    map: { nLayers, dModel: dModelOf(g, chain), hooks },
    tensors: chain,
    elemType: elemTypeOf(g, chain),
  };
}

/** The residual stream of `model` (an ONNX ModelProto's bytes) as TransformerLens hooks. */
export function findResidualStream(model: Uint8Array): ResidualMap {
  return mapResidual(readGraph(model)).map;
}
