/**
 * Binary frames: how a message that carries typed arrays (uploaded files, raw RGBA images,
 * map positions) crosses the WebSocket as raw bytes instead of base64 inside JSON. Electron's
 * IPC needs none of this: structured clone carries typed arrays as they are.
 *
 * A frame is `"ORB1"`, a u32 (little-endian) byte length H, H bytes of UTF-8 JSON
 * `{ m: message, b: [[kind, byteLength], …] }`, then the buffers, each starting on an 8-byte
 * boundary. In `m` each typed array is replaced by `{ "$bin": i }`. A message without typed
 * arrays stays a plain JSON text message. Pure module: no Node, no DOM.
 */
import { limits, overLimit } from './limits';

// Both runtimes (Node and every browser) have these; the contract's lib (ES2023) does not name them.
declare const TextEncoder: new () => { encode(text: string): Uint8Array };
declare const TextDecoder: new (
  label?: string,
  options?: { fatal?: boolean },
) => { decode(bytes: Uint8Array): string };

const MAGIC = [0x4f, 0x52, 0x42, 0x31]; // "ORB1"
const HEAD = 8;

const kinds = {
  u8: Uint8Array,
  u8c: Uint8ClampedArray,
  i8: Int8Array,
  u16: Uint16Array,
  i16: Int16Array,
  u32: Uint32Array,
  i32: Int32Array,
  f32: Float32Array,
  f64: Float64Array,
} as const;
type Kind = keyof typeof kinds;
export type BinaryArray = InstanceType<(typeof kinds)[Kind]>;

function kindOf(v: unknown): Kind | null {
  if (!ArrayBuffer.isView(v) || v instanceof DataView) return null;
  for (const [k, ctor] of Object.entries(kinds)) if (v instanceof ctor) return k as Kind;
  return null;
}

