/**
 * index.map's compact arrays (preload/contract/mapWire.ts): positions round-trip within half a
 * quantisation step per axis, densities within half a log₂ level (a filter bound snapped to the
 * levels keeps exactly the densities at or past it), feature ids and clusters exactly, through
 * a real binary frame; a frame sent in pieces is byte for byte the frame sent whole. A function
 * of the density levels gives, level by level and in any order, f of the density the decode
 * gives for that level.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  decodeMapArrays,
  encodeMapArrays,
  encodeMessage,
  encodeMessageParts,
  DENSITY_LEVELS,
  perDensityLevel,
  POSITION_LEVELS,
  snapDensity,
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
    expect(w.density).toBeInstanceOf(Uint16Array);
    expect(w.cluster).toBeInstanceOf(Uint8Array); // 40 clusters fit in a byte
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
    // The bounds: a sphere around the box's centre that holds every decoded point, touching one.
    let far = 0;
    for (let i = 0; i < s.count; i++) {
      const r = Math.hypot(
        ...[0, 1, 2].map((a) => (d.positions[i * 3 + a] as number) - (d.bounds.center[a] ?? NaN)),
      );
      far = Math.max(far, r);
    }
    expect(d.bounds.radius).toBeGreaterThanOrEqual(far - 1e-5);
    expect(d.bounds.radius).toBeLessThan(far + 1e-5);
    for (let a = 0; a < 3; a++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = a; i < s.count * 3; i += 3) {
        lo = Math.min(lo, d.positions[i] as number);
        hi = Math.max(hi, d.positions[i] as number);
      }
      expect(Math.abs((d.bounds.center[a] as number) - (lo + hi) / 2)).toBeLessThan(1e-5);
    }
    // Densities 1e-5…0.1: 13.3 octaves in 65534 levels, within 2^(step/2) − 1 ≈ 7e-5 relative.
    const bound = 2 ** (w.densityScale.step / 2) - 1;
    expect(bound).toBeLessThan(1e-4);
    let worstD = 0;
    for (let i = 0; i < s.count; i++) {
      const rel = Math.abs((d.density[i] as number) / (s.density[i] as number) - 1);
      worstD = Math.max(worstD, rel);
    }
    expect(worstD).toBeLessThanOrEqual(bound + 1e-7); // + float32 rounding of the result
    expect(worstD).toBeGreaterThan(bound / 2); // quantised, not sent as they were
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

  it('a density filter on the snapped bound keeps exactly the densities at or past it, except within a level of it', () => {
    const s = stored(20_000, 5);
    s.density[3] = 0; // a dead feature stays exactly 0
    s.density[4] = 0.0010000000474974513; // float32(0.001), what a count over 1000 examples stores
    const w = encodeMapArrays(s);
    const d = decodeMapArrays(throughFrame(w));
    expect(d.density[3]).toBe(0);
    const rel = 2 ** w.densityScale.step - 1; // one level, relative
    for (const bound of [0.001, 3.3e-4, 0.0123, 1e-5, 0.1]) {
      const lo = snapDensity(d.densityScale, bound);
      let wrong = 0;
      for (let i = 0; i < s.count; i++) {
        const exact = (s.density[i] as number) >= bound;
        if (exact === (d.density[i] as number) >= lo) continue;
        // Only a density within one level of the bound may land on the other side.
        expect(Math.abs((s.density[i] as number) / bound - 1)).toBeLessThan(rel);
        wrong++;
      }
      expect(wrong).toBeLessThanOrEqual(2);
    }
    // The bound itself (as stored) is inside both ends of a range on it.
    const at = s.density[4] as number;
    expect(d.density[4]).toBeGreaterThanOrEqual(snapDensity(d.densityScale, 0.001));
    expect(d.density[4]).toBeLessThanOrEqual(snapDensity(d.densityScale, at));
    // Outside the map's range a bound is kept as typed; the ends come back as they were.
    expect(snapDensity(d.densityScale, 1e-9)).toBe(1e-9);
    expect(snapDensity(d.densityScale, 0.5)).toBe(0.5);
    let min = Infinity;
    for (const v of s.density) if (v > 0) min = Math.min(min, v);
    expect(d.density[s.density.indexOf(min)]).toBe(min);
    expect(Math.max(...w.density)).toBe(DENSITY_LEVELS);
  });

  it('clusters in 16 bits when an id does not fit a byte', () => {
    const s = stored(1000);
    s.cluster[5] = 300;
    const w = encodeMapArrays(s);
    expect(w.cluster).toBeInstanceOf(Uint16Array);
    const d = decodeMapArrays(throughFrame(w));
    expect(d.cluster[5]).toBe(300);
    expect(d.cluster[0]).toBe(-1);
    expect(d.cluster[1]).toBe(1);
  });

  it('a function of the levels is f of each level’s decoded density, made once per level', () => {
    const w = encodeMapArrays(stored(5000));
    const decoded = decodeMapArrays(w);
    const calls: number[] = [];
    const f = (d: number): number => {
      calls.push(d);
      return Math.round(Math.log2(d) * 100);
    };
    const at = perDensityLevel(w.densityScale, f);
    // backwards, then again: each level's value is made on its first use only
    for (const pass of [0, 1]) {
      for (let i = w.count - 1; i >= 0; i--) {
        const d = decoded.density[i] as number;
        expect(at(w.density[i] as number), `point ${i}, pass ${pass}`).toBe(f(d));
        calls.pop();
      }
    }
    expect(calls.length).toBe(new Set(w.density).size);
    expect(perDensityLevel(w.densityScale, (d) => d)(0)).toBe(0);
    expect(perDensityLevel(w.densityScale, (d) => d)(DENSITY_LEVELS)).toBeGreaterThan(0);
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
