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
/** When set, index.feature answers only when the test lets it (a card on its way). */
let hold: Promise<void> | null = null;

/** The preload's bridge as the page sees it, answering index.feature from a card store. */
const bridge = {
  call: (name: string, input: { feature: number }) => {
    asked.push(`${name}:${input.feature}`);
    const card = {
      feature: input.feature,
      calibration: calibrated ? { typical: 2, limit: 9, level: 0.3, reached: true } : null,
    } as unknown as FeatureCard;
    const reply = { ok: true, value: card } as Result<FeatureCard>;
    return hold ? hold.then(() => reply) : Promise.resolve(reply);
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

  it('asks again at once when the cards changed while a card without a range was on its way', async () => {
    const { ensureRange, rangeOf } = await import('../../../../renderer/src/steer/calibration');
    const { clearFeatureCards } = await import('../../../../renderer/src/galaxy/featureCache');
    calibrated = false;
    let release = (): void => {};
    hold = new Promise((r) => (release = r));
    asked.length = 0;
    ensureRange('p', 's', 6);
    // the build ends while that card is on its way: the page's ask is skipped (one in flight)
    calibrated = true;
    clearFeatureCards();
    ensureRange('p', 's', 6);
    expect(asked).toEqual(['index.feature:6']);
    // the old card comes without a range, computed before the calibration stage
    hold = null;
    release();
    await settle();
    await settle();
    expect(asked).toEqual(['index.feature:6', 'index.feature:6']);
    expect(rangeOf('s', 6)).toEqual({ typical: 2, limit: 9, level: 0.3 });
  });
});
