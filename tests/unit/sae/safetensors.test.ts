import { describe, expect, it } from 'vitest';
import {
  bfloat16BitsToFloat,
  floatToHalfBits,
  halfBitsToFloat,
  SafetensorsError,
  SafetensorsFile,
  writeSafetensors,
} from '../../../main/sae/safetensors';

/** A safetensors file from a raw header object and data bytes (for malformed cases). */
function rawFile(header: unknown, data: Uint8Array, headerLenOverride?: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLenOverride ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors round trip', () => {
  it('writes and reads F32 and F16 tensors with shapes and metadata', () => {
    const a = Float32Array.from({ length: 12 }, (_, i) => (i - 5) * 0.37);
    const b = Float32Array.from([0, -0, 1, -2.5, 65504, 6.1e-5, 1e-7, 0.1]);
    const bytes = writeSafetensors(
      { a: { dtype: 'F32', shape: [3, 4], data: a }, b: { dtype: 'F16', shape: [8], data: b } },
      { format: 'pt' },
    );
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const st = SafetensorsFile.parse(bytes, 'mem.safetensors');
    expect(st.names).toEqual(['a', 'b']);
    expect(st.metadata).toEqual({ format: 'pt' });
    const ta = st.tensor('a');
    expect(ta.dtype).toBe('F32');
    expect(ta.shape).toEqual([3, 4]);
    expect(Array.from(ta.data)).toEqual(Array.from(a));
    const tb = st.tensor('b');
    expect(tb.dtype).toBe('F16');
    expect(Array.from(tb.data)).toEqual(Array.from(b, (v) => halfBitsToFloat(floatToHalfBits(v))));
    expect(tb.data[4]).toBe(65504);
    expect(Math.abs((tb.data[7] ?? 0) - 0.1)).toBeLessThan(1e-4);
  });

  it('reads tensors at odd offsets (unaligned data)', () => {
    const data = new Uint8Array(1 + 8);
    new DataView(data.buffer).setFloat32(1, 1.5, true);
    new DataView(data.buffer).setFloat32(5, -3, true);
    const bytes = rawFile(
      {
        pad: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
        t: { dtype: 'F32', shape: [2], data_offsets: [1, 9] },
      },
      data,
    );
    const st = SafetensorsFile.parse(bytes, 'odd.safetensors');
    expect(Array.from(st.tensor('t').data)).toEqual([1.5, -3]);
    expect(() => st.tensor('pad')).toThrow(
      /odd\.safetensors: tensor "pad": dtype U8 is not supported/,
    );
  });

  it('converts BF16 and F64', () => {
    const data = new Uint8Array(4 + 16);
    const v = new DataView(data.buffer);
    v.setUint16(0, 0x3fc0, true); // 1.5
    v.setUint16(2, 0xc040, true); // -3
    v.setFloat64(4, Math.PI, true);
    v.setFloat64(12, -1e-3, true);
    const st = SafetensorsFile.parse(
      rawFile(
        {
          h: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] },
          d: { dtype: 'F64', shape: [1, 2], data_offsets: [4, 20] },
        },
        data,
      ),
      'x',
    );
    expect(Array.from(st.tensor('h').data)).toEqual([1.5, -3]);
    expect(Array.from(st.tensor('d').data)).toEqual([Math.fround(Math.PI), Math.fround(-1e-3)]);
    expect(bfloat16BitsToFloat(0x7f80)).toBe(Infinity);
  });

  it('converts half precision exactly, including subnormals, infinities and ties', () => {
    expect(halfBitsToFloat(0x3c00)).toBe(1);
    expect(halfBitsToFloat(0xc000)).toBe(-2);
    expect(halfBitsToFloat(0x0001)).toBe(2 ** -24);
    expect(halfBitsToFloat(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfBitsToFloat(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(halfBitsToFloat(0x7e00))).toBe(true);
    expect(floatToHalfBits(1)).toBe(0x3c00);
    expect(floatToHalfBits(-0)).toBe(0x8000);
    expect(floatToHalfBits(65520)).toBe(0x7c00); // rounds past the largest half
    expect(floatToHalfBits(2 ** -24)).toBe(0x0001);
    expect(floatToHalfBits(2 ** -25)).toBe(0x0000); // tie to even
    expect(floatToHalfBits(3 * 2 ** -25)).toBe(0x0002); // tie to even, upwards
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie to even
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalfBits(NaN) & 0x7c00).toBe(0x7c00);
    // Every finite half survives half → float → half.
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      if (floatToHalfBits(halfBitsToFloat(h)) !== h)
        throw new Error(`half ${h} does not round-trip`);
    }
  });

  it('refuses a shape that does not match the data', () => {
    expect(() =>
      writeSafetensors({ t: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }),
    ).toThrow(/tensor "t": shape \[2, 2\] holds 4 values, data has 3/);
  });
});

