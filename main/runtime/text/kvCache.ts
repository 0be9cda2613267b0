/**
 * The KV cache of one text generation, kept in buffers reused from step to step and from one
 * generation to the next (textEngine). Each layer's past [batch, n_heads, len, d_head] is a
 * view of a buffer, never a fresh array.
 *
 * Two ways to grow it, by what the graph offers:
 * - KvAppend (the graphs' new keys/values exposed, onnxExpose): each step fetches only the
 *   new positions' keys and values [batch, n_heads, seq, d_head] of each layer (the tensors
 *   the graph concatenates to the past) and appends them in place; the present, a copy of
 *   the whole cache that onnxruntime-node would copy once more into a fresh array on every
 *   run, is never fetched.
 * - KvInPlace (any graph): ORT writes each layer's present into the other of two buffers,
 *   which then becomes the past (the binding still returns a copy of it).
 */
import type { TensorLike } from '../onnx';
import type { GraphNode } from '../onnxExpose';

/**
 * The sizes a cache needs. `n_heads` is the heads the cache holds: the key/value heads of a
 * grouped-query model; `context` the most positions one generation reaches.
 */
export interface KvShape {
  n_layers: number;
  n_heads: number;
  d_head: number;
  d_model: number;
  context: number;
  vocab_size: number;
}
type TextModel = KvShape;

/** The most rows one generation runs as a batch: before and after. */
export const MAX_BATCH = 2;

/** The names by layer, made once: a step asks for each layer's several times. */
const kvNames = { past: [] as [string, string][], present: [] as [string, string][] };

export const kvName = (io: 'past' | 'present', l: number, kv: 'key' | 'value'): string =>
  (kvNames[io][l] ??= [`${io}.${l}.key`, `${io}.${l}.value`])[kv === 'key' ? 0 : 1];

/**
 * present.{l}.key/value → the output of the graph being run that holds only the new
 * positions' keys/values (KvAppend). Each graph has its own names: the split graphs their
 * exported ones, the merged graphs new.{l}.key/value (main/runtime/text/mergedGraph).
 */
export type NewKvNames = ReadonlyMap<string, string>;

/**
 * Room for one generation: per layer one (KvAppend) or two (KvInPlace) keys/values buffers,
 * each big enough for [MAX_BATCH, n_heads, context, d_head]; hook_resid and one steering per
 * hook (`hooks`, default 1) for [MAX_BATCH, context, d_model]; a logits row per batch row;
 * the ids and positions fed.
 */
export class KvBuffers {
  /** [side][layer] */
  readonly keys: Float32Array[][];
  readonly values: Float32Array[][];
  readonly hook: Float32Array;
  /** The steering of each hook, in hook order (the merged graph takes one input per hook). */
  readonly steerings: Float32Array[];
  readonly logits: Float32Array;
  readonly ids: BigInt64Array;
  readonly positions: BigInt64Array;

  constructor(
    m: TextModel,
    readonly sides: 1 | 2,
    hooks = 1,
  ) {
    const n = MAX_BATCH * m.n_heads * m.context * m.d_head;
    const side = (): Float32Array[] =>
      Array.from({ length: m.n_layers }, () => new Float32Array(n));
    this.keys = Array.from({ length: sides }, side);
    this.values = Array.from({ length: sides }, side);
    this.hook = new Float32Array(MAX_BATCH * m.context * m.d_model);
    this.steerings = Array.from(
      { length: Math.max(1, hooks) },
      () => new Float32Array(MAX_BATCH * m.context * m.d_model),
    );
    this.logits = new Float32Array(MAX_BATCH * m.vocab_size);
    this.ids = new BigInt64Array(MAX_BATCH * m.context);
    this.positions = new BigInt64Array(MAX_BATCH * m.context);
  }
}

