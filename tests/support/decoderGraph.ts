/**
 * Synthetic decoder-only ONNX graphs with random weights, written with the project's protobuf
 * writer, for graph-surgery tests and the surgery bench. Two shapes, with Hugging Face's
 * input/output names (input_ids, attention_mask, position_ids, past_key_values.N.key/value →
 * logits, present.N.key/value; the cache is [batch, 1 head, seq, d]):
 * - 'gpt2': r0 = Add(Gather(wte), Gather(wpe)), LayerNormalization, attention with a bias'd
 *   fused qkv MatMul and Split, r+attn then r+MLP (Relu), final LayerNorm, an untied lm_head
 *   (as optimum's export stores GPT-2's tied head twice);
 * - 'llama': r0 = Gather(embed), RMSNorm decomposed into Pow/ReduceMean/Add/Sqrt/Div/Mul, a
 *   gated (SiLU) MLP, no biases.
 * Attention is single-head and causal (masked by position_ids against the attention_mask's
 * length); a graph for surgery, not a language model. Weights are inline, or in one external data file
 * (`external` names it) whose chunks come back beside the model's.
 */
import { valueInfo, type ValueInfo } from '../../main/runtime/onnxGraph';
import { concat, fieldChunks, message, type Chunks, type Field } from '../../main/runtime/protobuf';

export interface DecoderSpec {
  style: 'gpt2' | 'llama';
  layers: number;
  dModel: number;
  vocab: number;
  context: number;
  seed?: number;
  /** File name of the external data; weights inline when absent. */
  external?: string;
  /** 'gpt2' only: LayerNorm as torch's opset-14 export writes it (ReduceMean, Sub, Pow …). */
  decomposedNorm?: boolean;
}

interface Tensor {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  ints?: Record<string, number>;
  intLists?: Record<string, number[]>;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function attribute(name: string, value: number | number[]): Uint8Array {
  // AttributeProto: name 1, i 3, ints 8, type 20 (INT 2, INTS 7)
  if (typeof value === 'number') {
    return message([
      { n: 1, string: name },
      { n: 3, varint: value },
      { n: 20, varint: 2 },
    ]);
  }
  return message([
    { n: 1, string: name },
    { n: 8, packedVarints: value },
    { n: 20, varint: 7 },
  ]);
}

function nodeBytes(node: Node, index: number): Uint8Array {
  const fields: Field[] = [
    ...node.inputs.map((s) => ({ n: 1, string: s })),
    ...node.outputs.map((s) => ({ n: 2, string: s })),
    { n: 3, string: `/${node.op}_${index}` },
    { n: 4, string: node.op },
    ...Object.entries(node.ints ?? {}).map(([k, v]) => ({ n: 5, bytes: attribute(k, v) })),
    ...Object.entries(node.intLists ?? {}).map(([k, v]) => ({ n: 5, bytes: attribute(k, v) })),
  ];
  return message(fields);
}

class Builder {
  nodes: Node[] = [];
  tensors: Tensor[] = [];
  private n = 0;
  constructor(private readonly random: () => number) {}

  weight(name: string, dims: number[], scale: number, offset = 0): string {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = offset + (this.random() * 2 - 1) * scale;
    this.tensors.push({ name, dims, data });
    return name;
  }

  constant(name: string, values: number[], dims: number[] = []): string {
    this.tensors.push({ name, dims, data: Float32Array.from(values) });
    return name;
  }

  ints(name: string, values: number[]): string {
    this.tensors.push({
      name,
      dims: [values.length],
      data: BigInt64Array.from(values.map(BigInt)),
    });
    return name;
  }

