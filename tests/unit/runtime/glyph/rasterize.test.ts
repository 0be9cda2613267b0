import { describe, expect, it } from 'vitest';
import type { PathCommand } from 'opentype.js';
import { flatten, rasterize } from '../../../../main/runtime/glyph/rasterize';

function rect(x0: number, y0: number, x1: number, y1: number, clockwise = true): PathCommand[] {
  const pts = clockwise
    ? [
        [x0, y0],
        [x1, y0],
        [x1, y1],
        [x0, y1],
      ]
    : [
        [x0, y0],
        [x0, y1],
        [x1, y1],
        [x1, y0],
      ];
  return [
    { type: 'M', x: pts[0]?.[0] ?? 0, y: pts[0]?.[1] ?? 0 },
    ...pts.slice(1).map(([x, y]) => ({ type: 'L' as const, x: x ?? 0, y: y ?? 0 })),
    { type: 'Z' },
  ];
}

const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

describe('rasterize', () => {
  it('fills whole pixels exactly and nothing outside', () => {
    const r = rasterize(flatten(rect(1, 1, 3, 3)), 4, 4);
    expect([...r.data]).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  });

  it('gives partial pixels their covered area, whichever the winding', () => {
    for (const cw of [true, false]) {
      const r = rasterize(flatten(rect(0.5, 0.5, 1.5, 1.5, cw)), 3, 3);
      const want = [0.25, 0.25, 0, 0.25, 0.25, 0, 0, 0, 0];
      r.data.forEach((v, i) => expect(v).toBeCloseTo(want[i] ?? 0, 6));
    }
  });

  it('conserves the area of a slanted triangle', () => {
    const tri: PathCommand[] = [
      { type: 'M', x: 1.3, y: 0.7 },
      { type: 'L', x: 9.1, y: 3.2 },
      { type: 'L', x: 4.4, y: 8.9 },
      { type: 'Z' },
    ];
    const area = Math.abs((9.1 - 1.3) * (8.9 - 0.7) - (4.4 - 1.3) * (3.2 - 0.7)) / 2;
    const r = rasterize(flatten(tri), 12, 12);
    expect(sum(r.data)).toBeCloseTo(area, 4);
    for (const v of r.data) expect(v).toBeGreaterThanOrEqual(0);
    for (const v of r.data) expect(v).toBeLessThanOrEqual(1);
  });

  it('leaves a counter-wound hole empty', () => {
    const r = rasterize(flatten([...rect(0, 0, 6, 6, true), ...rect(2, 2, 4, 4, false)]), 6, 6);
    expect(r.data[2 * 6 + 2]).toBe(0);
    expect(r.data[3 * 6 + 3]).toBe(0);
    expect(r.data[0]).toBe(1);
    expect(sum(r.data)).toBeCloseTo(32, 5);
  });

  it('flattens curves within the tolerance (a circle of cubics keeps its area)', () => {
    const k = 0.5522847498;
    const [cx, cy, R] = [10, 10, 8];
    const circle: PathCommand[] = [
      { type: 'M', x: cx + R, y: cy },
      { type: 'C', x1: cx + R, y1: cy + k * R, x2: cx + k * R, y2: cy + R, x: cx, y: cy + R },
      { type: 'C', x1: cx - k * R, y1: cy + R, x2: cx - R, y2: cy + k * R, x: cx - R, y: cy },
      { type: 'C', x1: cx - R, y1: cy - k * R, x2: cx - k * R, y2: cy - R, x: cx, y: cy - R },
      { type: 'C', x1: cx + k * R, y1: cy - R, x2: cx + R, y2: cy - k * R, x: cx + R, y: cy },
      { type: 'Z' },
    ];
    // chords cut at most (2/3) · perimeter · tolerance off the area
    for (const tol of [0.05, 0.005]) {
      const r = rasterize(flatten(circle, tol), 20, 20);
      const lost = Math.PI * R * R - sum(r.data);
      expect(lost).toBeGreaterThan(-0.1);
      expect(lost).toBeLessThan((2 / 3) * 2 * Math.PI * R * tol + 0.1);
    }
    const quad: PathCommand[] = [
      { type: 'M', x: 0, y: 0 },
      { type: 'Q', x1: 5, y1: 10, x: 10, y: 0 },
      { type: 'Z' },
    ];
    // area under a parabola through (0,0), control (5,10), (10,0) = 2/3 · 10 · 5
    const q = rasterize(flatten(quad), 10, 10);
    expect(Math.abs(sum(q.data) - (2 / 3) * 10 * 5)).toBeLessThan((2 / 3) * 20 * 0.05);
  });
});
