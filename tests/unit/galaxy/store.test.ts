import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeMapArrays, encodeMessage } from '../../../preload/contract';
import { decodeMap, makeMap } from '../../../renderer/src/galaxy/mapData';
import { pointColors, pointSizes } from '../../../renderer/src/galaxy/palette';
import { createGalaxyStore, STATE } from '../../../renderer/src/galaxy/store';

/** Five points showing features 10, 11, 12, 13, 14 (the store must not confuse the two). */
function map() {
  const positions = new Float32Array([0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, -4, 0, 0]);
  const density = new Float32Array([0.5, 0.01, 0.2, 0.001, 0.9]);
  const cluster = new Int32Array([0, 0, 1, 1, -1]);
  const features = new Uint32Array([10, 11, 12, 13, 14]);
  return makeMap(
    positions,
    density,
    cluster,
    [
      { id: 0, label: 'a', size: 2, x: 0.5, y: 0, z: 0 },
      { id: 1, label: 'b', size: 2, x: 0, y: 1, z: 1.5 },
    ],
    features,
  );
}

describe('decodeMap', () => {
  it('takes the compact arrays of a reply (through a binary frame), indexes features and checks lengths', () => {
    const m = map();
    const sent = {
      ...encodeMapArrays({
        count: 5,
        features: m.features,
        positions: m.positions,
        density: m.density,
        cluster: m.cluster,
      }),
      clusters: m.clusters,
    };
    const reply = decodeFrame(encodeMessage(sent) as Uint8Array) as typeof sent;
    const d = decodeMap(reply);
    // Each axis spans at most 7 units here: within 7 / 65535 / 2 of what was stored.
    d.positions.forEach((v, i) => expect(Math.abs(v - (m.positions[i] ?? NaN))).toBeLessThan(6e-5));
    expect(Array.from(d.cluster)).toEqual([0, 0, 1, 1, -1]);
    expect(Array.from(d.features)).toEqual([10, 11, 12, 13, 14]);
    expect(d.pointOf[12]).toBe(2);
    expect(d.pointOf[3]).toBe(-1);
    expect(Math.abs((d.density[4] ?? NaN) / 0.9 - 1)).toBeLessThan(1e-4); // 16-bit log levels
    d.bounds.center.forEach((c, k) => expect(c).toBeCloseTo([-1.5, 1, 1.5][k] ?? NaN, 4));
    expect(() => decodeMap({ ...reply, count: 6 })).toThrow(/expected 6 values/);
  });
});

describe('palette', () => {
  it('colours by cluster and sizes by density', () => {
    const c = pointColors(new Int32Array([0, 0, 1, -1]));
    expect(Array.from(c.slice(0, 3))).toEqual(Array.from(c.slice(3, 6)));
    expect(Array.from(c.slice(0, 3))).not.toEqual(Array.from(c.slice(6, 9)));
    const s = pointSizes(new Float32Array([1e-6, 1e-3, 1]), 1);
    expect(s[0]).toBeCloseTo(0.5);
    expect(s[1]).toBeGreaterThan(s[0] ?? Infinity);
    expect(s[2]).toBeCloseTo(1.6);
  });
});

