// Merging ONNX models on the protobuf level (main/runtime/onnxMerge): two graphs wired by a
// shared name compute in one run what they computed one after the other, their own names
// kept apart by prefixes and their weights carried as they were; what a rename could change
// the meaning of, or the merge cannot carry, gives null.
import { describe, expect, it } from 'vitest';
import { readGraph } from '../../../main/onnx/graph';
import { OnnxSession } from '../../../main/runtime/onnx';
import { buildModel, type GraphSpec } from '../../../main/runtime/onnxGraph';
import { mergeModels, type MergePart } from '../../../main/runtime/onnxMerge';
import { message, scanFields } from '../../../main/runtime/protobuf';

const W = [0.5, -1, 2, 3];

/** x [n, 4] → h = Relu(x · w0 + b), one of whose tensors is called `t`. */
const first = buildModel({
  name: 'first',
  inputs: [{ name: 'x', type: 'float32', shape: ['n', 4] }],
  outputs: [{ name: 'h', type: 'float32', shape: ['n', 4] }],
  nodes: [
    { op: 'Mul', inputs: ['x', 'w'], outputs: ['t'], name: 'scale' },
    { op: 'Add', inputs: ['t', 'b'], outputs: ['u'], name: 'shift' },
    { op: 'Relu', inputs: ['u'], outputs: ['h'], name: 'relu' },
  ],
  initializers: [
    { name: 'w', dims: [4], values: W },
    { name: 'b', dims: [4], values: [1, 1, -1, 0] },
  ],
});

/** h [n, 4] + steering [n, 4] → y = (h + steering) · w, with its own `w` and `t`. */
const secondSpec: GraphSpec = {
  name: 'second',
  inputs: [
    { name: 'hook_resid', type: 'float32', shape: ['n', 4] },
    { name: 'steering', type: 'float32', shape: ['n', 4] },
  ],
  outputs: [{ name: 'y', type: 'float32', shape: ['n', 4] }],
  nodes: [
    { op: 'Add', inputs: ['hook_resid', 'steering'], outputs: ['t'], name: 'steer' },
    { op: 'Mul', inputs: ['t', 'w'], outputs: ['y'], name: 'scale' },
  ],
  initializers: [{ name: 'w', dims: [4], values: [2, 2, 2, 2] }],
};
const second = buildModel(secondSpec);

const wire = (k: number, own: Record<string, string>): MergePart['rename'] => {
  return (name) => own[name] ?? `p${k}/${name}`;
};
const parts = (a = first, b = second): MergePart[] => [
  { model: a, nodePrefix: 'p0/', rename: wire(0, { x: 'x', h: 'h' }) },
  { model: b, nodePrefix: 'p1/', rename: wire(1, { hook_resid: 'h', steering: 's', y: 'y' }) },
];
const keep = { name: 'merged', keepOutput: (n: string) => n === 'y' };

/** A NodeProto's bytes with an attribute (AttributeProto bytes). */
function nodeWith(attribute: Uint8Array, op = 'If'): Uint8Array {
  return message([
    { n: 1, string: 'x' },
    { n: 2, string: 'h' },
    { n: 3, string: 'odd' },
    { n: 4, string: op },
    { n: 5, bytes: attribute },
  ]);
}

/** `model` with `extra` graph fields appended (protobuf merges repeated graph fields). */
function withGraphFields(model: Uint8Array, extra: { n: number; bytes: Uint8Array }[]): Uint8Array {
  const more = message([{ n: 7, bytes: message(extra) }]);
  const out = new Uint8Array(model.length + more.length);
  out.set(model);
  out.set(more, model.length);
  return out;
}

function spec(over: Partial<GraphSpec>): GraphSpec {
  return {
    name: 'g',
    inputs: [{ name: 'x', type: 'float32', shape: ['n', 4] }],
    outputs: [{ name: 'h', type: 'float32', shape: ['n', 4] }],
    nodes: [{ op: 'Neg', inputs: ['x'], outputs: ['h'] }],
    initializers: [],
    ...over,
  };
}

