/**
 * safetensors, read and written without a dependency: an 8-byte little-endian header length
 * N, N bytes of JSON ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
 * {string: string}}), then the raw little-endian tensor bytes. Offsets are relative to the
 * first byte after the header.
 *
 * Reading validates the whole header up front (sizes, dtypes, shapes, offsets inside the
 * file, no overlaps) and converts float tensors (F64, F32, F16, BF16) to Float32Array on
 * demand. Every error names the file and, where there is one, the tensor.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export type SafetensorsDtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

const ITEM_SIZE: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** Float dtypes this reader converts to Float32Array. */
export type FloatDtype = 'F64' | 'F32' | 'F16' | 'BF16';
const FLOAT_DTYPES: ReadonlySet<string> = new Set(['F64', 'F32', 'F16', 'BF16']);

/** The safetensors spec caps the header at 100 MB; a real SAE header is a few hundred bytes. */
export const MAX_HEADER_BYTES = 100_000_000;
/** A tensor may have at most this many dimensions. */
const MAX_RANK = 8;

/** A tensor read from a file: `data` is row-major float32, `dtype` is how it was stored. */
export interface Tensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array;
}

/** Where a tensor lies in the file, as the header says (validated). */
export interface TensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

export class SafetensorsError extends Error {
  constructor(
    readonly file: string,
    readonly tensor: string | null,
    detail: string,
  ) {
    super(`${file}${tensor === null ? '' : `: tensor "${tensor}"`}: ${detail}`);
    this.name = 'SafetensorsError';
  }
}

/** A parsed, validated safetensors file; tensors are converted when asked for. */
export class SafetensorsFile {
  private constructor(
    readonly file: string,
    private readonly bytes: Uint8Array,
    readonly metadata: Readonly<Record<string, string>>,
    private readonly infos: ReadonlyMap<string, TensorInfo>,
  ) {}

  /**
   * Parses and validates the header of `bytes` (the whole file). `file` is only used in
   * error messages.
   */
  static parse(bytes: Uint8Array, file: string): SafetensorsFile {
    const { metadata, infos } = parseSafetensorsHeader(bytes, bytes.byteLength, file);
    return new SafetensorsFile(file, bytes, metadata, infos);
  }

  /** Tensor names in header order. */
  get names(): string[] {
    return [...this.infos.keys()];
  }

  has(name: string): boolean {
    return this.infos.has(name);
  }

  info(name: string): TensorInfo | undefined {
    return this.infos.get(name);
  }

  /** The tensor converted to float32; throws if it is missing or not a float dtype. */
  tensor(name: string): Tensor {
    const info = floatInfo(this.file, this.infos, name);
    const src = this.bytes.subarray(info.begin, info.end);
    return {
      dtype: info.dtype,
      shape: [...info.shape],
      data: toFloat32(src, info.dtype as FloatDtype),
    };
  }
}

/** A float tensor's entry; throws if it is missing or not a float dtype. */
function floatInfo(file: string, infos: ReadonlyMap<string, TensorInfo>, name: string): TensorInfo {
  const info = infos.get(name);
  if (!info) throw new SafetensorsError(file, name, 'no such tensor in the file');
  if (!FLOAT_DTYPES.has(info.dtype)) {
    throw new SafetensorsError(
      file,
      name,
      `dtype ${info.dtype} is not supported here (expected F32, F16, BF16 or F64)`,
    );
  }
  return info;
}

/**
 * A safetensors file on disk, read a part at a time: its header (validated against the file's
 * size) at open, a float tensor's rows when asked, so a large file is never held whole. A read
 * after the file changed (size or mtime) throws instead of mixing two files' bytes.
 */
export class SafetensorsOnDisk {
  private constructor(
    readonly file: string,
    /** The file's length in bytes (header and data). */
    readonly size: number,
    private readonly mtimeMs: number,
    readonly metadata: Readonly<Record<string, string>>,
    private readonly infos: ReadonlyMap<string, TensorInfo>,
  ) {}

  /** Reads and validates the header of `file` (its first 8 + N bytes). */
  static open(file: string): SafetensorsOnDisk {
    const fd = openSync(file, 'r');
    try {
      const st = fstatSync(fd);
      const len = Buffer.alloc(8);
      readSync(fd, len, 0, 8, 0);
      const n = Math.min(Number(len.readBigUInt64LE(0)), MAX_HEADER_BYTES, st.size - 8);
      const head = Buffer.alloc(8 + Math.max(0, n));
      len.copy(head);
      if (n > 0) readSync(fd, head, 8, n, 8);
      const { metadata, infos } = parseSafetensorsHeader(head, st.size, file);
      return new SafetensorsOnDisk(file, st.size, st.mtimeMs, metadata, infos);
    } finally {
      closeSync(fd);
    }
  }

