/**
 * The applied carry mapping a run sends (renderer/src/carry/carried.ts): only for the pack it
 * was carried to, only the rows whose dial is still on, each at the strength its dial runs at.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { carriedFor, setCarried } from '../../../renderer/src/carry/carried';
import type { Carried } from '../../../preload/contract';

const mapping: Carried = {
  from: { packId: 'p', saeId: 'latent' },
  to: { packId: 'p', saeId: 'spatial' },
  method: 'correlation',
  rows: [
    {
      sourceFeature: 1,
      sourceValue: 2,
      sourceLabel: null,
      feature: 7,
      label: null,
      score: 0.8,
      value: 3,
    },
    {
      sourceFeature: 2,
      sourceValue: 1,
      sourceLabel: null,
      feature: 9,
      label: null,
      score: 0.6,
      value: 1,
    },
  ],
};

afterEach(() => setCarried(null));

describe('carriedFor', () => {
  it('sends nothing before a carry, or for another pack', () => {
    const dials = [{ saeId: 'spatial', feature: 7, method: 'add' as const, value: 3 }];
    expect(carriedFor('p', dials)).toBeNull();
    setCarried(mapping);
    expect(carriedFor('q', dials)).toBeNull();
  });

  it('keeps the rows whose dial is on, at the strength it runs at', () => {
    setCarried(mapping);
    const got = carriedFor('p', [
      { saeId: 'spatial', feature: 7, method: 'add', value: 5 },
      { saeId: 'latent', feature: 9, method: 'add', value: 1 },
    ]);
    expect(got?.rows).toEqual([{ ...mapping.rows[0], value: 5 }]);
    expect(carriedFor('p', [{ saeId: 'latent', feature: 7, method: 'add', value: 1 }])).toBeNull();
  });
});
