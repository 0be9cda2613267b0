/**
 * Reads an ONNX model's structure (for graph surgery, and for main/runtime/onnxExpose): the
 * main graph's nodes (op, inputs, outputs, integer attributes), the initializers' names, types, dims and external files (their data is not read),
 * the inputs, outputs and value_info (name, element type, shape). Everything is a view of the
 * model's bytes, so a model with inline weights costs no copy. A model whose graph is split
 * over several `graph` fields (protobuf merges them; main/runtime/onnxExpose writes such
 * models) is read as the one graph they make. Field numbers follow onnx.proto.
 */
import { scanFields, type FieldSpan } from '../runtime/protobuf';

export const MODEL_GRAPH = 7;
export const GRAPH_NODE = 1;
export const GRAPH_INITIALIZER = 5;
export const GRAPH_INPUT = 11;
export const GRAPH_OUTPUT = 12;
export const GRAPH_VALUE_INFO = 13;
export const NODE_INPUT = 1;
export const NODE_OUTPUT = 2;
export const NODE_NAME = 3;
const NODE_OP = 4;
export const NODE_ATTRIBUTE = 5;
const NODE_DOMAIN = 7;
const ATTR_NAME = 1;
const ATTR_INT = 3;

export interface OnnxNode {
  /** Position among the graph's nodes. */
  index: number;
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (axis …) by name. */
  ints: Record<string, number>;
}

export interface OnnxTensorMeta {
  name: string;
  /** TensorProto.DataType (1 float32, 10 float16, 7 int64 …); 0 when unknown. */
  dataType: number;
  dims: number[] | null;
}

export interface OnnxInitializer extends OnnxTensorMeta {
  /** The file named by external_data's `location`, when the data lives outside the model. */
  location: string | null;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: Map<string, OnnxInitializer>;
  inputs: OnnxTensorMeta[];
  outputs: OnnxTensorMeta[];
  valueInfo: Map<string, OnnxTensorMeta>;
  /** The node that computes each tensor. */
  producer: Map<string, OnnxNode>;
  /** The nodes that read each tensor, in graph order. */
  consumers: Map<string, OnnxNode[]>;
  /** The model's fields other than `graph`, in order, and where the (first) graph field was. */
  modelFields: FieldSpan[];
  graphAt: number;
  /** Every field of the merged graph, in order (node fields in `nodes` order). */
  graphFields: FieldSpan[];
}

const utf8 = new TextDecoder();
const str = (f: FieldSpan): string => (f.value ? utf8.decode(f.value) : '');

function readNode(bytes: Uint8Array, index: number): OnnxNode {
  const node: OnnxNode = { index, name: '', op: '', domain: '', inputs: [], outputs: [], ints: {} };
  for (const f of scanFields(bytes)) {
    if (f.n === NODE_INPUT) node.inputs.push(str(f));
    else if (f.n === NODE_OUTPUT) node.outputs.push(str(f));
    else if (f.n === NODE_NAME) node.name = str(f);
    else if (f.n === NODE_OP) node.op = str(f);
    else if (f.n === NODE_DOMAIN) node.domain = str(f);
    else if (f.n === NODE_ATTRIBUTE && f.value) {
      let name = '';
      let value: number | null = null;
      for (const a of scanFields(f.value)) {
        if (a.n === ATTR_NAME) name = str(a);
        else if (a.n === ATTR_INT && a.varint !== undefined) value = a.varint;
      }
      if (value !== null) node.ints[name] = value;
    }
  }
  return node;
}

/** Packed or unpacked repeated int64 dims. */
function readDims(f: FieldSpan, into: number[]): void {
  if (f.varint !== undefined) {
    into.push(f.varint);
    return;
  }
  const v = f.value ?? new Uint8Array();
  let at = 0;
  while (at < v.length) {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = v[at++] ?? 0;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80 || at >= v.length) break;
      scale *= 128;
    }
    into.push(value);
  }
}

