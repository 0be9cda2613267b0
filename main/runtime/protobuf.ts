/**
 * A minimal protobuf writer and reader: enough of the wire format to build small ONNX graphs
 * in code (the health check's model and the tests' fixture graphs) and to read a model's
 * nodes (main/runtime/onnxExpose). Messages are written as arrays of fields; nested messages
 * are encoded bytes.
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
 * The fields of one message, in order. Fixed 32/64-bit fields are skipped (ONNX's graph
 * structure needs none); varints past 2^53 lose precision.
 */
export function* readFields(buf: Uint8Array): Generator<ReadField> {
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
    const key = next();
    const n = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === WIRE_VARINT) {
      yield { n, varint: next() };
    } else if (wire === WIRE_LEN) {
      const len = next();
      if (at + len > buf.length) throw new Error('protobuf: field runs past the end');
      yield { n, bytes: buf.subarray(at, at + len) };
      at += len;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
    } else {
      throw new Error(`protobuf: unsupported wire type ${wire}`);
    }
  }
}
