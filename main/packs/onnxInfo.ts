/**
 * Reads what an ONNX file declares, without onnxruntime and without loading its weights: the
 * IR version, the default-domain opset, and the graph's inputs and outputs (name, element
 * type, shape). The protobuf is walked with positioned reads; initializers and nodes are
 * skipped by their length, so a large model costs a few reads. A truncated file, random bytes
 * or a wire-format error throws OnnxInfoError naming the file and the byte offset.
 * Field numbers follow onnx.proto (see main/runtime/onnxGraph.ts, which writes them).
 */
import { promises as fs } from 'node:fs';

export type OnnxElemType =
  'float32' | 'uint8' | 'int8' | 'int32' | 'int64' | 'float16' | 'bool' | 'double' | 'other';

const ELEM: Record<number, OnnxElemType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'double',
};

export interface OnnxValue {
  name: string;
  type: OnnxElemType;
  /** A number is a fixed size, a string a named axis, null an unknown one. */
  shape: (number | string | null)[] | null;
}

export interface OnnxInfo {
  irVersion: number;
  opset: number | null;
  inputs: OnnxValue[];
  outputs: OnnxValue[];
}

export class OnnxInfoError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'OnnxInfoError';
  }
}

/** Sequential reads over a file through a 64 KiB window. */
class Cursor {
  private buf = Buffer.alloc(0);
  private bufAt = 0;
  constructor(
    private readonly fh: fs.FileHandle,
    readonly size: number,
    private readonly fail: (detail: string) => never,
  ) {}

  async byte(at: number): Promise<number> {
    if (at >= this.size) this.fail(`it ends at byte ${this.size}, inside a field (truncated?)`);
    if (at < this.bufAt || at >= this.bufAt + this.buf.length) {
      this.buf = Buffer.alloc(Math.min(65536, this.size - at));
      await this.fh.read(this.buf, 0, this.buf.length, at);
      this.bufAt = at;
    }
    return this.buf[at - this.bufAt] ?? 0;
  }

  async bytes(at: number, n: number): Promise<Buffer> {
    if (at + n > this.size) this.fail(`a field at byte ${at} runs past the end (truncated?)`);
    const out = Buffer.alloc(n);
    await this.fh.read(out, 0, n, at);
    return out;
  }

  /** A varint at `at`: its value and the offset after it. */
  async varint(at: number): Promise<[number, number]> {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = await this.byte(at + i);
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) return [v, at + i + 1];
    }
    return this.fail(`a malformed varint at byte ${at}`);
  }
}

type Field = { n: number; wire: number; value: number; start: number; end: number };

/** The fields of the message in [from, to), calling `on` for each. */
async function walk(
  c: Cursor,
  from: number,
  to: number,
  fail: (d: string) => never,
  on: (f: Field) => Promise<void> | void,
): Promise<void> {
  let at = from;
  while (at < to) {
    const [tag, next] = await c.varint(at);
    const n = Math.floor(tag / 8);
    const wire = tag % 8;
    if (n === 0) fail(`field number 0 at byte ${at}: not a protobuf message`);
    at = next;
    if (wire === 0) {
      const [value, after] = await c.varint(at);
      await on({ n, wire, value, start: at, end: after });
      at = after;
    } else if (wire === 2) {
      const [len, after] = await c.varint(at);
      if (after + len > to) fail(`a field at byte ${at} runs past its message (truncated?)`);
      await on({ n, wire, value: len, start: after, end: after + len });
      at = after + len;
    } else if (wire === 1) {
      at += 8;
    } else if (wire === 5) {
      at += 4;
    } else {
      fail(`wire type ${wire} at byte ${at - 1}: not a protobuf message`);
    }
    if (at > to) fail(`a field ends past its message at byte ${at} (truncated?)`);
  }
}

async function str(c: Cursor, f: Field): Promise<string> {
  return (await c.bytes(f.start, f.end - f.start)).toString('utf8');
}

async function valueInfo(c: Cursor, f: Field, fail: (d: string) => never): Promise<OnnxValue> {
  const v: OnnxValue = { name: '', type: 'other', shape: null };
  await walk(c, f.start, f.end, fail, async (vf) => {
    if (vf.n === 1 && vf.wire === 2) v.name = await str(c, vf);
    if (vf.n !== 2 || vf.wire !== 2) return;
    // TypeProto.tensor_type (1): elem_type (1), shape (2) of dims (1): dim_value (1) | dim_param (2)
    await walk(c, vf.start, vf.end, fail, async (tp) => {
      if (tp.n !== 1 || tp.wire !== 2) return;
      await walk(c, tp.start, tp.end, fail, async (tt) => {
        if (tt.n === 1 && tt.wire === 0) v.type = ELEM[tt.value] ?? 'other';
        if (tt.n !== 2 || tt.wire !== 2) return;
        v.shape = [];
        await walk(c, tt.start, tt.end, fail, async (dim) => {
          if (dim.n !== 1 || dim.wire !== 2) return;
          let d: number | string | null = null;
          await walk(c, dim.start, dim.end, fail, async (dv) => {
            if (dv.n === 1 && dv.wire === 0) d = dv.value;
            if (dv.n === 2 && dv.wire === 2) d = await str(c, dv);
          });
          v.shape?.push(d);
        });
      });
    });
  });
  return v;
}

/** What `file` declares; throws OnnxInfoError when it is not a readable ONNX model. */
export async function readOnnxInfo(file: string): Promise<OnnxInfo> {
  const fail = (detail: string): never => {
    throw new OnnxInfoError(file, `not a readable ONNX model: ${detail}`);
  };
  const fh = await fs.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const c = new Cursor(fh, size, fail);
    const info: OnnxInfo = { irVersion: 0, opset: null, inputs: [], outputs: [] };
    let graph: Field | null = null;
    await walk(c, 0, size, fail, async (f) => {
      if (f.n === 1 && f.wire === 0) info.irVersion = f.value;
      if (f.n === 7 && f.wire === 2) graph = f;
      if (f.n === 8 && f.wire === 2) {
        // OperatorSetIdProto: domain (1), version (2); the default domain is '' or 'ai.onnx'.
        let domain = '';
        let version = 0;
        await walk(c, f.start, f.end, fail, async (o) => {
          if (o.n === 1 && o.wire === 2) domain = await str(c, o);
          if (o.n === 2 && o.wire === 0) version = o.value;
        });
        if (domain === '' || domain === 'ai.onnx') info.opset = version;
      }
    });
    if (info.irVersion < 1 || info.irVersion > 20)
      fail(`IR version ${info.irVersion} is not one ONNX has`);
    const g = graph as Field | null;
    if (!g) return fail('it has no graph');
    await walk(c, g.start, g.end, fail, async (f) => {
      if (f.n === 11 && f.wire === 2) info.inputs.push(await valueInfo(c, f, fail));
      if (f.n === 12 && f.wire === 2) info.outputs.push(await valueInfo(c, f, fail));
    });
    return info;
  } finally {
    await fh.close();
  }
}
