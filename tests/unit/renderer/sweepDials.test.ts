/**
 * A drag sweep's dial lists (contract sweep.ts, steer/store.ts sweptOf, steer/dialDrag.ts):
 * for every value a drag reaches, the list the worker runs is the one the page sends when the
 * dial is at that value, so a frame is looked up by the very list forApi gives.
 */
import { describe, expect, it } from 'vitest';
import {
  DIAL_VALUE_MAX,
  gridOffsets,
  imageSweepInput,
  sweepDials,
  sweepOrder,
  sweepValues,
} from '../../../preload/contract';
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

  it('a grid names the same values as the list it stands for, in the same order', () => {
    const grid = { start: 0.5, step: 0.25, reach: 4 };
    expect(sweepValues({ grid })).toEqual([0.5, 0.75, 0.25, 1, 0, 1.25, -0.25, 1.5, -0.5]);
    expect(sweepValues({ values: [3, 1] })).toEqual([3, 1]);
    // near the limit: the offsets past it clamp to one value, which the first of them keeps
    // (counting up from -reach), as the page keys its frames by their dial lists
    const edge = { start: DIAL_VALUE_MAX - 1, step: 0.75, reach: 3 };
    const kept = new Map<number, number>();
    for (let px = -3; px <= 3; px++) {
      const v = dragValue(edge, px);
      if (![...kept.values()].includes(v)) kept.set(px, v);
    }
    expect(gridOffsets(edge)).toEqual(sweepOrder(3, 0, 0, (px) => !kept.has(px)));
    expect(gridOffsets(edge)).toEqual([0, 1, -1, 2, -2, -3]);
    expect(sweepValues({ grid: edge })).toEqual(gridOffsets(edge).map((px) => kept.get(px)));
    // a call names one of the two; its grid is a few numbers, however far it reaches
    const call = {
      packId: 'p',
      source: { example: 0 },
      swept: {
        others: [],
        at: 0,
        dial: {
          saeId: 's',
          feature: 1,
          method: 'add',
          value: 1,
        },
      },
    };
    expect(imageSweepInput.safeParse({ ...call, grid: { ...grid, reach: 200 } }).success).toBe(
      true,
    );
    expect(JSON.stringify({ ...call, grid: { ...grid, reach: 200 } }).length).toBeLessThan(300);
    expect(imageSweepInput.safeParse({ ...call, values: [1], grid }).success).toBe(false);
    expect(imageSweepInput.safeParse(call).success).toBe(false);
  });
});
