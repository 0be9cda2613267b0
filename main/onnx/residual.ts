/**
 * Finds the residual stream of a decoder-only ONNX graph (a Hugging Face export: GPT-2 style
 * with LayerNorm and learned positions, Llama style with RMSNorm and rotary) by its structure,
 * not by node names. The stream is a chain of tensors r0 → r1 → … where each r_{i+1} =
 * Add(r_i, f(norm(r_i))): r_i feeds a normalisation and an Add whose other input is computed
 * from r_i, and that Add's output feeds the next normalisation; the last r feeds the final
 * norm only. Two Adds per block (attention, then MLP) give the TransformerLens hooks
 * (main/onnx/hookNames). Block N's attn.hook_z is found from the attention's Add: the input of
 * the MatMul (or Gemm) with a 2-D weight initializer whose output, through a bias Add and
 * Reshapes, is the operand that Add adds to resid_pre; a block where that search fails simply
 * has no hook_z. A graph it cannot map throws OrreryError('bad_input') naming the
 * node where the search stopped and why.
 */
import { OrreryError } from '../../preload/contract/result';
import { describeNode, readGraph, type OnnxGraph, type OnnxNode } from './graph';
import { hooksAt, zHookName } from './hookNames';
import { normOf } from './norms';

export interface ResidualMap {
  nLayers: number;
  /** From shapes or initializers when known. */
  dModel: number | null;
  /** TransformerLens hook name → the tensor in the graph that carries it (the residual stream). */
  hooks: Map<string, string>;
  /** blocks.N.attn.hook_z → the tensor carrying it, for each block where it was found. */
  z: Map<string, string>;
  /** Each hook's last dimension where known (d_model on the stream, n_heads·d_head at hook_z). */
  widths: Map<string, number>;
}

/** Where block N's attn.hook_z is and the projection that turns it into the attention's output. */
export interface ZSite {
  hook: string;
  /** The tensor read by the output projection (after the heads are merged). */
  tensor: string;
  /** n_heads·d_head, from the weight's shape. */
  width: number;
  /** The projection's weight initializer, [width, d_model] (or [d_model, width] when transposed). */
  weight: string;
  transposed: boolean;
  /** The bias initializer added after it, when there is one. */
  bias: string | null;
}

/** The map plus what surgery needs: the chain of tensors and the stream's element type. */
export interface ResidualChain {
  map: ResidualMap;
  /** r0 … r2L. */
  tensors: string[];
  /** TensorProto.DataType of the stream (1 float32, 10 float16). */
  elemType: number;
  /** hook_z of each block where found, block order. */
  z: ZSite[];
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

const PASS_THROUGH = new Set(['Reshape', 'Identity', 'Cast', 'Squeeze', 'Unsqueeze']);

/**
 * Block N's hook_z: from `added` (the operand the attention Add adds to resid_pre), back
 * through Reshapes and a bias Add with an initializer, to a MatMul/Gemm with a 2-D weight.
 */
function zSiteOf(g: OnnxGraph, block: number, added: string): ZSite | null {
  let t = added;
  let bias: string | null = null;
  for (let step = 0; step < 8; step++) {
    const node = g.producer.get(t);
    if (!node) return null;
    if (PASS_THROUGH.has(node.op)) {
      t = node.inputs[0] ?? '';
      continue;
    }
    if (node.op === 'Add' && bias === null) {
      const k = node.inputs.findIndex((i) => g.initializers.has(i));
      if (k < 0) return null;
      bias = node.inputs[k] as string;
      t = node.inputs[1 - k] ?? '';
      continue;
    }
    if (node.op !== 'MatMul' && node.op !== 'Gemm') return null;
    const weight = g.initializers.get(node.inputs[1] ?? '');
    if (weight?.dims?.length !== 2) return null;
    const transposed = node.op === 'Gemm' && node.ints.transB === 1;
    const width = weight.dims[transposed ? 1 : 0] ?? 0;
    if (node.op === 'Gemm' && node.inputs[2] && g.initializers.has(node.inputs[2])) {
      bias = node.inputs[2];
    }
    let tensor = node.inputs[0] ?? '';
    // Gemm reads a 2-D view: the hook is the [batch, seq, width] tensor before that Reshape.
    const flat = g.producer.get(tensor);
    if (node.op === 'Gemm' && flat?.op === 'Reshape') tensor = flat.inputs[0] ?? tensor;
    if (!tensor || width <= 0) return null;
    return { hook: zHookName(block), tensor, width, weight: weight.name, transposed, bias };
  }
  return null;
}

/** hook_z of every block whose attention output projection is found. */
function zSites(g: OnnxGraph, chain: string[], nLayers: number): ZSite[] {
  const out: ZSite[] = [];
  for (let block = 0; block < nLayers; block++) {
    const add = g.producer.get(chain[2 * block + 1] ?? '');
    const pre = chain[2 * block];
    const added = add?.inputs[0] === pre ? add?.inputs[1] : add?.inputs[0];
    const site = added ? zSiteOf(g, block, added) : null;
    if (site) out.push(site);
  }
  return out;
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
  const widths = new Map<string, number>();
  const dModel = dModelOf(g, chain);
  chain.forEach((t, k) => {
    for (const h of hooksAt(k, nLayers)) {
      hooks.set(h, t);
      if (dModel !== null) widths.set(h, dModel);
    }
  });
  const z = zSites(g, chain, nLayers);
  for (const site of z) widths.set(site.hook, site.width);
  return {
    map: { nLayers, dModel, hooks, z: new Map(z.map((s) => [s.hook, s.tensor])), widths },
    tensors: chain,
    elemType: elemTypeOf(g, chain),
    z,
  };
}

/** The residual stream of `model` (an ONNX ModelProto's bytes) as TransformerLens hooks. */
export function findResidualStream(model: Uint8Array): ResidualMap {
  return mapResidual(readGraph(model)).map;
}