/** A frame or a message could not be read; `code` says which limit, if any, it broke. */
export class FrameError extends Error {
  constructor(
    readonly code: 'invalid_request' | 'too_large',
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * A message as it goes on the wire, in pieces: JSON text, or a binary frame as the pieces it is
 * made of, in order (the header, then each buffer as a view of its own bytes and its padding),
 * so a sender can write them one after another without joining them (no copy of the arrays).
 */
export function encodeMessageParts(message: unknown): string | Uint8Array[] {
  const buffers: BinaryArray[] = [];
  // `this[key]` is the value before toJSON: a Node Buffer's toJSON would hide its bytes
  const json = JSON.stringify(message, function (this: Record<string, unknown>, key, value) {
    const raw = this[key];
    const kind = kindOf(raw);
    if (kind === null) return value as unknown;
    buffers.push(raw as BinaryArray);
    return { $bin: buffers.length - 1 };
  });
  if (buffers.length === 0) return json;
  const table = buffers.map((b) => [kindOf(b), b.byteLength]);
  const header = new TextEncoder().encode(`{"m":${json},"b":${JSON.stringify(table)}}`);
  const head = new Uint8Array(align8(HEAD + header.byteLength));
  head.set(MAGIC, 0);
  new DataView(head.buffer).setUint32(4, header.byteLength, true);
  head.set(header, HEAD);
  const parts = [head];
  for (const b of buffers) {
    if (b.byteLength > 0) parts.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    const pad = align8(b.byteLength) - b.byteLength;
    if (pad > 0) parts.push(new Uint8Array(pad));
  }
  return parts;
}

/** A message as it goes on the wire: JSON text, or one binary frame when it carries typed arrays. */
export function encodeMessage(message: unknown): string | Uint8Array {
  const parts = encodeMessageParts(message);
  if (typeof parts === 'string') return parts;
  const frame = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    frame.set(p, at);
    at += p.byteLength;
  }
  return frame;
}

/** The size a message takes on the wire (the frame's bytes, or the text's UTF-8 bytes at most). */
export function wireSize(encoded: string | Uint8Array): number {
  return typeof encoded === 'string' ? encoded.length * 3 : encoded.byteLength;
}

/** A frame's table: [kind, byteLength] per buffer, at most limits.frameBuffers of them. */
function tableOf(v: unknown): [Kind, number][] | null {
  if (!Array.isArray(v) || v.length > limits.frameBuffers) return null;
  for (const e of v as unknown[]) {
    if (!Array.isArray(e) || e.length !== 2) return null;
    const [kind, n] = e as unknown[];
    if (typeof kind !== 'string' || !Object.hasOwn(kinds, kind)) return null;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return null;
  }
  return v as [Kind, number][];
}

/** Reads a binary frame back into its message, typed arrays in place. Throws FrameError. */
export function decodeFrame(frame: Uint8Array): unknown {
  if (frame.byteLength > limits.frameBytes)
    throw new FrameError('too_large', overLimit('the frame', frame.byteLength, 'frameBytes'));
  if (frame.byteLength < HEAD || MAGIC.some((m, i) => frame[i] !== m))
    throw new FrameError('invalid_request', 'a binary message must be an Orrery frame (ORB1)');
  const headerLength = new DataView(frame.buffer, frame.byteOffset, HEAD).getUint32(4, true);
  if (headerLength > limits.messageBytes)
    throw new FrameError('too_large', overLimit('the frame header', headerLength, 'messageBytes'));
  if (HEAD + headerLength > frame.byteLength)
    throw new FrameError('invalid_request', 'the frame header runs past the frame');
  let head: { m?: unknown; b?: unknown };
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      frame.subarray(HEAD, HEAD + headerLength),
    );
    head = JSON.parse(text) as { m?: unknown; b?: unknown };
  } catch {
    throw new FrameError('invalid_request', 'the frame header is not JSON');
  }
  const table = tableOf(head?.b);
  if (!table) throw new FrameError('invalid_request', 'the frame table is malformed');
  let at = align8(HEAD + headerLength);
  const arrays = table.map(([kind, byteLength]) => {
    const ctor = kinds[kind];
    if (byteLength % ctor.BYTES_PER_ELEMENT !== 0 || at + byteLength > frame.byteLength)
      throw new FrameError('invalid_request', 'a frame buffer runs past the frame');
    const start = frame.byteOffset + at;
    at = align8(at + byteLength);
    const n = byteLength / ctor.BYTES_PER_ELEMENT;
    // A view when the bytes sit on the element's boundary; otherwise a copy.
    if (start % ctor.BYTES_PER_ELEMENT === 0)
      return new ctor(frame.buffer as ArrayBuffer, start, n);
    const copy = new Uint8Array(byteLength);
    copy.set(frame.subarray(start - frame.byteOffset, start - frame.byteOffset + byteLength));
    return new ctor(copy.buffer);
  });
  return revive(head.m ?? null, arrays);
}

/** Puts the frame's typed arrays back where their `{ "$bin": i }` placeholders are. */
function revive(value: unknown, arrays: readonly BinaryArray[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i], arrays);
    return value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === '$bin' && typeof record.$bin === 'number') {
    const array = arrays[record.$bin];
    if (array === undefined)
      throw new FrameError('invalid_request', `the frame has no buffer ${record.$bin}`);
    return array;
  }
  for (const k of keys) {
    const before = record[k];
    const after = revive(before, arrays);
    if (after !== before) record[k] = after;
  }
  return record;
}

/**
 * Roughly how many bytes a value takes (strings by their UTF-16 length, typed arrays by their
 * bytes); stops counting past `stopAt`. For transports that never serialise (Electron's IPC).
 */
export function payloadSize(value: unknown, stopAt: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= stopAt) {
    const v = stack.pop();
    if (typeof v === 'string') total += v.length + 2;
    else if (ArrayBuffer.isView(v)) total += v.byteLength;
    else if (v instanceof ArrayBuffer) total += v.byteLength;
    else if (Array.isArray(v)) {
      total += 2;
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        total += k.length + 4;
        stack.push(x);
      }
    } else total += 8;
  }
  return total;
}
