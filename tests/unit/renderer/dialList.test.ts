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

describe('a muted dial', () => {
  it('keeps its value and its mute in the list, and comes back muted with that value', () => {
    dialStore.clear();
    dialStore.add({ saeId: 'sae', feature: 1, label: 'rivers', value: 3 });
    dialStore.add({ saeId: 'sae', feature: 2, label: 'loud', value: 5 });
    const loud = dialStore.get()[1]?.key ?? '';
    const before = dialList(dialStore.get());
    dialStore.update(loud, { muted: true });
    const list = dialList(dialStore.get());
    // muting changes the list (so it is saved), and the muted dial's value is in it
    expect(JSON.stringify(list)).not.toBe(JSON.stringify(before));
    expect(list.map((d) => [d.feature, d.value, d.muted ?? false])).toEqual([
      [1, 0, false],
      [2, 5, true],
    ]);
    // the step that ran holds only the unmuted dial
    const step = dialStore.forApi();
    expect(step.map((d) => d.feature)).toEqual([1]);
    dialStore.clear();

    const out = reopenDials(list, step);
    dialStore.restore(out);
    expect(dialStore.get().map((d) => [d.feature, d.value, d.muted])).toEqual([
      [1, 3, false],
      [2, 5, true],
    ]);
    // still muted: what runs is the step again
    expect(dialStore.forApi()).toEqual(step);
    dialStore.update(dialStore.get()[1]?.key ?? '', { muted: false });
    expect(dialStore.forApi().map((d) => [d.feature, d.value])).toEqual([
      [1, 3],
      [2, 5],
    ]);
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
