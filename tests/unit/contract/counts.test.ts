/**
 * Counts as the app writes them (preload/contract/counts.ts): the same text as English
 * toLocaleString for whole numbers of every length, negative ones too; what is not a number
 * as itself.
 */
import { describe, expect, it } from 'vitest';
import { formatCount, formatFeatures } from '../../../preload/contract/counts';

describe('formatCount', () => {
  it('groups thousands as en-US does', () => {
    const values = [0, 7, 42, 999, 1000, 1024, 4096, 65_535, 100_000, 1_048_576, 123_456_789];
    for (const v of [...values, ...values.filter((x) => x > 0).map((x) => -x)]) {
      expect(formatCount(v), String(v)).toBe(v.toLocaleString('en-US'));
    }
  });

  it('writes non-finite numbers as themselves', () => {
    expect(formatCount(Number.NaN)).toBe('NaN');
    expect(formatCount(Infinity)).toBe('Infinity');
  });

  it('counts features in words: grouped, one in the singular, unknown as ?', () => {
    expect(formatFeatures(1024)).toBe('1,024 features');
    expect(formatFeatures(1)).toBe('1 feature');
    expect(formatFeatures(0)).toBe('0 features');
    expect(formatFeatures(null)).toBe('? features');
    expect(formatFeatures(undefined)).toBe('? features');
  });
});