  info(name: string): TensorInfo | undefined {
    return this.infos.get(name);
  }

  /**
   * Rows [from, from + count) of a float tensor (a row: everything below its first
   * dimension; a 1-D tensor's row is one value) as float32.
   */
  rows(name: string, from: number, count: number): Float32Array {
    const info = floatInfo(this.file, this.infos, name);
    const rows = info.shape[0] ?? 1;
    if (!Number.isInteger(from) || !Number.isInteger(count) || from < 0 || from + count > rows)
      throw new RangeError(`rows ${from}…${from + count} of "${name}", which has ${rows}`);
    const rowBytes = (info.end - info.begin) / Math.max(1, rows);
    const out = Buffer.alloc(count * rowBytes);
    const fd = openSync(this.file, 'r');
    try {
      const st = fstatSync(fd);
      if (st.size !== this.size || st.mtimeMs !== this.mtimeMs)
        throw new SafetensorsError(this.file, name, 'the file changed since it was opened');
      let done = 0;
      while (done < out.length) {
        const got = readSync(fd, out, done, out.length - done, info.begin + from * rowBytes + done);
        if (got === 0) throw new SafetensorsError(this.file, name, 'the file ends early');
        done += got;
      }
    } finally {
      closeSync(fd);
    }
    return toFloat32(out, info.dtype as FloatDtype);
  }

  /** The whole tensor as float32. */
  tensor(name: string): Tensor {
    const info = floatInfo(this.file, this.infos, name);
    return {
      dtype: info.dtype,
      shape: [...info.shape],
      data: this.rows(name, 0, info.shape[0] ?? 1),
    };
  }
}

/**
 * Parses and validates a safetensors header. `bytes` holds at least the first 8 + N bytes of
 * the file (the whole file, or just its header), `fileSize` is the file's full length (data
 * offsets are checked against it); `file` names it in errors.
 */
export function parseSafetensorsHeader(
  bytes: Uint8Array,
  fileSize: number,
  file: string,
): { metadata: Record<string, string>; infos: Map<string, TensorInfo> } {
  const fail = (detail: string, tensor: string | null = null): never => {
    throw new SafetensorsError(file, tensor, detail);
  };
  if (bytes.byteLength < 8) {
    fail(`file is ${bytes.byteLength} bytes, too short for a safetensors header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const n = Number(headerLen);
  if (8 + n > fileSize || 8 + n > bytes.byteLength) {
    fail(`header length ${n} runs past the end of the file (${fileSize} bytes)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail('header is not a JSON object');
  }
  const dataStart = 8 + n;
  const dataLen = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const infos = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        fail('__metadata__ is not an object');
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    infos.set(name, parseEntry(entry, name, dataStart, dataLen, fail));
  }
  const ranges = [...infos.entries()].sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1];
    const cur = ranges[i];
    if (prev && cur && cur[1].begin < prev[1].end) {
      fail(`data overlaps tensor "${prev[0]}"`, cur[0]);
    }
  }
  return { metadata, infos };
}

function parseEntry(
  entry: unknown,
  name: string,
  dataStart: number,
  dataLen: number,
  fail: (detail: string, tensor: string | null) => never,
): TensorInfo {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    fail('header entry is not an object', name);
  }
  const e = entry as Record<string, unknown>;
  const dtype = e.dtype;
  if (typeof dtype !== 'string' || !(dtype in ITEM_SIZE)) {
    fail(`unknown dtype ${JSON.stringify(dtype)}`, name);
  }
  const shape = e.shape;
  if (
    !Array.isArray(shape) ||
    shape.length > MAX_RANK ||
    !shape.every((d) => Number.isSafeInteger(d) && d >= 0)
  ) {
    fail(`shape ${JSON.stringify(shape)} is not a list of at most ${MAX_RANK} sizes`, name);
  }
  const offsets = e.data_offsets;
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    fail(`data_offsets ${JSON.stringify(offsets)} is not [begin, end]`, name);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`data_offsets [${begin}, ${end}] are reversed`, name);
  if (end > dataLen) {
    fail(`data_offsets [${begin}, ${end}] run past the end of the data (${dataLen} bytes)`, name);
  }
  const dims = shape as number[];
  const itemSize = ITEM_SIZE[dtype as SafetensorsDtype];
  const count = dims.reduce((a, d) => a * d, 1);
  if (count * itemSize !== end - begin) {
    fail(
      `shape [${dims.join(', ')}] × ${itemSize} bytes (${dtype}) = ${count * itemSize} bytes, ` +
        `but data_offsets span ${end - begin}`,
      name,
    );
  }
  return {
    dtype: dtype as SafetensorsDtype,
    shape: dims,
    begin: dataStart + begin,
    end: dataStart + end,
  };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let f16Table: Float32Array | null = null;

