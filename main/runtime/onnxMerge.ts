/**
 * Merges ONNX models into one, on the protobuf level: each part's tensors are renamed by the
 * caller's rule (a tensor of one part that is named like another part's graph output is wired
 * to it), the parts' nodes are concatenated in order and their initializers kept, their
 * weights copied as byte spans, never decoded. The text engine runs its split graphs as one
 * (main/runtime/text/mergedGraph): one ORT run a step instead of one per graph.
 *
 * Returns null, never a model that might compute something else, when a part has what a
 * rename could change the meaning of or this merge does not carry over: a subgraph attribute
 * (If/Loop/Scan read names from the enclosing graph), weights in external files, sparse
 * initializers, model-local functions, training info; also when the parts' opset imports
 * disagree, when their IR versions differ and one is older than 4 (initializers were graph
 * inputs then), when two parts make the same name, when a graph input is wired to a tensor of
 * another type, or when the nodes are not in an order where each reads only what came before.
 * The parts' value_info (shape hints) is dropped, ORT infers shapes again, but for each wired
 * tensor: it keeps the type and shape its reader declared for it as a graph input, so that
 * ORT fuses across the seam what it fused in the reader alone (Add + LayerNormalization into
 * SkipLayerNormalization needs the shape), and the merged graph computes what the parts
 * computed, bit for bit on the text packs. Bytes that are not protobuf throw.
 */
import {
  GRAPH_INITIALIZER,
  GRAPH_INPUT,
  GRAPH_NODE,
  GRAPH_OUTPUT,
  GRAPH_VALUE_INFO,
  MODEL_GRAPH,
  NODE_ATTRIBUTE,
  NODE_INPUT,
  NODE_NAME,
  NODE_OUTPUT,
} from '../onnx/graph';
import {
  chunksLength,
  concat,
  fieldChunks,
  fieldHeader,
  scanFields,
  type Chunks,
} from './protobuf';

// onnx.proto field numbers not named in main/onnx/graph.
const MODEL_IR_VERSION = 1;
const MODEL_PRODUCER = 2;
const MODEL_OPSET = 8;
const MODEL_TRAINING_INFO = 20;
const MODEL_FUNCTIONS = 25;
const GRAPH_NAME = 2;
const GRAPH_SPARSE_INITIALIZER = 15;
const ATTR_T = 5;
const ATTR_G = 6;
const ATTR_TENSORS = 10;
const ATTR_GRAPHS = 11;
const ATTR_TYPE = 20;
const ATTR_TYPE_GRAPH = 5;
const ATTR_TYPE_GRAPHS = 10;
const TENSOR_NAME = 8;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;
const VALUE_INFO_NAME = 1;
const VALUE_INFO_TYPE = 2;
const OPSET_DOMAIN = 1;
const OPSET_VERSION = 2;

export interface MergePart {
  /**
   * An ONNX ModelProto's bytes, or several pieces that are one ModelProto end to end
   * (protobuf merges a message field that occurs again, as onnxExpose's added outputs do):
   * the pieces are read in place, never joined.
   */
  model: Uint8Array | readonly Uint8Array[];
  /**
   * The name a tensor of this part (node input or output, initializer, graph input or
   * output) has in the merged graph. Internal tensors need a name no other part uses (a
   * prefix per part); a graph input renamed to another part's output reads that output.
   */
  rename(name: string): string;
  /** Put before each node name (node names must stay unique too). */
  nodePrefix: string;
}

export interface MergeOptions {
  /** The merged graph's name. */
  name: string;
  /** Whether a part's graph output (by its merged name) stays an output of the merged graph. */
  keepOutput(name: string): boolean;
}

const utf8 = new TextDecoder();
const encoder = new TextEncoder();
const text = (v: Uint8Array | undefined): string => (v ? utf8.decode(v) : '');
const stringField = (n: number, s: string): Chunks => fieldChunks(n, [encoder.encode(s)]);

