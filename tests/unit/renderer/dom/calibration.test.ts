/**
 * A dial's calibrated range (renderer/src/steer/calibration.ts) arrives even when its card was
 * first read before the index's calibration stage ran: the card without a range is not taken
 * as the answer, and the range is asked for again once the cards change.
 *
 * (tests/unit/renderer/dom: renderer modules that reach the page's globals, type-checked with the
 * web config.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureCard, OrreryBridge, Result } from '../../../../preload/contract';

let calibrated = false;
const asked: string[] = [];

/** The preload's bridge as the page sees it, answering index.feature from a card store. */
const bridge = {
  call: (name: string, input: { feature: number }) => {
    asked.push(`${name}:${input.feature}`);
    const card = {
      feature: input.feature,
      calibration: calibrated ? { typical: 2, limit: 9, level: 0.3, reached: true } : null,
    } as unknown as FeatureCard;
    return Promise.resolve({ ok: true, value: card } as Result<FeatureCard>);
  },
  onEvent: () => () => {},
} as unknown as OrreryBridge;

beforeAll(() => {
  (globalThis as { window?: unknown }).window = { orrery: bridge, location: { href: '' } };
});
afterAll(() => {
  delete (globalThis as { window?: unknown }).window;
});

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('calibrated dial ranges', () => {
  it('asks again after a card without a range, and keeps the range once it arrives', async () => {
    const { ensureRange, rangeOf } = await import('../../../../renderer/src/steer/calibration');
    const { clearFeatureCards } = await import('../../../../renderer/src/galaxy/featureCache');
    ensureRange('p', 's', 5);
    await settle();
    expect(rangeOf('s', 5)).toBeNull();
    // the build's calibration stage finishes; the page clears its cards and asks again
    calibrated = true;
    clearFeatureCards();
    ensureRange('p', 's', 5);
    await settle();
    expect(rangeOf('s', 5)).toEqual({ typical: 2, limit: 9, level: 0.3 });
    // known now: not asked a third time
    ensureRange('p', 's', 5);
    await settle();
    expect(asked).toEqual(['index.feature:5', 'index.feature:5']);
  });
});
