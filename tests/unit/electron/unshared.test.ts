import { describe, expect, it } from 'vitest';
import { unshared } from '../../../main/electron/unshared';

const sharedU16 = (values: number[]): Uint16Array => {
  const a = new Uint16Array(new SharedArrayBuffer(values.length * 2));
  a.set(values);
  return a;
};

describe('unshared (replies that cross Electron’s IPC)', () => {
  it('copies typed arrays over shared memory, at any depth, keeping their values and type', () => {
    const reply = { map: { positions: sharedU16([1, 2, 3]), count: 3 }, list: [sharedU16([7])] };
    const out = unshared(reply);
    expect(out.map.positions).toBeInstanceOf(Uint16Array);
    expect(out.map.positions.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(out.map.positions)).toEqual([1, 2, 3]);
    expect(out.list[0]?.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(out.map.count).toBe(3);
    // the caller's value is left as it was
    expect(reply.map.positions.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('returns a value without shared memory as it is (no copy)', () => {
    const plain = { positions: new Uint16Array([1, 2]), names: ['a'], at: new Date(0) };
    expect(unshared(plain)).toBe(plain);
    expect(unshared('text')).toBe('text');
    expect(unshared(null)).toBe(null);
  });
});
