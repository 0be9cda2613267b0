/**
 * Reads an ONNX model's nodes and exposes tensors inside the graph as extra outputs, without
 * touching the rest of the model. An output is added by appending a second `graph` field
 * that holds only the new ValueInfos: protobuf merges a message field that occurs twice, so
 * the parser sees one graph whose output list has the new names at its end. The weights, the
 * nodes and the existing outputs stay byte for byte as they were.
 */
import { valueInfo, type ValueInfo } from './onnxGraph';
import { GRAPH_OUTPUT, MODEL_GRAPH, readGraph, type OnnxNode } from '../onnx/graph';
import { message } from './protobuf';

/** A node of the main graph: op, inputs, outputs and integer attributes (main/onnx/graph). */
export type GraphNode = Pick<OnnxNode, 'op' | 'inputs' | 'outputs' | 'ints'>;

/** The nodes of the model's main graph, in order (subgraphs are not read). */
export function graphNodes(model: Uint8Array): GraphNode[] {
  return readGraph(model).nodes.map(({ op, inputs, outputs, ints }) => ({
    op,
    inputs,
    outputs,
    ints,
  }));
}

/** The names of the main graph's outputs, in order. */
export function graphOutputs(model: Uint8Array): string[] {
  return readGraph(model).outputs.map((o) => o.name);
}

/**
 * The model with `outputs` (tensors computed inside the graph) added as graph outputs; one
 * that already is an output is left as it is.
 */
export function exposeOutputs(model: Uint8Array, outputs: readonly ValueInfo[]): Uint8Array {
  const have = new Set(graphOutputs(model));
  const add = outputs.filter((v) => !have.has(v.name));
  if (add.length === 0) return model;
  const extra = outputsField(add);
  const out = new Uint8Array(model.length + extra.length);
  out.set(model);
  out.set(extra, model.length);
  return out;
}

/**
 * The bytes that, appended to a model, add `outputs` to its graph's outputs (a second
 * `graph` field that holds only them). For a caller that keeps the model and the addition
 * apart (main/runtime/onnxMerge reads them as one model, in place).
 */
export function outputsField(outputs: readonly ValueInfo[]): Uint8Array {
  const graph = message(outputs.map((v) => ({ n: GRAPH_OUTPUT, bytes: valueInfo(v) })));
  return message([{ n: MODEL_GRAPH, bytes: graph }]);
}
