/**
 * The bridge view's rules (renderer/src/bridge/links.ts) on a small hand-made side: what the
 * filter keeps (shared, specific, a score range; silent features never), the best matches a
 * lasso carries across, and the links drawn for a selection.
 */
import { describe, expect, it } from 'vitest';
import {
  bestMatchesOf,
  keptFeatures,
  NO_BRIDGE_FILTER,
  passes,
  selectionLinks,
  type SideBest,
} from '../../../renderer/src/bridge/links';

// features 0..4: best matches 7, 7, 3, -, 9; scores 0.9, 0.6, 0.2, none, 0.8 (feature 4 silent)
const side: SideBest = {
  best: Int32Array.from([7, 7, 3, -1, 9]),
  score: Float32Array.from([0.9, 0.6, 0.2, NaN, 0.8]),
  status: Uint8Array.from([1, 0, 0, 2, 2]),
  sharedAt: 0.7,
};

describe('bridge view rules', () => {
  it('passes a match by kind and score range', () => {
    expect(passes(NO_BRIDGE_FILTER, 0.2, 0.7)).toBe(true);
    expect(passes({ ...NO_BRIDGE_FILTER, show: 'shared' }, 0.7, 0.7)).toBe(true);
    expect(passes({ ...NO_BRIDGE_FILTER, show: 'shared' }, 0.69, 0.7)).toBe(false);
    expect(passes({ ...NO_BRIDGE_FILTER, show: 'specific' }, 0.69, 0.7)).toBe(true);
    expect(passes({ show: 'all', min: 0.5, max: 0.8 }, 0.9, 0.7)).toBe(false);
    expect(passes(NO_BRIDGE_FILTER, NaN, 0.7)).toBe(false);
  });

  it('keeps the features whose best match passes, never a silent one; null when not filtering', () => {
    expect(keptFeatures(side, NO_BRIDGE_FILTER)).toBeNull();
    expect([...(keptFeatures(side, { ...NO_BRIDGE_FILTER, show: 'shared' }) ?? [])]).toEqual([0]);
    expect([...(keptFeatures(side, { ...NO_BRIDGE_FILTER, show: 'specific' }) ?? [])]).toEqual([
      1, 2,
    ]);
    expect([...(keptFeatures(side, { show: 'all', min: 0.5, max: 1 }) ?? [])]).toEqual([0, 1]);
  });

  it('carries a lasso to the best matches once each, and links a selection', () => {
    expect(bestMatchesOf([0, 1, 2, 3, 4], side, NO_BRIDGE_FILTER)).toEqual([7, 3]);
    expect(bestMatchesOf([0, 1, 2], side, { ...NO_BRIDGE_FILTER, show: 'specific' })).toEqual([
      7, 3,
    ]);
    expect(selectionLinks([0, 2, 4], side, NO_BRIDGE_FILTER, true, 10)).toEqual([
      { main: 0, other: 7, score: expect.closeTo(0.9, 5) as number, kind: 'shared' },
      { main: 2, other: 3, score: expect.closeTo(0.2, 5) as number, kind: 'specific' },
    ]);
    // from the other side the link names its features the other way round; the cap holds
    expect(selectionLinks([0, 2], side, NO_BRIDGE_FILTER, false, 1)).toEqual([
      { main: 7, other: 0, score: expect.closeTo(0.9, 5) as number, kind: 'shared' },
    ]);
  });
});