/** All 65536 half-precision values as float32, built once (256 KB). */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = halfBitsToFloat(h);
  f16Table = t;
  return t;
}

/** IEEE 754 binary16 bits → number. */
export function halfBitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** bfloat16 bits → number: the top half of a float32. */
export function bfloat16BitsToFloat(b: number): number {
  u32Scratch[0] = (b & 0xffff) << 16;
  return f32Scratch[0] ?? 0;
}

/** number → IEEE 754 binary16 bits, rounding to nearest even (via float32). */
export function floatToHalfBits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0] ?? 0;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf or NaN
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit-1 mantissa into place, round to even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rem = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rem > half || (rem === half && m & 1)) m++;
    return sign | m;
  }
  const rem = mant & 0x1fff;
  mant >>>= 13;
  if (rem > 0x1000 || (rem === 0x1000 && mant & 1)) {
    mant++;
    if (mant === 0x400) {
      mant = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | mant;
}

function toFloat32(src: Uint8Array, dtype: FloatDtype): Float32Array {
  const bytes = src.byteLength;
  // Copy into a fresh, aligned buffer so typed views are legal whatever the file offset.
  const copy = new Uint8Array(bytes);
  copy.set(src);
  if (!LITTLE_ENDIAN) return toFloat32Slow(copy, dtype);
  switch (dtype) {
    case 'F32':
      return new Float32Array(copy.buffer, 0, bytes / 4);
    case 'F64':
      return Float32Array.from(new Float64Array(copy.buffer, 0, bytes / 8));
    case 'F16': {
      const table = halfTable();
      const h = new Uint16Array(copy.buffer, 0, bytes / 2);
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = table[h[i] ?? 0] ?? 0;
      return out;
    }
    case 'BF16': {
      const h = new Uint16Array(copy.buffer, 0, bytes / 2);
      const bits = new Uint32Array(h.length);
      for (let i = 0; i < h.length; i++) bits[i] = (h[i] ?? 0) << 16;
      return new Float32Array(bits.buffer);
    }
  }
}

/** Big-endian hosts: read each element through a DataView. */
function toFloat32Slow(copy: Uint8Array, dtype: FloatDtype): Float32Array {
  const v = new DataView(copy.buffer);
  const size = dtype === 'F64' ? 8 : dtype === 'F32' ? 4 : 2;
  const out = new Float32Array(copy.byteLength / size);
  for (let i = 0; i < out.length; i++) {
    const o = i * size;
    out[i] =
      dtype === 'F64'
        ? v.getFloat64(o, true)
        : dtype === 'F32'
          ? v.getFloat32(o, true)
          : dtype === 'F16'
            ? halfBitsToFloat(v.getUint16(o, true))
            : bfloat16BitsToFloat(v.getUint16(o, true));
  }
  return out;
}

/** One tensor to write: float32 data, stored as F32 or F16. */
export interface TensorToWrite {
  dtype: 'F32' | 'F16';
  shape: readonly number[];
  data: Float32Array;
}

/**
 * Serialises tensors (in the order given) to safetensors bytes. The header is padded with
 * spaces so the data starts 8-byte aligned, as the reference implementation does.
 */
export function writeSafetensors(
  tensors: Readonly<Record<string, TensorToWrite>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = { ...metadata };
  let offset = 0;
  const parts: { data: Float32Array; dtype: 'F32' | 'F16'; offset: number }[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new Error('a tensor may not be named __metadata__');
    const count = t.shape.reduce((a, d) => a * d, 1);
    if (count !== t.data.length) {
      throw new Error(
        `tensor "${name}": shape [${t.shape.join(', ')}] holds ${count} values, data has ${t.data.length}`,
      );
    }
    const size = count * (t.dtype === 'F32' ? 4 : 2);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + size] };
    parts.push({ data: t.data, dtype: t.dtype, offset });
    offset += size;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  let headerBytes = encoder.encode(json);
  const pad = (8 - (headerBytes.byteLength % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    headerBytes = encoder.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  const base = 8 + headerBytes.byteLength;
  for (const p of parts) {
    const at = base + p.offset;
    for (let i = 0; i < p.data.length; i++) {
      const v = p.data[i] ?? 0;
      if (p.dtype === 'F32') view.setFloat32(at + 4 * i, v, true);
      else view.setUint16(at + 2 * i, floatToHalfBits(v), true);
    }
  }
  return out;
}
