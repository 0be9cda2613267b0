/**
 * The project's protobuf wire reader and writer: enough of the wire format to build ONNX
 * graphs in code (the health check's model, the tests' fixture graphs), to read a model's
 * nodes (main/runtime/onnxExpose) and to rewrite a large model without decoding its weights
 * (main/onnx: every field is read as a span of the input, and a rewritten message is a list
 * of chunks whose untouched fields are views of the original bytes, never copies).
 * Small messages are written as arrays of fields; nested messages are encoded bytes.
 */

export type Field =
  | { n: number; varint: number | bigint }
  | { n: number; bytes: Uint8Array }
  | { n: number; string: string }
  | { n: number; packedFloats: ArrayLike<number> }
  | { n: number; packedVarints: ArrayLike<number> };

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function tag(n: number, wire: number): number[] {
  return varint((n << 3) | wire);
}

function lengthDelimited(n: number, bytes: Uint8Array): Uint8Array {
  return concat([Uint8Array.from([...tag(n, WIRE_LEN), ...varint(bytes.length)]), bytes]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const size = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The tag and length that open a length-delimited field `n` of `length` bytes. */
export function fieldHeader(n: number, length: number): Uint8Array {
  return Uint8Array.from([...tag(n, WIRE_LEN), ...varint(length)]);
}

/** A message written as byte chunks, in order, not yet concatenated (large parts stay views). */
export type Chunks = Uint8Array[];

export function chunksLength(chunks: Chunks): number {
  let size = 0;
  for (const c of chunks) size += c.length;
  return size;
}

/** A length-delimited field `n` whose content is `content`, as chunks. */
export function fieldChunks(n: number, content: Chunks): Chunks {
  return [fieldHeader(n, chunksLength(content)), ...content];
}

export function message(fields: Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    if ('varint' in f) {
      parts.push(Uint8Array.from([...tag(f.n, WIRE_VARINT), ...varint(f.varint)]));
    } else if ('bytes' in f) {
      parts.push(lengthDelimited(f.n, f.bytes));
    } else if ('string' in f) {
      parts.push(lengthDelimited(f.n, new TextEncoder().encode(f.string)));
    } else if ('packedFloats' in f) {
      const floats = Float32Array.from(f.packedFloats);
      parts.push(lengthDelimited(f.n, new Uint8Array(floats.buffer)));
    } else {
      const bytes = Array.from(f.packedVarints).flatMap((v) => varint(v));
      parts.push(lengthDelimited(f.n, Uint8Array.from(bytes)));
    }
  }
  return concat(parts);
}

/** One field as read: a varint's value, or a length-delimited field's bytes (a view). */
export type ReadField = { n: number; varint: number } | { n: number; bytes: Uint8Array };

/**
 * One field's place in its message: `raw` is the whole field (tag included) and `value` a
 * length-delimited field's content (both views of the input); `varint` a varint's value.
 * Fixed 32/64-bit fields have only `raw`.
 */
export interface FieldSpan {
  n: number;
  wire: number;
  raw: Uint8Array;
  value?: Uint8Array;
  varint?: number;
}

/** Every field of one message, in order, as spans of `buf`; varints past 2^53 lose precision. */
export function* scanFields(buf: Uint8Array): Generator<FieldSpan> {
  let at = 0;
  const next = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (at >= buf.length) throw new Error('protobuf: truncated varint');
      const byte = buf[at++] ?? 0;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
  };
  while (at < buf.length) {
    const start = at;
    const key = next();
    const n = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === WIRE_VARINT) {
      const v = next();
      yield { n, wire, raw: buf.subarray(start, at), varint: v };
    } else if (wire === WIRE_LEN) {
      const len = next();
      if (at + len > buf.length) throw new Error('protobuf: field runs past the end');
      const value = buf.subarray(at, at + len);
      at += len;
      yield { n, wire, raw: buf.subarray(start, at), value };
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > buf.length) throw new Error('protobuf: field runs past the end');
      yield { n, wire, raw: buf.subarray(start, at) };
    } else {
      throw new Error(`protobuf: unsupported wire type ${wire}`);
    }
  }
}

/**
 * The varint and length-delimited fields of one message, in order. Fixed 32/64-bit fields
 * are skipped (ONNX's graph structure needs none).
 */
export function* readFields(buf: Uint8Array): Generator<ReadField> {
  for (const f of scanFields(buf)) {
    if (f.value) yield { n: f.n, bytes: f.value };
    else if (f.varint !== undefined) yield { n: f.n, varint: f.varint };
  }
}
