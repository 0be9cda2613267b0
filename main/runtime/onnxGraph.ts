/**
 * Builds ONNX models in code (ModelProto over the protobuf writer). Used by the health
 * check's tiny model and by tests that need small, exactly known graphs.
 * Field numbers follow onnx.proto (IR version 8, default opset domain).
 */
import { concat, fieldChunks, message, type Chunks, type Field } from './protobuf';

const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;
const INT32 = 6;
const INT64 = 7;
export type ElemType = 'float32' | 'int64' | 'int32' | 'float16' | 'int8' | 'uint8';
/** TensorProto.DataType codes, also the `to` of a Cast node. */
export const elemCode: Record<ElemType, number> = {
  float32: FLOAT,
  int64: INT64,
  int32: INT32,
  float16: 10,
  int8: INT8,
  uint8: UINT8,
};

export interface ValueInfo {
  name: string;
  type: ElemType;
  /** A number is a fixed size, a string a named dynamic axis (e.g. "batch"). */
  shape: (number | string)[];
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** Integer attributes only (axis, keepdims, transB …). */
  intAttrs?: Record<string, number>;
}

export interface Initializer {
  name: string;
  dims: number[];
  values: ArrayLike<number>;
  /**
   * Default float32; int64 for shapes and counts (e.g. TopK's K), non-negative only; int8 and
   * uint8 for quantised weights and zero points (MatMulInteger).
   */
  type?: 'float32' | 'int64' | 'int8' | 'uint8';
}

export interface GraphSpec {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: NodeSpec[];
  initializers: Initializer[];
  opset?: number;
}

/** A ValueInfoProto: the name, element type and shape of a graph input or output. */
export function valueInfo(v: ValueInfo): Uint8Array {
  const dims = v.shape.map((d) =>
    message([typeof d === 'number' ? { n: 1, varint: d } : { n: 2, string: d }]),
  );
  const shape = message(dims.map((bytes) => ({ n: 1, bytes })));
  const tensorType = message([
    { n: 1, varint: elemCode[v.type] },
    { n: 2, bytes: shape },
  ]);
  const typeProto = message([{ n: 1, bytes: tensorType }]);
  return message([
    { n: 1, string: v.name },
    { n: 2, bytes: typeProto },
  ]);
}

function attribute(name: string, value: number): Uint8Array {
  // AttributeProto: name=1, i=3, type=20 (INT = 2)
  return message([
    { n: 1, string: name },
    { n: 3, varint: value },
    { n: 20, varint: 2 },
  ]);
}

function node(spec: NodeSpec, index: number): Uint8Array {
  const fields: Field[] = [
    ...spec.inputs.map((s) => ({ n: 1, string: s })),
    ...spec.outputs.map((s) => ({ n: 2, string: s })),
    { n: 3, string: spec.name ?? `${spec.op}_${index}` },
    { n: 4, string: spec.op },
    ...Object.entries(spec.intAttrs ?? {}).map(([k, v]) => ({ n: 5, bytes: attribute(k, v) })),
  ];
  return message(fields);
}

/** raw_data is little-endian; this machine's float32 bytes are too (on every target but checked). */
const LITTLE_ENDIAN = new Uint8Array(Float32Array.of(1).buffer)[3] === 0x3f;

/**
 * A TensorProto as chunks: its small fields encoded, its values' bytes (raw_data) a view of
 * the values where they are float32, never copied until the model is joined once.
 */
function initializer(t: Initializer): Chunks {
  // TensorProto: dims=1, data_type=2, float_data=4, int64_data=7, name=8, raw_data=9 (bytes
  // in order: float32 and the 8-bit types)
  const type = t.type ?? 'float32';
  const meta = message([
    { n: 1, packedVarints: t.dims },
    { n: 2, varint: elemCode[type] },
    { n: 8, string: t.name },
  ]);
  if (type === 'int64') return [meta, message([{ n: 7, packedVarints: t.values }])];
  if (type === 'float32') {
    if (!LITTLE_ENDIAN) return [meta, message([{ n: 4, packedFloats: t.values }])];
    const f = t.values instanceof Float32Array ? t.values : Float32Array.from(t.values);
    return [meta, ...fieldChunks(9, [new Uint8Array(f.buffer, f.byteOffset, f.byteLength)])];
  }
  const bytes = type === 'int8' ? Int8Array.from(t.values) : Uint8Array.from(t.values);
  return [meta, ...fieldChunks(9, [new Uint8Array(bytes.buffer)])];
}

/** The model's bytes, joined once from chunks (an SAE's weights are megabytes). */
export function buildModel(spec: GraphSpec): Uint8Array {
  const graph: Chunks = [
    message([
      ...spec.nodes.map((n, i) => ({ n: 1, bytes: node(n, i) })),
      { n: 2, string: spec.name },
    ]),
    ...spec.initializers.flatMap((t) => fieldChunks(5, initializer(t))),
    message([
      ...spec.inputs.map((v) => ({ n: 11, bytes: valueInfo(v) })),
      ...spec.outputs.map((v) => ({ n: 12, bytes: valueInfo(v) })),
    ]),
  ];
  const opset = message([
    { n: 1, string: '' },
    { n: 2, varint: spec.opset ?? 17 },
  ]);
  return concat([
    message([
      { n: 1, varint: 8 },
      { n: 2, string: 'orrery' },
    ]),
    ...fieldChunks(7, graph),
    message([{ n: 8, bytes: opset }]),
  ]);
}
