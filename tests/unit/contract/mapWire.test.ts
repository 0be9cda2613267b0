/**
 * index.map's compact arrays (preload/contract/mapWire.ts): positions round-trip within half a
 * quantisation step per axis, feature ids and clusters exactly, through a real binary frame;
 * a frame sent in pieces is byte for byte the frame sent whole.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  decodeMapArrays,
  encodeMapArrays,
  encodeMessage,
  encodeMessageParts,
  POSITION_LEVELS,
  type MapWireArrays,
} from '../../../preload/contract';
import { mulberry32 } from '../../../main/index/build/rng';

/** n clustered points with spread-out coordinates (a UMAP-like map), as the index stores them. */
function stored(n: number, seed = 3) {
  const rand = mulberry32(seed);
  const positions = new Float32Array(n * 3);
  const cluster = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 40;
    cluster[i] = i % 97 === 0 ? 0xffffffff : c;
    for (let a = 0; a < 3; a++) positions[i * 3 + a] = Math.sin(c * (a + 1)) * 12 + rand() - 0.5;
  }
  return {
    count: n,
    features: Uint32Array.from({ length: n }, (_, i) => i),
    positions,
    density: Float32Array.from({ length: n }, () => 10 ** (-5 + 4 * rand())),
    cluster,
  };
}

function throughFrame(w: MapWireArrays): MapWireArrays {
  return decodeFrame(encodeMessage(w) as Uint8Array) as MapWireArrays;
}

describe('map wire arrays', () => {
  it('round-trips 100k positions within half a step per axis, the rest exactly', () => {
    const s = stored(100_000);
    const w = encodeMapArrays(s);
    expect(w.features).toBeNull(); // point i is feature i
    expect(w.positions).toBeInstanceOf(Uint16Array);
    expect(w.cluster).toBeInstanceOf(Uint16Array);
    const d = decodeMapArrays(throughFrame(w));
    let worst = 0;
    for (let i = 0; i < s.count * 3; i++) {
      const err = Math.abs((d.positions[i] as number) - (s.positions[i] as number));
      worst = Math.max(worst, err / (w.box.step[i % 3] as number));
    }
    // half a step, and float32's rounding of the result (~1e-6 relative at |x| ≈ 13)
    expect(worst).toBeLessThanOrEqual(0.5 + 0.01);
    expect(worst).toBeGreaterThan(0.4); // the values do move: quantised, not sent as they were
    for (let a = 0; a < 3; a++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = a; i < s.count * 3; i += 3) {
        lo = Math.min(lo, s.positions[i] as number);
        hi = Math.max(hi, s.positions[i] as number);
      }
      expect(w.box.min[a]).toBe(lo);
      expect(w.box.step[a]).toBeCloseTo((hi - lo) / POSITION_LEVELS, 12);
    }
    expect(Array.from(d.features)).toEqual(Array.from(s.features));
    expect(Array.from(d.density)).toEqual(Array.from(s.density));
    expect(Array.from(d.cluster)).toEqual(
      Array.from(s.cluster, (c) => (c === 0xffffffff ? -1 : c)),
    );
  });

  it('keeps feature ids that are not 0…n−1, 32-bit clusters when an id does not fit, flat axes exactly', () => {
    const s = stored(1000);
    s.features = Uint32Array.from({ length: 1000 }, (_, i) => i * 2 + 5);
    s.cluster[7] = 70_000;
    for (let i = 0; i < 1000; i++) s.positions[i * 3 + 2] = 4.25; // a flat map: z the same
    const w = encodeMapArrays(s);
    expect(w.cluster).toBeInstanceOf(Int32Array);
    const d = decodeMapArrays(throughFrame(w));
    expect(Array.from(d.features)).toEqual(Array.from(s.features));
    expect(d.cluster[7]).toBe(70_000);
    expect(d.cluster[0]).toBe(-1);
    expect(w.box.step[2]).toBe(0);
    for (let i = 0; i < 1000; i++) expect(d.positions[i * 3 + 2]).toBe(4.25);
  });

  it('refuses arrays of the wrong length', () => {
    const w = encodeMapArrays(stored(10));
    expect(() => decodeMapArrays({ ...w, count: 11 })).toThrow(/expected 33 values/);
  });

  it('a frame in pieces is the whole frame, cut where each buffer begins', () => {
    const w = encodeMapArrays(stored(1001));
    const message = { type: 'reply', id: 9, result: { ok: true, value: w } };
    const parts = encodeMessageParts(message);
    expect(Array.isArray(parts)).toBe(true);
    const joined = new Uint8Array((parts as Uint8Array[]).flatMap((p) => Array.from(p)));
    expect(joined).toEqual(encodeMessage(message));
    // The positions go out as a view of their own bytes, not a copy.
    expect((parts as Uint8Array[]).some((p) => p.buffer === w.positions.buffer)).toBe(true);
    expect(encodeMessageParts({ type: 'welcome' })).toBe('{"type":"welcome"}');
  });
});
