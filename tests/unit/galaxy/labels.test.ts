import { describe, expect, it } from 'vitest';
import { Matrix4, PerspectiveCamera } from 'three';
import {
  clusterSeparation,
  LabelLayout,
  labelBudget,
  placeLabels,
  type LabelCandidate,
} from '../../../renderer/src/galaxy/labels';

const box = (id: number, size: number, x: number, y: number): LabelCandidate => ({
  id,
  size,
  x,
  y,
  width: 80,
  height: 16,
});

describe('placeLabels', () => {
  it('places the biggest cluster first and skips overlapping smaller ones', () => {
    const placed = placeLabels([box(1, 10, 100, 100), box(2, 50, 120, 105), box(3, 5, 300, 100)], {
      width: 800,
      height: 600,
      budget: 10,
    });
    expect(placed.map((p) => p.id)).toEqual([2, 3]);
  });

  it('never returns two overlapping rectangles', () => {
    const cands: LabelCandidate[] = [];
    for (let i = 0; i < 200; i++)
      cands.push(box(i, (i * 37) % 101, (i * 53) % 780, (i * 29) % 580));
    const placed = placeLabels(cands, { width: 800, height: 600, budget: 1000, pad: 0 });
    expect(placed.length).toBeGreaterThan(10);
    for (const a of placed) {
      for (const b of placed) {
        if (a === b) continue;
        const apart =
          a.left + 80 <= b.left ||
          b.left + 80 <= a.left ||
          a.top + 16 <= b.top ||
          b.top + 16 <= a.top;
        expect(apart).toBe(true);
      }
    }
  });

  it('respects the budget and the screen edges', () => {
    const placed = placeLabels([box(1, 3, 10, 10), box(2, 2, 400, 300), box(3, 1, 600, 300)], {
      width: 800,
      height: 600,
      budget: 1,
    });
    expect(placed.map((p) => p.id)).toEqual([2]);
  });

  it('shows fewer labels zoomed out', () => {
    expect(labelBudget(8, 10, 20)).toBeLessThan(labelBudget(8, 10, 10));
    expect(labelBudget(8, 10, 5)).toBeGreaterThan(8);
    expect(labelBudget(8, 10, 1000)).toBe(1);
  });
});

describe('LabelLayout (labels by zoom level)', () => {
  const clusters = Array.from({ length: 64 }, (_, i) => ({
    id: i,
    size: 1000 - i * 13,
    x: Math.sin(i * 1.7) * 5,
    y: Math.cos(i * 2.3) * 4,
    z: Math.sin(i * 0.9) * 3,
  }));
  const widths = clusters.map((_, i) => 60 + (i % 5) * 20);
  const view = (distance: number): number[] => {
    const cam = new PerspectiveCamera(50, 1280 / 720, 0.1, 500);
    cam.position.set(0, 0, distance);
    cam.lookAt(0, 0, 0);
    cam.updateMatrixWorld();
    return new Matrix4().multiplyMatrices(cam.projectionMatrix, cam.matrixWorldInverse).toArray();
  };
  const scale = 720 / (2 * Math.tan((25 * Math.PI) / 180));
  // The toolbar's rectangle at 1280 × 720.
  const toolbar = new Float64Array([16, 16, 620, 52]);

  it('names more clusters as the camera flies in, the biggest first, never overlapping or under the toolbar', () => {
    const layout = new LabelLayout(clusters, widths, 20);
    let before = 0;
    for (const d of [60, 25, 12]) {
      const n = layout.place(view(d), 1280, 720, scale, toolbar, 1);
      expect(n).toBeGreaterThanOrEqual(before);
      before = n;
      const boxes = Array.from({ length: n }, (_, k) => {
        const i = layout.placed[k] ?? 0;
        const l = layout.left[k] ?? 0;
        const t = layout.top[k] ?? 0;
        return { l, t, r: l + (widths[i] ?? 0), b: t + 20 };
      });
      for (const [a, box] of boxes.entries()) {
        expect(box.l >= 0 && box.t >= 0 && box.r <= 1280 && box.b <= 720).toBe(true);
        expect(box.r <= 16 || box.l >= 620 || box.b <= 16 || box.t >= 52).toBe(true);
        for (const other of boxes.slice(a + 1))
          expect(box.r <= other.l || other.r <= box.l || box.b <= other.t || other.b <= box.t).toBe(
            true,
          );
      }
    }
    expect(before).toBeGreaterThan(3);
    const far = layout.place(view(60), 1280, 720, scale, toolbar, 0);
    expect(far).toBeGreaterThan(0);
    expect(layout.placed[0]).toBe(0); // the biggest cluster is named first
  });

  it('gives each cluster its distance to the nearest bigger one', () => {
    const sep = clusterSeparation([
      { id: 0, size: 10, x: 0, y: 0, z: 0 },
      { id: 1, size: 5, x: 3, y: 4, z: 0 },
      { id: 2, size: 1, x: 3, y: 5, z: 0 },
    ]);
    expect(Array.from(sep)).toEqual([Infinity, 5, 1]);
  });
});