function varintField(n: number, value: number): Uint8Array {
  const out = [(n << 3) | 0];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** Thrown inside merge() for what it cannot carry over; merge() answers null. */
class Unmergeable extends Error {}

interface Part {
  ir: number;
  opsets: Map<string, number>;
  nodes: Uint8Array[];
  initializers: Uint8Array[];
  inputs: Uint8Array[];
  outputs: Uint8Array[];
}

function readPart(model: Uint8Array | readonly Uint8Array[]): Part {
  const part: Part = {
    ir: 0,
    opsets: new Map(),
    nodes: [],
    initializers: [],
    inputs: [],
    outputs: [],
  };
  const fields = (model instanceof Uint8Array ? [model] : model).flatMap((m) => [...scanFields(m)]);
  for (const f of fields) {
    if (f.n === MODEL_IR_VERSION && f.varint !== undefined) part.ir = f.varint;
    else if (f.n === MODEL_OPSET && f.value) {
      let domain = '';
      let version = 0;
      for (const o of scanFields(f.value)) {
        if (o.n === OPSET_DOMAIN) domain = text(o.value);
        else if (o.n === OPSET_VERSION && o.varint !== undefined) version = o.varint;
      }
      // 'ai.onnx' is the default domain's other spelling.
      const key = domain === 'ai.onnx' ? '' : domain;
      if (part.opsets.has(key) && part.opsets.get(key) !== version) throw new Unmergeable();
      part.opsets.set(key, version);
    } else if (f.n === MODEL_FUNCTIONS || f.n === MODEL_TRAINING_INFO) throw new Unmergeable();
    else if (f.n === MODEL_GRAPH && f.value) {
      // Several graph fields make one graph (protobuf merges them; onnxExpose writes such).
      for (const g of scanFields(f.value)) {
        if (!g.value) continue;
        if (g.n === GRAPH_NODE) part.nodes.push(g.value);
        else if (g.n === GRAPH_INITIALIZER) part.initializers.push(g.value);
        else if (g.n === GRAPH_INPUT) part.inputs.push(g.value);
        else if (g.n === GRAPH_OUTPUT) part.outputs.push(g.value);
        else if (g.n === GRAPH_SPARSE_INITIALIZER) throw new Unmergeable();
      }
    }
  }
  return part;
}

/** A TensorProto's fields other than its name, checked for data in other files. */
function tensorRest(bytes: Uint8Array): { name: string; rest: Chunks } {
  let name = '';
  const rest: Chunks = [];
  for (const f of scanFields(bytes)) {
    if (f.n === TENSOR_NAME) name = text(f.value);
    else if (f.n === TENSOR_EXTERNAL_DATA) throw new Unmergeable();
    else if (f.n === TENSOR_DATA_LOCATION && f.varint === 1) throw new Unmergeable();
    else rest.push(f.raw);
  }
  return { name, rest };
}

/** Refuses an attribute that holds a graph, or a tensor whose data is in another file. */
function checkAttribute(bytes: Uint8Array): void {
  for (const f of scanFields(bytes)) {
    if (f.n === ATTR_G || f.n === ATTR_GRAPHS) throw new Unmergeable();
    if (f.n === ATTR_TYPE && (f.varint === ATTR_TYPE_GRAPH || f.varint === ATTR_TYPE_GRAPHS))
      throw new Unmergeable();
    if ((f.n === ATTR_T || f.n === ATTR_TENSORS) && f.value) tensorRest(f.value);
  }
}

/** A ValueInfoProto's name and element type (0 when it has none). */
function valueInfoMeta(bytes: Uint8Array): { name: string; elem: number } {
  let name = '';
  let elem = 0;
  for (const f of scanFields(bytes)) {
    if (f.n === VALUE_INFO_NAME) name = text(f.value);
    if (f.n !== VALUE_INFO_TYPE || !f.value) continue;
    for (const tp of scanFields(f.value)) {
      if (tp.n !== 1 || !tp.value) continue; // tensor_type
      for (const tt of scanFields(tp.value))
        if (tt.n === 1 && tt.varint !== undefined) elem = tt.varint;
    }
  }
  return { name, elem };
}

function renamedValueInfo(bytes: Uint8Array, name: string): Chunks {
  const out: Chunks = [];
  for (const f of scanFields(bytes)) {
    if (f.n === VALUE_INFO_NAME) out.push(...stringField(VALUE_INFO_NAME, name));
    else out.push(f.raw);
  }
  return out;
}

/**
 * One model from `parts`, in their order (each part may read only the graph outputs of parts
 * before it), or null when it cannot be merged safely (see the file comment). The merged
 * graph's inputs are the parts' graph inputs not wired to another part's output, each name
 * once; its outputs, the parts' graph outputs that `keepOutput` keeps.
 */
export function mergeModels(parts: readonly MergePart[], options: MergeOptions): Uint8Array | null {
  try {
    return merge(parts, options);
  } catch (e) {
    if (e instanceof Unmergeable) return null;
    throw e;
  }
}

function merge(parts: readonly MergePart[], options: MergeOptions): Uint8Array {
  const read = parts.map((p) => readPart(p.model));
  // Opset imports: the same version of each domain wherever it is imported.
  const opsets = new Map<string, number>();
  for (const p of read) {
    for (const [domain, version] of p.opsets) {
      if (opsets.has(domain) && opsets.get(domain) !== version) throw new Unmergeable();
      opsets.set(domain, version);
    }
  }
  const irs = read.map((p) => p.ir);
  const ir = Math.max(...irs);
  if (irs.some((v) => v !== ir) && Math.min(...irs) < 4) throw new Unmergeable();

  // Where each merged name comes from: one node output or initializer at most.
  const made = new Map<string, { part: number; node: boolean }>();
  const make = (name: string, part: number, node: boolean): void => {
    if (name === '') return;
    if (made.has(name)) throw new Unmergeable();
    made.set(name, { part, node });
  };
  const nodes: Chunks[] = [];
  const nodeNames = new Set<string>();
  const inits: Chunks[] = [];
  const nodeIo: { inputs: string[]; outputs: string[] }[] = [];
  read.forEach((p, k) => {
    const part = parts[k] as MergePart;
    const rename = (s: string): string => (s === '' ? '' : part.rename(s));
    for (const bytes of p.initializers) {
      const { name, rest } = tensorRest(bytes);
      const to = rename(name);
      make(to, k, false);
      inits.push([...rest, ...stringField(TENSOR_NAME, to)]);
    }
    for (const bytes of p.nodes) {
      const out: Chunks = [];
      const io = { inputs: [] as string[], outputs: [] as string[] };
      for (const f of scanFields(bytes)) {
        if (f.n === NODE_INPUT || f.n === NODE_OUTPUT) {
          const to = rename(text(f.value));
          (f.n === NODE_INPUT ? io.inputs : io.outputs).push(to);
          out.push(...stringField(f.n, to));
        } else if (f.n === NODE_NAME) {
          const name = text(f.value);
          if (name === '') continue;
          const to = part.nodePrefix + name;
          if (nodeNames.has(to)) throw new Unmergeable();
          nodeNames.add(to);
          out.push(...stringField(NODE_NAME, to));
        } else {
          if (f.n === NODE_ATTRIBUTE && f.value) checkAttribute(f.value);
          out.push(f.raw);
        }
      }
      for (const o of io.outputs) make(o, k, true);
      nodeIo.push(io);
      nodes.push(out);
    }
  });

  // Each part's graph outputs by merged name, with their element types.
  const partOutputs = read.map((p, k) => {
    const m = new Map<string, number>();
    for (const bytes of p.outputs) {
      const { name, elem } = valueInfoMeta(bytes);
      m.set((parts[k] as MergePart).rename(name), elem);
    }
    return m;
  });

  // Graph inputs: one that names an earlier part's graph output is wired to it (and dropped);
  // the rest are the merged graph's inputs, each name once, of one element type.
  const inputs = new Map<string, { bytes: Uint8Array; elem: number }>();
  const wired = new Map<string, Uint8Array>();
  read.forEach((p, k) => {
    const part = parts[k] as MergePart;
    for (const bytes of p.inputs) {
      const { name, elem } = valueInfoMeta(bytes);
      const to = part.rename(name);
      const source = made.get(to);
      if (source && source.part !== k) {
        // The input's declared type and shape stay as a hint on the wired tensor (fusions
        // such as Add + LayerNormalization need it where the shape is not inferred).
        if (!wired.has(to)) wired.set(to, concat(renamedValueInfo(bytes, to)));
        const outElem = partOutputs[source.part]?.get(to);
        // Wired only to what a part offers as its output, made before this part runs.
        if (source.part > k || outElem === undefined) throw new Unmergeable();
        if (outElem !== 0 && elem !== 0 && outElem !== elem) throw new Unmergeable();
        continue;
      }
      // An input with a default (its own initializer) stays an input.
      if (source?.node) throw new Unmergeable();
      const seen = inputs.get(to);
      if (seen) {
        if (seen.elem !== elem || source) throw new Unmergeable();
        continue;
      }
      inputs.set(to, { bytes: concat(renamedValueInfo(bytes, to)), elem });
    }
  });

  // Every node reads only graph inputs, initializers and outputs of the nodes before it.
  const defined = new Set<string>(['', ...inputs.keys()]);
  for (const [name, m] of made) if (!m.node) defined.add(name);
  for (const io of nodeIo) {
    for (const i of io.inputs) if (!defined.has(i)) throw new Unmergeable();
    for (const o of io.outputs) defined.add(o);
  }

  const outputs: Chunks[] = [];
  const outNames = new Set<string>();
  read.forEach((p, k) => {
    const part = parts[k] as MergePart;
    for (const bytes of p.outputs) {
      const to = part.rename(valueInfoMeta(bytes).name);
      if (!options.keepOutput(to) || outNames.has(to)) continue;
      if (!defined.has(to)) throw new Unmergeable();
      outNames.add(to);
      outputs.push(renamedValueInfo(bytes, to));
    }
  });

  const graph: Chunks = [
    ...nodes.flatMap((n) => fieldChunks(GRAPH_NODE, n)),
    ...stringField(GRAPH_NAME, options.name),
    ...inits.flatMap((t) => fieldChunks(GRAPH_INITIALIZER, t)),
    ...[...inputs.values()].flatMap((v) => fieldChunks(GRAPH_INPUT, [v.bytes])),
    ...outputs.flatMap((v) => fieldChunks(GRAPH_OUTPUT, v)),
    ...[...wired.values()].flatMap((v) => fieldChunks(GRAPH_VALUE_INFO, [v])),
  ];
  const model: Chunks = [
    varintField(MODEL_IR_VERSION, ir),
    ...stringField(MODEL_PRODUCER, 'orrery onnxMerge'),
    fieldHeader(MODEL_GRAPH, chunksLength(graph)),
    ...graph,
    ...[...opsets].flatMap(([domain, version]) =>
      fieldChunks(MODEL_OPSET, [
        ...stringField(OPSET_DOMAIN, domain),
        varintField(OPSET_VERSION, version),
      ]),
    ),
  ];
  return concat(model);
}