describe('safetensors validation names the file and the tensor', () => {
  const good = writeSafetensors({
    W: { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) },
  });
  const parse = (bytes: Uint8Array) => SafetensorsFile.parse(bytes, 'sae/w.safetensors');

  it('rejects a file shorter than the length prefix', () => {
    expect(() => parse(new Uint8Array(5))).toThrow(/sae\/w\.safetensors: file is 5 bytes/);
  });

  it('rejects a truncated file (data cut off)', () => {
    expect(() => parse(good.subarray(0, good.length - 4))).toThrow(
      /sae\/w\.safetensors: tensor "W": data_offsets \[0, 24\] run past the end of the data \(20 bytes\)/,
    );
  });

  it('rejects a header longer than the file', () => {
    expect(() => parse(good.subarray(0, 20))).toThrow(/header length \d+ runs past the end/);
  });

  it('rejects a header over the size limit', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(() => parse(bytes)).toThrow(/exceeds the 100000000-byte limit/);
  });

  it('rejects a header that is not JSON, or not an object', () => {
    const bytes = rawFile({}, new Uint8Array(0));
    bytes.set(new TextEncoder().encode('{x'), 8);
    expect(() => parse(bytes)).toThrow(/header is not valid UTF-8 JSON/);
    expect(() => parse(rawFile([1, 2], new Uint8Array(0)))).toThrow(/header is not a JSON object/);
  });

  it('rejects an unknown dtype', () => {
    const bytes = rawFile(
      { W: { dtype: 'F8', shape: [2], data_offsets: [0, 2] } },
      new Uint8Array(2),
    );
    expect(() => parse(bytes)).toThrow(/tensor "W": unknown dtype "F8"/);
  });

  it('rejects shape × item size ≠ byte length', () => {
    const bytes = rawFile(
      { W: { dtype: 'F16', shape: [3], data_offsets: [0, 4] } },
      new Uint8Array(4),
    );
    expect(() => parse(bytes)).toThrow(
      /tensor "W": shape \[3\] × 2 bytes \(F16\) = 6 bytes, but data_offsets span 4/,
    );
  });

  it('rejects bad shapes and offsets', () => {
    const data = new Uint8Array(8);
    expect(() =>
      parse(rawFile({ W: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, data)),
    ).toThrow(/tensor "W": shape \[-1\]/);
    expect(() =>
      parse(rawFile({ W: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, data)),
    ).toThrow(/are reversed/);
    expect(() => parse(rawFile({ W: { dtype: 'F32', shape: [1] } }, data))).toThrow(
      /data_offsets undefined is not \[begin, end\]/,
    );
  });

  it('rejects overlapping tensors', () => {
    const bytes = rawFile(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
      },
      new Uint8Array(8),
    );
    expect(() => parse(bytes)).toThrow(/tensor "b": data overlaps tensor "a"/);
  });

  it('rejects non-string metadata and reports a missing tensor', () => {
    expect(() => parse(rawFile({ __metadata__: { a: 1 } }, new Uint8Array(0)))).toThrow(
      /__metadata__\.a is not a string/,
    );
    expect(() => parse(good).tensor('nope')).toThrow(SafetensorsError);
  });
});
