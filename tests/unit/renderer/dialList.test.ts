/** The session's list of dials and the dials a reopened session starts with (steer/dialList). */
import { describe, expect, it } from 'vitest';
import type { DialInput } from '../../../preload/contract';
import { dialList, reopenDials } from '../../../renderer/src/steer/dialList';
import { dialStore } from '../../../renderer/src/steer/store';

const dial = (feature: number, value: number, label?: string): DialInput => ({
  saeId: 'sae',
  feature,
  method: 'add',
  value,
  maxActivation: null,
  ...(label ? { label } : {}),
});

describe('dialList', () => {
  it('lists every dial with its name at rest, composite members kept', () => {
    dialStore.clear();
    dialStore.add({ saeId: 'sae', feature: 1, label: 'rivers', value: 3 });
    dialStore.add({ saeId: 'sae', feature: 2, label: 'never moved' });
    const members = [
      { feature: 4, weight: 1 },
      { feature: 5, weight: 0.5 },
    ];
    dialStore.add({ saeId: 'sae', feature: 4, label: 'two as one', members });
    dialStore.update(dialStore.get()[0]?.key ?? '', { method: 'scale', value: 2 });
    const list = dialList(dialStore.get());
    expect(list.map((d) => [d.feature, d.method, d.value, d.label])).toEqual([
      [1, 'scale', 1, 'rivers'],
      [2, 'add', 0, 'never moved'],
      [4, 'add', 0, 'two as one'],
    ]);
    expect(list[2]?.members).toEqual(members);
    // only the turned dial runs; the list has all three
    expect(dialStore.forApi().map((d) => d.feature)).toEqual([1]);
    dialStore.clear();
  });
});

describe('reopenDials', () => {
  it('brings back unmoved dials at rest, in the list’s order, and runs exactly the step’s dials', () => {
    const saved = [dial(2, 0, 'never moved'), dial(1, 0, 'rivers'), dial(3, 0, 'muted one')];
    const step = [dial(1, 2.5, 'rivers')];
    const out = reopenDials(saved, step);
    expect(out.map((d) => [d.feature, d.value, d.label])).toEqual([
      [2, 0, 'never moved'],
      [1, 2.5, 'rivers'],
      [3, 0, 'muted one'],
    ]);
    dialStore.restore(out);
    expect(dialStore.get().map((d) => d.label)).toEqual(['never moved', 'rivers', 'muted one']);
    // what runs is the step's dials as they were saved: the first run is the same step again
    expect(dialStore.forApi()).toEqual(step);
    dialStore.clear();
  });

  it('keeps step dials the list lacks, takes the list’s name for an unnamed one, and without a list is the step', () => {
    const step = [dial(1, 2), dial(7, -1, 'late')];
    expect(reopenDials([dial(1, 0, 'rivers')], step)).toEqual([
      { ...dial(1, 2), label: 'rivers' },
      dial(7, -1, 'late'),
    ]);
    expect(reopenDials(null, step)).toEqual(step);
    expect(reopenDials(undefined, [])).toEqual([]);
    // a composite dial is told from its heaviest member's plain dial by its members
    const comp = { ...dial(1, 0, 'composite'), members: [{ feature: 1, weight: 1 }] };
    expect(reopenDials([comp], step).map((d) => [d.feature, d.value, d.label])).toEqual([
      [1, 0, 'composite'],
      [1, 2, undefined],
      [7, -1, 'late'],
    ]);
  });
});
