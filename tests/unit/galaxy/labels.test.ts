import { describe, expect, it } from 'vitest';
import { labelBudget, placeLabels, type LabelCandidate } from '../../../renderer/src/galaxy/labels';

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