describe('GalaxyStore', () => {
  it('replaces, adds to and subtracts from the selection and marks dirty ranges', () => {
    const s = createGalaxyStore();
    s.load('p', 'sae', map());
    s.takeDirty();
    s.select([1, 3]);
    expect(s.selectedPoints()).toEqual([1, 3]);
    expect(s.selectedFeatures()).toEqual([11, 13]);
    expect(s.takeDirty()).toEqual([1, 4]);
    expect(s.takeDirty()).toBeNull();
    s.select([2, 3], 'add');
    expect(s.selectedPoints()).toEqual([1, 2, 3]);
    s.select([1, 4], 'subtract');
    expect(s.selectedPoints()).toEqual([2, 3]);
    expect(s.selectionCount).toBe(2);
    s.selectFeatures([10], 'replace');
    expect(s.selectedPoints()).toEqual([0]);
    expect(s.selectionCount).toBe(1);
    s.clearSelection();
    expect(s.selectionCount).toBe(0);
    expect(s.state[STATE.selected]).toBe(0);
  });

  it('dims what the filter rejects', () => {
    const s = createGalaxyStore();
    s.load('p', 'sae', map());
    const kept = (): number[] => [0, 1, 2, 3, 4].filter((p) => s.state[p * 4 + STATE.dimmed] === 0);
    s.setFilter({ minDensity: 0.1 });
    expect(kept()).toEqual([0, 2, 4]);
    s.setFilter({ cluster: 1 });
    expect(kept()).toEqual([2]);
    s.setFilter({ minDensity: 0, cluster: null, labelSourceKeep: new Set([14]) });
    expect(kept()).toEqual([4]);
    expect(s.isFiltered()).toBe(true);
  });

  it('filters a map off the wire on its density levels: a bound equal to a density keeps it', () => {
    const m = map();
    const sent = {
      ...encodeMapArrays({ ...m, cluster: m.cluster }),
      clusters: m.clusters,
    };
    const s = createGalaxyStore();
    s.load('p', 'sae', decodeMap(decodeFrame(encodeMessage(sent) as Uint8Array) as typeof sent));
    const kept = (): number[] => [0, 1, 2, 3, 4].filter((p) => s.state[p * 4 + STATE.dimmed] === 0);
    // Typed as a person would (doubles), each equal to a stored float32 density up to its rounding.
    s.setFilter({ minDensity: 0.01, maxDensity: 0.5 });
    expect(kept()).toEqual([0, 1, 2]);
    s.setFilter({ minDensity: 0.001, maxDensity: 0.01 });
    expect(kept()).toEqual([1, 3]);
    s.setFilter({ minDensity: 0.2, maxDensity: 0.9 });
    expect(kept()).toEqual([0, 2, 4]);
    s.setFilter({ minDensity: 0.0011, maxDensity: 0.0099 });
    expect(kept()).toEqual([]);
  });

  it('lights active features, brightest for the strongest, and clears them', () => {
    const s = createGalaxyStore();
    s.load('p', 'sae', map());
    s.setActive([
      { feature: 12, value: 4 },
      { feature: 10, value: 1 },
      { feature: 99, value: 100 },
    ]);
    expect(s.activeBrightness(12)).toBe(255);
    expect(s.activeBrightness(10)).toBe(64);
    expect(s.activeBrightness(11)).toBe(0);
    expect(s.state[2 * 4 + STATE.active]).toBe(255);
    expect(s.activeCount).toBe(2);
    s.setActive([]);
    expect(s.activeBrightness(12)).toBe(0);
    expect(s.activeCount).toBe(0);
  });

  it('highlights search hits, flies to features and clusters', () => {
    const s = createGalaxyStore();
    s.load('p', 'sae', map());
    s.setHighlights([11, 13]);
    s.setHighlights([13]);
    expect(s.state[1 * 4 + STATE.highlight]).toBe(0);
    expect(s.state[3 * 4 + STATE.highlight]).toBe(255);
    s.focus(12, { fly: true, select: true });
    expect(s.focused).toBe(12);
    expect(s.selectedFeatures()).toEqual([12]);
    expect(s.fly?.target).toEqual([0, 2, 0]);
    const seq = s.fly?.seq ?? 0;
    s.flyToCluster(1);
    expect(s.fly?.seq).toBe(seq + 1);
    expect(s.fly?.target).toEqual([0, 1, 1.5]);
    s.focus(3);
    expect(s.focused).toBe(12);
  });

  it('hovers by point, names the feature, and notifies subscribers only on change', () => {
    const s = createGalaxyStore();
    s.load('p', 'sae', map());
    let n = 0;
    const off = s.subscribe(() => n++);
    s.setHoveredPoint(3);
    s.setHoveredPoint(3);
    expect(s.hovered).toBe(13);
    s.setHoveredPoint(99);
    expect(s.hovered).toBeNull();
    off();
    s.setHoveredPoint(1);
    expect(n).toBe(2);
    expect(s.hovered).toBe(11);
    expect(s.hoveredPoint).toBe(1);
  });
});
