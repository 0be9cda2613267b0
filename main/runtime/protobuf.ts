/**
 * A minimal protobuf writer: enough of the wire format to build small ONNX graphs in code
 * (the health check's model and the tests' fixture graphs). Messages are written as arrays
 * of fields; nested messages are encoded bytes.
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
