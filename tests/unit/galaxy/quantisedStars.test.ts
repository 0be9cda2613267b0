/**
 * The galaxy draws index.map's 16-bit positions as they come off the wire (mapData.ts,
 * geometry.ts): decoding the reply makes no float positions; the star geometry's position
 * attribute is the wire's Uint16Array read as 0…1 (as WebGL reads a normalised attribute), and
 * the object's matrix (placeQuantised) turns every point into its decoded float position; the
 * floats come on first read, or from whoever decoded them already (the lasso worker's copy).
 */
import { type BufferAttribute, Group, Vector3 } from 'three';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../main/index/build/rng';
import {
  decodeFrame,
  dequantisePositions,
  encodeMapArrays,
  encodeMessage,
  type CallOutput,
} from '../../../preload/contract';
import { makeStarGeometry, packLook, placeQuantised } from '../../../renderer/src/galaxy/geometry';
import { importanceOrder, importanceOrderOfLevels } from '../../../renderer/src/galaxy/lod';
import { decodeMap, type GalaxyMap } from '../../../renderer/src/galaxy/mapData';

/** An index.map reply for n clustered points, through a real binary frame. */
function reply(n: number): { wire: CallOutput<'index.map'>; stored: Float32Array } {
  const rand = mulberry32(5);
  const xyz = new Float32Array(n * 3);
  for (let i = 0; i < n * 3; i++) xyz[i] = Math.sin(i % 7) * 30 + (rand() - 0.5) * 4 - 11;
  const wire = encodeMapArrays({
    count: n,
    features: Uint32Array.from({ length: n }, (_, i) => i),
    positions: xyz,
    density: Float32Array.from({ length: n }, () => 10 ** (-5 + 4 * rand())),
    cluster: Uint32Array.from({ length: n }, (_, i) => i % 9),
  });
  const frame = encodeMessage({ ...wire, clusters: [] }) as Uint8Array;
  return { wire: decodeFrame(frame) as CallOutput<'index.map'>, stored: xyz };
}

describe('16-bit positions drawn as they are', () => {
  it('decodes a reply without a pass over its positions, and frames it from the wire’s radius', () => {
    const { wire } = reply(4000);
    const map = decodeMap(wire);
    expect(map.quantised?.levels).toBe(wire.positions);
    expect(map.quantised?.decoded).toBe(false);
    // The bounds: every decoded point inside the sphere, one on its surface.
    const floats = dequantisePositions(wire.positions, wire.box);
    let far = 0;
    for (let i = 0; i < map.count; i++) {
      const d = Math.hypot(
        ...[0, 1, 2].map((a) => (floats[i * 3 + a] as number) - (map.bounds.center[a] as number)),
      );
      far = Math.max(far, d);
    }
    expect(map.bounds.radius).toBeGreaterThanOrEqual(far - 1e-5);
    expect(map.bounds.radius).toBeLessThan(far + 1e-5);
    expect(map.quantised?.decoded).toBe(false);
  });

  it('puts every star where its decoded position is (normalised attribute × the box matrix)', () => {
    const { wire, stored } = reply(3000);
    const map = decodeMap(wire);
    const order = Uint32Array.from({ length: map.count }, (_, i) => i);
    const g = makeStarGeometry(map, new Uint8Array(map.count * 4), packLook(map), order);
    const attr = g.getAttribute('position') as BufferAttribute;
    expect(attr.array).toBeInstanceOf(Uint16Array);
    expect(attr.normalized).toBe(true);
    expect(attr.array).toBe(wire.positions); // no copy
    const object = new Group();
    placeQuantised(object, map);
    const v = new Vector3();
    const steps = wire.box.step;
    for (let i = 0; i < map.count; i++) {
      v.fromBufferAttribute(attr, i).applyMatrix4(object.matrix);
      const world = v.toArray();
      for (let a = 0; a < 3; a++) {
        const want = map.positions[i * 3 + a] as number;
        expect(Math.abs((world[a] as number) - want)).toBeLessThan(1e-4);
        // and within half a step of what the index stored (plus float32 rounding)
        expect(Math.abs(want - (stored[i * 3 + a] as number))).toBeLessThanOrEqual(
          (steps[a] as number) / 2 + 1e-5,
        );
      }
    }
  });

  it('decodes the floats once, on first read, or takes the copy someone decoded already', () => {
    const { wire } = reply(500);
    const a = decodeMap(wire);
    const first = a.positions;
    expect(a.quantised?.decoded).toBe(true);
    expect(a.positions).toBe(first);
    expect(Array.from(first)).toEqual(Array.from(dequantisePositions(wire.positions, wire.box)));

    const b = decodeMap(wire);
    const theirs = dequantisePositions(wire.positions, wire.box);
    b.quantised?.adopt(new Float32Array(3)); // the wrong length: not taken
    expect(b.quantised?.decoded).toBe(false);
    b.quantised?.adopt(theirs);
    expect(b.positions).toBe(theirs);
    b.quantised?.adopt(new Float32Array(theirs.length)); // once decoded, kept
    expect(b.positions).toBe(theirs);
  });

  it('draws from the wire’s density levels and cluster ids: the same look and order as from their decoded values, with neither decoded', () => {
    const { wire } = reply(5000);
    const map = decodeMap(wire);
    const reads: string[] = [];
    // the same map read through its decoded arrays (what packLook and the order used before)
    const decoded: GalaxyMap = { ...map, levels: null, density: map.density, cluster: map.cluster };
    const spied = new Proxy(map, {
      get(target, key, receiver) {
        if (key === 'density' || key === 'cluster') reads.push(key);
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    expect(Array.from(packLook(spied))).toEqual(Array.from(packLook(decoded)));
    const levels = map.levels;
    if (!levels) throw new Error('a map off the wire keeps its levels');
    expect(Array.from(importanceOrderOfLevels(levels.density, levels.densityScale))).toEqual(
      Array.from(importanceOrder(decoded.density)),
    );
    expect(reads).toEqual([]);
    // cluster ids off the wire's 8-bit mark for none, and sizes spread over the byte
    const look = packLook(spied);
    const sizes = new Set(Array.from({ length: map.count }, (_, i) => look[i * 4 + 3]));
    expect(sizes.size).toBeGreaterThan(100);
  });
});
