// The card's "fires on" share: two significant digits, never exponent notation for 10–100%.
import { describe, expect, it } from 'vitest';
import { percent } from '../../../renderer/src/card/percent';

describe('percent', () => {
  it('writes shares the way a person reads them', () => {
    expect(percent(1)).toBe('100%');
    expect(percent(0.34)).toBe('34%');
    expect(percent(0.0086)).toBe('0.86%');
    expect(percent(0.000012)).toBe('1.2e-3%');
    expect(percent(0)).toBe('0%');
  });
});