/** A generation's cache as a step uses it: read the past, name the outputs, store them. */
export interface StepCache {
  /** Positions cached so far. */
  readonly len: number;
  /**
   * past.{l}.key/value of these layers so far, as views (no copy); of the first `rows` batch
   * rows (default all).
   */
  past(layers: readonly number[], rows?: number): Record<string, TensorLike>;
  /**
   * The outputs to fetch for these layers this step (null: ORT allocates it), for `rows` rows;
   * `names`: the new keys/values' names in the graph run, when not those the cache was made
   * with.
   */
  outputs(
    layers: readonly number[],
    seq: number,
    rows?: number,
    names?: NewKvNames,
  ): Record<string, TensorLike | null>;
  /**
   * Takes these layers' new keys/values from a run's results. With `rows` 1 (of a larger
   * batch), the run was of the first row alone, for rows that are the same so far: its keys
   * and values go to every row. `names` as for outputs().
   */
  store(
    layers: readonly number[],
    results: Record<string, TensorLike>,
    seq: number,
    rows?: number,
    names?: NewKvNames,
  ): void;
  /** Every layer is stored: the cache now holds len + seq positions. */
  advance(seq: number): void;
  /** Keeps only the batch rows `rows` (in that order). */
  keep(rows: readonly number[]): void;
}

abstract class KvBase {
  len = 0;
  protected side = 0;

  constructor(
    protected readonly buf: KvBuffers,
    protected readonly m: TextModel,
    protected batch: number,
  ) {
    if (batch > MAX_BATCH) throw new Error(`a batch of ${batch} is more than ${MAX_BATCH}`);
  }

  protected views(
    side: number,
    io: 'past' | 'present',
    layers: readonly number[],
    len: number,
    rows = this.batch,
  ) {
    const dims = [rows, this.m.n_heads, len, this.m.d_head];
    const n = rows * this.m.n_heads * len * this.m.d_head;
    const out: Record<string, TensorLike> = {};
    for (const l of layers) {
      out[kvName(io, l, 'key')] = { dims, data: this.buffer(side, l, 'key').subarray(0, n) };
      out[kvName(io, l, 'value')] = { dims, data: this.buffer(side, l, 'value').subarray(0, n) };
    }
    return out;
  }

  protected buffer(side: number, l: number, kv: 'key' | 'value'): Float32Array {
    const b = (kv === 'key' ? this.buf.keys : this.buf.values)[side]?.[l];
    if (!b) throw new Error(`no cache buffer for layer ${l}`);
    return b;
  }

  past(layers: readonly number[], rows = this.batch): Record<string, TensorLike> {
    return this.views(this.side, 'past', layers, this.len, rows);
  }

  /** Copies batch rows `rows` of every layer from side `from` to side `to` (may be equal). */
  protected copyRows(from: number, to: number, rows: readonly number[]): void {
    const slot = this.m.n_heads * this.len * this.m.d_head;
    for (let l = 0; l < this.m.n_layers; l++) {
      for (const kv of ['key', 'value'] as const) {
        const src = this.buffer(from, l, kv);
        const dst = this.buffer(to, l, kv);
        rows.forEach((b, k) => {
          if (src === dst) {
            if (b !== k) dst.copyWithin(k * slot, b * slot, (b + 1) * slot);
          } else {
            dst.set(src.subarray(b * slot, (b + 1) * slot), k * slot);
          }
        });
      }
    }
    this.batch = rows.length;
  }
}

/**
 * The cache grown by the new keys/values alone. `newKv` names, for each present.{l}.key/value,
 * the tensor holding the new positions' keys/values (exposed as a graph output). Appending
 * moves each [len, d_head] block of a (row, head) to its place in the longer layout
 * (copyWithin, in one buffer, from the last block down) and writes the new positions after it.
 */
export class KvAppend extends KvBase implements StepCache {
  constructor(
    buf: KvBuffers,
    m: TextModel,
    batch: number,
    private readonly newKv: NewKvNames,
  ) {
    super(buf, m, batch);
  }

  outputs(
    layers: readonly number[],
    _seq: number,
    _rows?: number,
    names = this.newKv,
  ): Record<string, TensorLike | null> {
    const out: Record<string, TensorLike | null> = {};
    for (const l of layers) {
      for (const kv of ['key', 'value'] as const) out[newName(names, l, kv)] = null;
    }
    return out;
  }