function readInitializer(bytes: Uint8Array): OnnxInitializer {
  // TensorProto: dims 1, data_type 2, name 8, external_data 13 (key 1, value 2)
  const t: OnnxInitializer = { name: '', dataType: 0, dims: [], location: null };
  const dims: number[] = [];
  for (const f of scanFields(bytes)) {
    if (f.n === 1) readDims(f, dims);
    else if (f.n === 2 && f.varint !== undefined) t.dataType = f.varint;
    else if (f.n === 8) t.name = str(f);
    else if (f.n === 13 && f.value) {
      let key = '';
      let value = '';
      for (const e of scanFields(f.value)) {
        if (e.n === 1) key = str(e);
        if (e.n === 2) value = str(e);
      }
      if (key === 'location') t.location = value;
    }
  }
  t.dims = dims;
  return t;
}

function readValueInfo(bytes: Uint8Array): OnnxTensorMeta {
  // ValueInfoProto: name 1, type 2 → TypeProto.tensor_type 1 → elem_type 1, shape 2 → dim 1 → value 1 | param 2
  const v: OnnxTensorMeta = { name: '', dataType: 0, dims: null };
  for (const f of scanFields(bytes)) {
    if (f.n === 1) v.name = str(f);
    if (f.n !== 2 || !f.value) continue;
    for (const tp of scanFields(f.value)) {
      if (tp.n !== 1 || !tp.value) continue;
      for (const tt of scanFields(tp.value)) {
        if (tt.n === 1 && tt.varint !== undefined) v.dataType = tt.varint;
        if (tt.n !== 2 || !tt.value) continue;
        const dims: number[] = [];
        for (const dim of scanFields(tt.value)) {
          if (dim.n !== 1 || !dim.value) continue;
          let d = -1;
          for (const dv of scanFields(dim.value))
            if (dv.n === 1 && dv.varint !== undefined) d = dv.varint;
          dims.push(d);
        }
        v.dims = dims;
      }
    }
  }
  return v;
}

/** The structure of `model` (an ONNX ModelProto's bytes). */
export function readGraph(model: Uint8Array): OnnxGraph {
  const g: OnnxGraph = {
    nodes: [],
    initializers: new Map(),
    inputs: [],
    outputs: [],
    valueInfo: new Map(),
    producer: new Map(),
    consumers: new Map(),
    modelFields: [],
    graphAt: -1,
    graphFields: [],
  };
  for (const f of scanFields(model)) {
    if (f.n !== MODEL_GRAPH || !f.value) {
      g.modelFields.push(f);
      continue;
    }
    if (g.graphAt < 0) g.graphAt = g.modelFields.length;
    for (const gf of scanFields(f.value)) g.graphFields.push(gf);
  }
  for (const f of g.graphFields) {
    if (!f.value) continue;
    if (f.n === GRAPH_NODE) g.nodes.push(readNode(f.value, g.nodes.length));
    else if (f.n === GRAPH_INITIALIZER) {
      const t = readInitializer(f.value);
      g.initializers.set(t.name, t);
    } else if (f.n === GRAPH_INPUT) g.inputs.push(readValueInfo(f.value));
    else if (f.n === GRAPH_OUTPUT) g.outputs.push(readValueInfo(f.value));
    else if (f.n === GRAPH_VALUE_INFO) {
      const v = readValueInfo(f.value);
      g.valueInfo.set(v.name, v);
    }
  }
  for (const node of g.nodes) {
    for (const out of node.outputs) if (out) g.producer.set(out, node);
    for (const input of node.inputs) {
      if (!input) continue;
      const list = g.consumers.get(input);
      if (list) {
        if (list[list.length - 1] !== node) list.push(node);
      } else g.consumers.set(input, [node]);
    }
  }
  return g;
}

/** What a node is called in messages: its name and op. */
export function describeNode(node: OnnxNode): string {
  return `'${node.name || `#${node.index}`}' (${node.op})`;
}
