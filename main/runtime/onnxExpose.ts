/**
 * Reads an ONNX model's nodes and exposes tensors inside the graph as extra outputs, without
 * touching the rest of the model. An output is added by appending a second `graph` field
 * that holds only the new ValueInfos: protobuf merges a message field that occurs twice, so
 * the parser sees one graph whose output list has the new names at its end. The weights, the
 * nodes and the existing outputs stay byte for byte as they were.
 */
import { valueInfo, type ValueInfo } from './onnxGraph';
import { message, readFields } from './protobuf';

export interface GraphNode {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (axis …) by name. */
  ints: Record<string, number>;
}

// onnx.proto field numbers.
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_OUTPUT = 12;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_OP = 4;
const NODE_ATTRIBUTE = 5;
const ATTR_NAME = 1;
const ATTR_INT = 3;
const VALUE_NAME = 1;

const utf8 = new TextDecoder();

/** The nodes of the model's main graph, in order (subgraphs are not read). */
export function graphNodes(model: Uint8Array): GraphNode[] {
  return graphFields(model, GRAPH_NODE).map(readNode);
}

/** The names of the main graph's outputs, in order. */
export function graphOutputs(model: Uint8Array): string[] {
  return graphFields(model, GRAPH_OUTPUT).map((bytes) => {
    for (const f of readFields(bytes)) {
      if (f.n === VALUE_NAME && 'bytes' in f) return utf8.decode(f.bytes);
    }
    return '';
  });
}

/** The bytes of every field `n` of the main graph (every `graph` field, merged). */
function graphFields(model: Uint8Array, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of readFields(model)) {
    if (f.n !== MODEL_GRAPH || !('bytes' in f)) continue;
    for (const g of readFields(f.bytes)) if (g.n === n && 'bytes' in g) out.push(g.bytes);
  }
  return out;
}

function readNode(bytes: Uint8Array): GraphNode {
  const node: GraphNode = { op: '', inputs: [], outputs: [], ints: {} };
  for (const f of readFields(bytes)) {
    if (!('bytes' in f)) continue;
    if (f.n === NODE_INPUT) node.inputs.push(utf8.decode(f.bytes));
    else if (f.n === NODE_OUTPUT) node.outputs.push(utf8.decode(f.bytes));
    else if (f.n === NODE_OP) node.op = utf8.decode(f.bytes);
    else if (f.n === NODE_ATTRIBUTE) {
      let name = '';
      let value: number | null = null;
      for (const a of readFields(f.bytes)) {
        if (a.n === ATTR_NAME && 'bytes' in a) name = utf8.decode(a.bytes);
        else if (a.n === ATTR_INT && 'varint' in a) value = a.varint;
      }
      if (value !== null) node.ints[name] = value;
    }
  }
  return node;
}

/**
 * The model with `outputs` (tensors computed inside the graph) added as graph outputs; one
 * that already is an output is left as it is.
 */
export function exposeOutputs(model: Uint8Array, outputs: readonly ValueInfo[]): Uint8Array {
  const have = new Set(graphOutputs(model));
  const add = outputs.filter((v) => !have.has(v.name));
  if (add.length === 0) return model;
  const graph = message(add.map((v) => ({ n: GRAPH_OUTPUT, bytes: valueInfo(v) })));
  const extra = message([{ n: MODEL_GRAPH, bytes: graph }]);
  const out = new Uint8Array(model.length + extra.length);
  out.set(model);
  out.set(extra, model.length);
  return out;
}