  op(op: string, inputs: string[], extra: Partial<Node> = {}, outputs?: string[]): string {
    const outs = outputs ?? [`/${op}_${this.n++}_output_0`];
    this.nodes.push({ op, inputs, outputs: outs, ...extra });
    return outs[0] as string;
  }
}

/** An additive causal mask [batch, 1, seq, total]: 0 where key j <= the query's position, else -1e9. */
function causalMask(b: Builder): string {
  const axis0 = b.ints('mask.axis0', [0]);
  const scalar = (t: string): string => b.op('Squeeze', [t, axis0]);
  const total = scalar(b.op('Shape', ['attention_mask'], { ints: { start: 1, end: 2 } }));
  const cols = b.op('Range', [
    scalar(b.ints('mask.zero', [0])),
    total,
    scalar(b.ints('mask.step', [1])),
  ]);
  const rows = b.op('Unsqueeze', ['position_ids', b.ints('mask.axes', [1, 3])]);
  const allowed = b.op('LessOrEqual', [cols, rows]);
  return b.op('Where', [allowed, b.constant('mask.open', [0]), b.constant('mask.shut', [-1e9])]);
}

function attention(
  b: Builder,
  x: string,
  layer: number,
  spec: DecoderSpec,
  biased: boolean,
  mask: string,
): string {
  const d = spec.dModel;
  const std = 1 / Math.sqrt(d);
  let q: string;
  let k: string;
  let v: string;
  if (biased) {
    const qkv = b.op('Add', [
      b.op('MatMul', [x, b.weight(`h.${layer}.attn.c_attn.weight`, [d, 3 * d], std)]),
      b.weight(`h.${layer}.attn.c_attn.bias`, [3 * d], 0.02),
    ]);
    const outs = ['q', 'k', 'v'].map((s) => `/h.${layer}/attn/${s}`);
    b.op('Split', [qkv, b.ints(`h.${layer}.split`, [d, d, d])], { ints: { axis: 2 } }, outs);
    [q, k, v] = outs as [string, string, string];
  } else {
    const proj = (s: string): string =>
      b.op('MatMul', [x, b.weight(`layers.${layer}.self_attn.${s}_proj.weight`, [d, d], std)]);
    [q, k, v] = [proj('q'), proj('k'), proj('v')];
  }
  const one = b.ints(`axes1.${layer}`, [1]);
  const cache = (t: string, kind: 'key' | 'value'): string =>
    b.op(
      'Concat',
      [`past_key_values.${layer}.${kind}`, b.op('Unsqueeze', [t, one])],
      {
        ints: { axis: 2 },
      },
      [`present.${layer}.${kind}`],
    );
  const keys = cache(k, 'key');
  const values = cache(v, 'value');
  const scores = b.op('Div', [
    b.op('MatMul', [
      b.op('Unsqueeze', [q, one]),
      b.op('Transpose', [keys], { intLists: { perm: [0, 1, 3, 2] } }),
    ]),
    b.constant(`sqrt_d.${layer}`, [Math.sqrt(d)]),
  ]);
  const masked = b.op('Add', [scores, mask]);
  const mixed = b.op('MatMul', [b.op('Softmax', [masked], { ints: { axis: -1 } }), values]);
  const a = b.op('Squeeze', [mixed, one]);
  const name = biased ? `h.${layer}.attn.c_proj` : `layers.${layer}.self_attn.o_proj`;
  const out = b.op('MatMul', [a, b.weight(`${name}.weight`, [d, d], std)]);
  return biased ? b.op('Add', [out, b.weight(`${name}.bias`, [d], 0.02)]) : out;
}

function layerNorm(b: Builder, x: string, name: string, d: number): string {
  return b.op('LayerNormalization', [
    x,
    b.weight(`${name}.weight`, [d], 0.1, 1),
    b.weight(`${name}.bias`, [d], 0.02),
  ]);
}

/** LayerNorm in primitive ops: (x − mean) / sqrt(var + eps) · w + b. */
function decomposedLayerNorm(b: Builder, x: string, name: string, d: number): string {
  const axes = b.ints(`${name}.axes`, [2]);
  const centred = b.op('Sub', [x, b.op('ReduceMean', [x, axes], { ints: { keepdims: 1 } })]);
  const variance = b.op(
    'ReduceMean',
    [b.op('Pow', [centred, b.constant(`${name}.two`, [2])]), axes],
    {
      ints: { keepdims: 1 },
    },
  );
  const std = b.op('Sqrt', [b.op('Add', [variance, b.constant(`${name}.eps`, [1e-5])])]);
  const scaled = b.op('Mul', [
    b.op('Div', [centred, std]),
    b.weight(`${name}.weight`, [d], 0.1, 1),
  ]);
  return b.op('Add', [scaled, b.weight(`${name}.bias`, [d], 0.02)]);
}

function rmsNorm(b: Builder, x: string, name: string, d: number): string {
  const axes = b.ints(`${name}.axes`, [2]);
  const ms = b.op('ReduceMean', [b.op('Pow', [x, b.constant(`${name}.two`, [2])]), axes], {
    ints: { keepdims: 1 },
  });
  const root = b.op('Sqrt', [b.op('Add', [ms, b.constant(`${name}.eps`, [1e-6])])]);
  const inv = b.op('Div', [b.constant(`${name}.one`, [1]), root]);
  return b.op('Mul', [b.weight(`${name}.weight`, [d], 0.1, 1), b.op('Mul', [x, inv])]);
}

function build(spec: DecoderSpec): Builder {
  const b = new Builder(rng(spec.seed ?? 7));
  const d = spec.dModel;
  const gpt2 = spec.style === 'gpt2';
  const embed = b.weight(gpt2 ? 'wte.weight' : 'embed_tokens.weight', [spec.vocab, d], 0.1);
  let r = b.op('Gather', [embed, 'input_ids']);
  if (gpt2) {
    const wpe = b.weight('wpe.weight', [spec.context, d], 0.05);
    r = b.op('Add', [r, b.op('Gather', [wpe, 'position_ids'])]);
  }
  const norm = (x: string, name: string): string => {
    if (!gpt2) return rmsNorm(b, x, name, d);
    return spec.decomposedNorm ? decomposedLayerNorm(b, x, name, d) : layerNorm(b, x, name, d);
  };
  const std = 1 / Math.sqrt(d);
  const mask = causalMask(b);
  for (let l = 0; l < spec.layers; l++) {
    const ln = norm(r, gpt2 ? `h.${l}.ln_1` : `layers.${l}.input_layernorm`);
    const a = attention(b, ln, l, spec, gpt2, mask);
    r = gpt2 ? b.op('Add', [a, r]) : b.op('Add', [r, a]);
    const x = norm(r, gpt2 ? `h.${l}.ln_2` : `layers.${l}.post_attention_layernorm`);
    let m: string;
    if (gpt2) {
      const h = b.op('Add', [
        b.op('MatMul', [x, b.weight(`h.${l}.mlp.c_fc.weight`, [d, 4 * d], std)]),
        b.weight(`h.${l}.mlp.c_fc.bias`, [4 * d], 0.02),
      ]);
      m = b.op('Add', [
        b.op('MatMul', [
          b.op('Relu', [h]),
          b.weight(`h.${l}.mlp.c_proj.weight`, [4 * d, d], std / 2),
        ]),
        b.weight(`h.${l}.mlp.c_proj.bias`, [d], 0.02),
      ]);
    } else {
      const gate = b.op('MatMul', [
        x,
        b.weight(`layers.${l}.mlp.gate_proj.weight`, [d, 3 * d], std),
      ]);
      const up = b.op('MatMul', [x, b.weight(`layers.${l}.mlp.up_proj.weight`, [d, 3 * d], std)]);
      const silu = b.op('Mul', [gate, b.op('Sigmoid', [gate])]);
      m = b.op('MatMul', [
        b.op('Mul', [silu, up]),
        b.weight(`layers.${l}.mlp.down_proj.weight`, [3 * d, d], std / 2),
      ]);
    }
    r = b.op('Add', [r, m]);
  }
  const final = norm(r, gpt2 ? 'ln_f' : 'norm');
  b.op('MatMul', [final, b.weight('lm_head.weight', [d, spec.vocab], std)], {}, ['logits']);
  return b;
}

function graphIo(spec: DecoderSpec): { inputs: ValueInfo[]; outputs: ValueInfo[] } {
  const cache = (prefix: string, seq: string): ValueInfo[] =>
    Array.from({ length: spec.layers }, (_, l) =>
      (['key', 'value'] as const).map((kind) => ({
        name: `${prefix}.${l}.${kind}`,
        type: 'float32' as const,
        shape: ['batch_size', 1, seq, spec.dModel],
      })),
    ).flat();
  return {
    inputs: [
      { name: 'input_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] },
      { name: 'attention_mask', type: 'int64', shape: ['batch_size', 'total_sequence_length'] },
      { name: 'position_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] },
      ...cache('past_key_values', 'past_sequence_length'),
    ],
    outputs: [
      { name: 'logits', type: 'float32', shape: ['batch_size', 'sequence_length', spec.vocab] },
      ...cache('present', 'total_sequence_length'),
    ],
  };
}

function tensorChunks(t: Tensor, external: { location: string; offset: number } | null): Chunks {
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const head = message([
    { n: 1, packedVarints: t.dims },
    { n: 2, varint: t.data instanceof Float32Array ? 1 : 7 },
    { n: 8, string: t.name },
  ]);
  if (!external) return [head, ...fieldChunks(9, [raw])];
  const entry = (key: string, value: string): Field => ({
    n: 13,
    bytes: message([
      { n: 1, string: key },
      { n: 2, string: value },
    ]),
  });
  return [
    head,
    message([
      entry('location', external.location),
      entry('offset', String(external.offset)),
      entry('length', String(raw.length)),
      { n: 14, varint: 1 },
    ]),
  ];
}

/** The model's bytes as chunks, and the external data's chunks (null when inline). */
export function decoderChunks(spec: DecoderSpec): { model: Chunks; data: Chunks | null } {
  const b = build(spec);
  const io = graphIo(spec);
  const graph: Chunks = [];
  b.nodes.forEach((node, i) => graph.push(...fieldChunks(1, [nodeBytes(node, i)])));
  graph.push(message([{ n: 2, string: `synthetic-${spec.style}` }]));
  const data: Chunks = [];
  let offset = 0;
  for (const t of b.tensors) {
    const external =
      spec.external && t.dims.length > 1 ? { location: spec.external, offset } : null;
    graph.push(...fieldChunks(5, tensorChunks(t, external)));
    if (external) {
      data.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      offset += t.data.byteLength;
    }
  }
  for (const v of io.inputs) graph.push(...fieldChunks(11, [valueInfo(v)]));
  for (const v of io.outputs) graph.push(...fieldChunks(12, [valueInfo(v)]));
  const model: Chunks = [
    message([
      { n: 1, varint: 8 },
      { n: 2, string: 'orrery-synthetic' },
    ]),
    ...fieldChunks(7, graph),
    message([
      {
        n: 8,
        bytes: message([
          { n: 1, string: '' },
          { n: 2, varint: 18 },
        ]),
      },
    ]),
  ];
  return { model, data: spec.external ? data : null };
}

/** A small synthetic decoder with inline weights, as one buffer. */
export function decoderModel(spec: DecoderSpec): Uint8Array {
  return concat(decoderChunks(spec).model);
}