  store(
    layers: readonly number[],
    results: Record<string, TensorLike>,
    seq: number,
    rows = this.batch,
    names = this.newKv,
  ): void {
    const Dh = this.m.d_head;
    const blocks = this.batch * this.m.n_heads;
    // A run of the first row alone has one row's blocks; every row takes them.
    const given = rows * this.m.n_heads;
    const len = this.len;
    for (const l of layers) {
      for (const kv of ['key', 'value'] as const) {
        const name = newName(names, l, kv);
        const fresh = results[name]?.data;
        if (!(fresh instanceof Float32Array) || fresh.length !== given * seq * Dh) {
          throw new Error(`text graph: ${name} is not [batch, heads, seq, d_head]`);
        }
        const buf = this.buffer(0, l, kv);
        for (let k = blocks - 1; k >= 0; k--) {
          const to = k * (len + seq) * Dh;
          const from = k % given;
          if (k > 0 && len > 0) buf.copyWithin(to, k * len * Dh, (k + 1) * len * Dh);
          buf.set(fresh.subarray(from * seq * Dh, (from + 1) * seq * Dh), to + len * Dh);
        }
      }
    }
  }

  advance(seq: number): void {
    this.len += seq;
  }

  keep(rows: readonly number[]): void {
    this.copyRows(0, 0, rows);
  }
}

function newName(names: NewKvNames, l: number, kv: 'key' | 'value'): string {
  const name = names.get(kvName('present', l, kv));
  if (!name) throw new Error(`text graph: no new ${kv}s exposed for layer ${l}`);
  return name;
}

/**
 * The cache kept as whole presents: a step reads each layer's past from one side of its
 * buffers and ORT writes the present (len + seq positions) straight into the other side,
 * which then becomes the past.
 */
export class KvInPlace extends KvBase implements StepCache {
  outputs(
    layers: readonly number[],
    seq: number,
    rows = this.batch,
  ): Record<string, TensorLike | null> {
    return this.views(this.side === 0 ? 1 : 0, 'present', layers, this.len + seq, rows);
  }

  store(
    layers: readonly number[],
    _results: Record<string, TensorLike>,
    seq: number,
    rows = this.batch,
  ): void {
    // ORT wrote the presents into the buffers given by outputs(); a run of the first row
    // alone wrote that row's, which every other row takes.
    if (rows === this.batch) return;
    const slot = this.m.n_heads * (this.len + seq) * this.m.d_head;
    const to = this.side === 0 ? 1 : 0;
    for (const l of layers) {
      for (const kv of ['key', 'value'] as const) {
        const b = this.buffer(to, l, kv);
        for (let r = rows; r < this.batch; r++) b.copyWithin(r * slot, 0, slot);
      }
    }
  }

  advance(seq: number): void {
    this.side = this.side === 0 ? 1 : 0;
    this.len += seq;
  }

  keep(rows: readonly number[]): void {
    const other = this.side === 0 ? 1 : 0;
    this.copyRows(this.side, other, rows);
    this.side = other;
  }
}

/**
 * For each present.{l}.key/value of `layers`, the tensor the graph concatenates to the past
 * along the sequence axis (Concat(past.{l}.…, new, axis 2)): the new positions' keys/values.
 * Null when any present is made some other way (then KvInPlace serves the graph).
 */
export function newKvTensors(
  nodes: readonly GraphNode[],
  layers: readonly number[],
): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const l of layers) {
    for (const kv of ['key', 'value'] as const) {
      const present = kvName('present', l, kv);
      const node = nodes.find((n) => n.outputs.includes(present));
      const fresh = node?.inputs[1];
      if (
        !node ||
        node.op !== 'Concat' ||
        node.ints.axis !== 2 ||
        node.inputs.length !== 2 ||
        node.inputs[0] !== kvName('past', l, kv) ||
        !fresh
      ) {
        return null;
      }
      out.set(present, fresh);
    }
  }
  return out;
}
