/**
 * A drag sweep's dial lists (contract sweep.ts, steer/store.ts sweptOf, steer/dialDrag.ts):
 * for every value a drag reaches, the list the worker runs is the one the page sends when the
 * dial is at that value, so a frame is looked up by the very list forApi gives.
 */
import { describe, expect, it } from 'vitest';
import { sweepDials } from '../../../preload/contract';
import { dragValue, sweepOffsets } from '../../../renderer/src/steer/dialDrag';
import { dialStore } from '../../../renderer/src/steer/store';

describe('drag sweep dial lists', () => {
  it('equal forApi at every swept value, at rest too, with muted and resting dials around', () => {
    dialStore.clear();
    dialStore.add({ saeId: 'sae', feature: 1, label: 'before it', value: 2 });
    dialStore.add({ saeId: 'sae', feature: 2, label: 'at rest' });
    dialStore.add({ saeId: 'sae', feature: 3, label: 'turned', value: 0.5 });
    dialStore.add({ saeId: 'sae', feature: 4, label: 'muted', value: 1 });
    const members = [
      { feature: 5, weight: 1 },
      { feature: 6, weight: -0.5 },
    ];
    dialStore.add({ saeId: 'sae', feature: 5, label: 'two as one', members, value: 3 });
    const keys = dialStore.get().map((d) => d.key);
    dialStore.update(keys[3] ?? '', { muted: true });
    const key = keys[2] ?? '';
    const swept = dialStore.sweptOf(key);
    if (!swept) throw new Error('no sweep');
    expect(swept.at).toBe(1);
    const drag = { start: 0.5, step: 0.25 };
    const values = sweepOffsets(4).map((px) => dragValue(drag, px));
    expect(values).toEqual([0.5, 0.75, 0.25, 1, 0, 1.25, -0.25, 1.5, -0.5]);
    for (const v of values) {
      dialStore.update(key, { value: v });
      expect(sweepDials(swept, v)).toEqual(dialStore.forApi());
      expect(JSON.stringify(sweepDials(swept, v))).toBe(JSON.stringify(dialStore.forApi()));
    }
    // at rest the turning dial is left out, as forApi leaves it out
    expect(sweepDials(swept, 0).map((d) => d.feature)).toEqual([1, 5]);
    // a muted dial has no sweep (its turns change nothing)
    expect(dialStore.sweptOf(keys[3] ?? '')).toBeNull();
  });
});
