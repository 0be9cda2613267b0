import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeMessage,
  FrameError,
  limits,
  payloadSize,
} from '../../../preload/contract';

describe('binary frames', () => {
  it('keeps a message without typed arrays as JSON text', () => {
    expect(encodeMessage({ type: 'call', id: 1, input: { a: [1, 2] } })).toBe(
      '{"type":"call","id":1,"input":{"a":[1,2]}}',
    );
  });

  it('carries typed arrays of every kind as raw bytes and reads them back in place', () => {
    const rgba = new Uint8Array([1, 2, 3, 255, 9]);
    const positions = new Float32Array([0.5, -1.25, 3e9]);
    const ids = new Int32Array([-7, 8]);
    const message = {
      type: 'reply',
      id: 3,
      result: { ok: true, value: { rgba, nested: [{ positions }], ids, name: 'x' } },
    };
    const wire = encodeMessage(message);
    expect(wire).toBeInstanceOf(Uint8Array);
    const frame = wire as Uint8Array;
    expect(frame.byteLength).toBeLessThan(300);
    // a megabyte of pixels costs a megabyte on the wire (base64 would be 1.33 MB)
    const big = encodeMessage({ rgba: new Uint8Array(1 << 20) }) as Uint8Array;
    expect(big.byteLength).toBeLessThan((1 << 20) + 64);
    const back = decodeFrame(frame) as typeof message;
    expect(back.result.value.rgba).toBeInstanceOf(Uint8Array);
    expect([...back.result.value.rgba]).toEqual([...rgba]);
    expect(back.result.value.nested[0]?.positions).toBeInstanceOf(Float32Array);
    expect([...(back.result.value.nested[0]?.positions ?? [])]).toEqual([...positions]);
    expect([...back.result.value.ids]).toEqual([-7, 8]);
    expect(back.result.value.name).toBe('x');
  });

  it('carries a Node Buffer as bytes (its toJSON would turn it into a number list)', () => {
    const frame = encodeMessage({ bytes: Buffer.from([1, 2, 3]) });
    expect(frame).toBeInstanceOf(Uint8Array);
    const back = decodeFrame(frame as Uint8Array) as { bytes: Uint8Array };
    expect(back.bytes).toBeInstanceOf(Uint8Array);
    expect([...back.bytes]).toEqual([1, 2, 3]);
  });

  it('reads a frame that starts at an odd offset (a slice of a larger buffer)', () => {
    const frame = encodeMessage({ f: new Float32Array([1, 2, 3]) }) as Uint8Array;
    const shifted = new Uint8Array(frame.byteLength + 1);
    shifted.set(frame, 1);
    const back = decodeFrame(shifted.subarray(1)) as { f: Float32Array };
    expect([...back.f]).toEqual([1, 2, 3]);
  });

  it('refuses malformed and hostile frames with a named error', () => {
    const code = (f: Uint8Array): string => {
      try {
        decodeFrame(f);
        return 'accepted';
      } catch (e) {
        return e instanceof FrameError ? e.code : 'threw ' + String(e);
      }
    };
    expect(code(new Uint8Array([1, 2, 3]))).toBe('invalid_request');
    const good = encodeMessage({ b: new Uint8Array(16) }) as Uint8Array;
    const longHeader = good.slice();
    new DataView(longHeader.buffer).setUint32(4, 0xffffffff, true);
    expect(code(longHeader)).toBe('too_large');
    const pastEnd = good.slice();
    new DataView(pastEnd.buffer).setUint32(4, good.byteLength, true);
    expect(code(pastEnd)).toBe('invalid_request');
    expect(code(good.subarray(0, good.byteLength - 8))).toBe('invalid_request');
    const lying = new TextEncoder().encode('{"m":{"$bin":3},"b":[["u8",1]]}');
    const frame = new Uint8Array(8 + lying.byteLength + 8);
    frame.set([0x4f, 0x52, 0x42, 0x31]);
    new DataView(frame.buffer).setUint32(4, lying.byteLength, true);
    frame.set(lying, 8);
    expect(code(frame)).toBe('invalid_request');
    const proto = new TextEncoder().encode('{"m":{"__proto__":{"polluted":1}},"b":[]}');
    const p = new Uint8Array(8 + proto.byteLength);
    p.set([0x4f, 0x52, 0x42, 0x31]);
    new DataView(p.buffer).setUint32(4, proto.byteLength, true);
    p.set(proto, 8);
    decodeFrame(p);
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
  });

  it('measures payloads without serialising, stopping past the cap', () => {
    expect(payloadSize({ a: 'xyz', b: new Uint8Array(100) }, 1e9)).toBeGreaterThan(100);
    const huge = { items: new Array(1_000_000).fill('x'.repeat(100)) };
    expect(payloadSize(huge, limits.messageBytes)).toBeGreaterThan(limits.messageBytes);
  });
});