describe('mergeModels', () => {
  it('runs two wired graphs as one: the same outputs as one after the other', async () => {
    const merged = mergeModels(parts(), keep);
    expect(merged).not.toBeNull();
    const g = readGraph(merged as Uint8Array);
    expect(g.inputs.map((i) => i.name)).toEqual(['x', 's']);
    expect(g.outputs.map((o) => o.name)).toEqual(['y']);
    // Each graph's own names behind its prefix; the wired tensor keeps its declared type.
    expect([...g.initializers.keys()]).toEqual(['p0/w', 'p0/b', 'p1/w']);
    expect(g.nodes.map((n) => n.name)).toEqual([
      'p0/scale',
      'p0/shift',
      'p0/relu',
      'p1/steer',
      'p1/scale',
    ]);
    expect(g.nodes[3]?.inputs).toEqual(['h', 's']);
    expect(g.valueInfo.get('h')?.dims).toEqual([-1, 4]);

    const x = { dims: [2, 4], data: Float32Array.from([1, 2, 3, 4, -1, -2, -3, -4]) };
    const s = { dims: [2, 4], data: Float32Array.from([0, 1, 0, 1, 1, 0, 1, 0]) };
    const [a, b, m] = await Promise.all(
      [first, second, merged as Uint8Array].map((bytes) => OnnxSession.create(bytes)),
    );
    try {
      const h = (await a?.run({ x }))?.h as { dims: number[]; data: Float32Array };
      const want = (await b?.run({ hook_resid: h, steering: s }))?.y?.data;
      const got = (await m?.run({ x, s }))?.y?.data;
      expect(want).toBeDefined();
      expect([...(got as Float32Array)]).toEqual([...(want as Float32Array)]);
    } finally {
      for (const session of [a, b, m]) await session?.release();
    }
  });

  it('carries each weight as its bytes (raw_data included), not re-encoded', () => {
    const raw = buildModel(
      spec({
        nodes: [{ op: 'Add', inputs: ['x', 'q'], outputs: ['h'] }],
        initializers: [{ name: 'q', dims: [4], values: [1, 2, 3, 4], type: 'uint8' }],
      }),
    );
    const merged = mergeModels(
      [{ model: raw, nodePrefix: 'a/', rename: (n) => (n === 'q' ? 'a/q' : n) }],
      { name: 'one', keepOutput: () => true },
    );
    expect(merged).not.toBeNull();
    // The initializer's raw_data (TensorProto field 9): bytes 1, 2, 3, 4 before and after.
    const rawData = (m: Uint8Array): number[] => {
      const t = readGraph(m).graphFields.find((f) => f.n === 5)?.value ?? new Uint8Array();
      return [...([...scanFields(t)].find((f) => f.n === 9)?.value ?? [])];
    };
    expect(rawData(merged as Uint8Array)).toEqual([1, 2, 3, 4]);
    expect(rawData(merged as Uint8Array)).toEqual(rawData(raw));
    expect(readGraph(merged as Uint8Array).initializers.get('a/q')?.dims).toEqual([4]);
  });

  it('refuses two graphs that make the same name, and names the node twice', () => {
    // Identity renames: both graphs make `t` (and own a `w`).
    const same: MergePart['rename'] = (n) =>
      n === 'hook_resid' ? 'h' : n === 'steering' ? 's' : n;
    expect(
      mergeModels(
        [
          { model: first, nodePrefix: 'p0/', rename: same },
          { model: second, nodePrefix: 'p1/', rename: same },
        ],
        keep,
      ),
    ).toBeNull();
    // Node names must stay unique too.
    expect(
      mergeModels(
        [
          { model: first, nodePrefix: 'same/', rename: wire(0, { x: 'x', h: 'h' }) },
          { model: second, nodePrefix: 'same/', rename: wire(1, { hook_resid: 'h', y: 'y' }) },
        ],
        keep,
      ),
    ).toBeNull();
  });

  it('refuses a node with a subgraph (If/Loop/Scan read names of the enclosing graph)', () => {
    const body = message(
      readGraph(buildModel(spec({}))).graphFields.flatMap((f) =>
        f.value ? [{ n: f.n, bytes: f.value }] : [],
      ),
    );
    // AttributeProto: name 1, g 6, type 20 (GRAPH = 5).
    const attr = message([
      { n: 1, string: 'then_branch' },
      { n: 6, bytes: body },
      { n: 20, varint: 5 },
    ]);
    const withIf = withGraphFields(buildModel(spec({ nodes: [] })), [
      { n: 1, bytes: nodeWith(attr) },
    ]);
    expect(mergeModels([{ ...parts()[0], model: withIf } as MergePart], keep)).toBeNull();
    // The same node with an integer attribute merges.
    const plain = message([
      { n: 1, string: 'axis' },
      { n: 3, varint: 0 },
      { n: 20, varint: 2 },
    ]);
    const withInt = withGraphFields(buildModel(spec({ nodes: [] })), [
      { n: 1, bytes: nodeWith(plain, 'Neg') },
    ]);
    expect(
      mergeModels([{ ...parts()[0], model: withInt } as MergePart], {
        name: 'm',
        keepOutput: () => true,
      }),
    ).not.toBeNull();
  });

  it('refuses weights in another file, sparse initializers, disagreeing opsets and misordered wiring', () => {
    const one = (model: Uint8Array) =>
      mergeModels([{ model, nodePrefix: 'a/', rename: (n) => n }], {
        name: 'm',
        keepOutput: () => true,
      });
    // TensorProto: dims 1, data_type 2, name 8, external_data 13 (key 1, value 2), data_location 14.
    const external = message([
      { n: 1, varint: 4 },
      { n: 2, varint: 1 },
      { n: 8, string: 'w' },
      {
        n: 13,
        bytes: message([
          { n: 1, string: 'location' },
          { n: 2, string: 'weights.bin' },
        ]),
      },
      { n: 14, varint: 1 },
    ]);
    const base = buildModel(spec({}));
    expect(one(base)).not.toBeNull();
    expect(one(withGraphFields(base, [{ n: 5, bytes: external }]))).toBeNull();
    // sparse_initializer (graph field 15)
    expect(
      one(withGraphFields(base, [{ n: 15, bytes: message([{ n: 3, varint: 4 }]) }])),
    ).toBeNull();
    // opset 17 in one graph, 13 in the other
    expect(mergeModels(parts(first, buildModel({ ...secondSpec, opset: 13 })), keep)).toBeNull();
    // The reading graph first: it would read what has not been made yet.
    const [a, b] = parts();
    expect(mergeModels([b as MergePart, a as MergePart], keep)).toBeNull();
    // A wire to a tensor of another type.
    const ints = buildModel({
      ...secondSpec,
      inputs: [
        { name: 'hook_resid', type: 'int64', shape: ['n', 4] },
        { name: 'steering', type: 'float32', shape: ['n', 4] },
      ],
    });
    expect(mergeModels(parts(first, ints), keep)).toBeNull();
  });
});
