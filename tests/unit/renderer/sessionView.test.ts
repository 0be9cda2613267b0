/** The session view folds a run's recorded step in, without reading the session back. */
import { describe, expect, it } from 'vitest';
import type { Step } from '../../../preload/contract';
import {
  canRedo,
  canUndo,
  dialWords,
  inputWords,
  withName,
  withStep,
  type SessionDetail,
} from '../../../renderer/src/session/sessionView';
import { beginGesture, endGesture, gestureId } from '../../../renderer/src/steer/gesture';
import { dialStore } from '../../../renderer/src/steer/store';

const step = (id: number, parentId: number | null, value: number): Step => ({
  id,
  parentId,
  kind: 'image',
  createdAt: `2030-01-01T00:00:0${id}.000Z`,
  input: { source: { example: 0 } },
  dials: [{ saeId: 's', feature: 1, method: 'add', value }],
  output: { afterBlob: 'a'.repeat(64) },
  name: null,
  preview: { afterBlob: 'a'.repeat(64) },
});

const detail: SessionDetail = {
  session: {
    id: 'ses-1',
    name: 'x',
    packId: 'p',
    createdAt: '2030-01-01T00:00:00.000Z',
    updatedAt: '2030-01-01T00:00:00.000Z',
    headStepId: 1,
    steps: 1,
  },
  steps: [step(1, null, 1)],
};

describe('session view', () => {
  it('appends a new step and makes it current; only the current step keeps its output', () => {
    const d = withStep(detail, step(2, 1, 2));
    expect(d.steps.map((s) => s.id)).toEqual([1, 2]);
    expect(d.session.headStepId).toBe(2);
    expect(d.session.steps).toBe(2);
    expect(d.steps[0]?.output).toEqual({});
    expect(d.steps[1]?.output).toEqual({ afterBlob: 'a'.repeat(64) });
  });

  it("replaces a drag's step with its later tick", () => {
    const once = withStep(detail, step(2, 1, 2));
    const again = withStep(once, step(2, 1, 5));
    expect(again.steps).toHaveLength(2);
    expect(again.session.steps).toBe(2);
    expect(again.steps[1]?.dials[0]?.value).toBe(5);
  });
});

describe('undo, redo and the words of a step', () => {
  const at = (d: SessionDetail, head: number | null): SessionDetail => ({
    ...d,
    session: { ...d.session, headStepId: head },
  });
  // 1 → 2 → 3 and 1 → 4
  const tree: SessionDetail = {
    ...detail,
    steps: [step(1, null, 1), step(2, 1, 2), step(3, 2, 3), step(4, 1, 4)],
  };

  it('undo needs a parent: off at the first step and with no step; redo needs a child', () => {
    expect([canUndo(at(tree, 1)), canRedo(at(tree, 1))]).toEqual([false, true]);
    expect([canUndo(at(tree, 2)), canRedo(at(tree, 2))]).toEqual([true, true]);
    expect([canUndo(at(tree, 3)), canRedo(at(tree, 3))]).toEqual([true, false]);
    expect([canUndo(at(tree, 4)), canRedo(at(tree, 4))]).toEqual([true, false]);
    expect([canUndo(at(tree, null)), canRedo(at(tree, null))]).toEqual([false, true]);
    expect([canUndo(null), canRedo(null)]).toEqual([false, false]);
    expect(canRedo(at({ ...tree, steps: [] }, null))).toBe(false);
  });

  it('renames a step in place and says what a step did and ran on', () => {
    const named = withName(tree, { id: 2, name: 'redder' });
    expect(named.steps.map((s) => s.name)).toEqual([null, 'redder', null, null]);
    const s = {
      ...step(5, 4, 30),
      dials: [
        { saeId: 's', feature: 1, method: 'add' as const, value: 30, label: 'red' },
        { saeId: 's', feature: 2, method: 'scale' as const, value: 1.5 },
      ],
      input: { source: { example: 3 }, mask: [0, 1, 1, 0] },
    };
    expect(dialWords(s)).toBe('red 30.0, #2 scale ×1.50');
    expect(inputWords(s)).toBe('example 3 · painted 2 cells');
    expect(inputWords({ ...s, kind: 'text', input: { prompt: 'The Lord' } })).toBe('“The Lord”');
    expect(dialWords({ ...s, dials: [] })).toBe('no dials');
  });
});

describe('the dial list keeps names with saved dials', () => {
  it('sends each dial’s label with a run and takes it back from a step', () => {
    dialStore.clear();
    dialStore.add({ saeId: 's', feature: 1, label: 'verses of Psalms' });
    dialStore.update('s#1', { value: 2 });
    const saved = dialStore.forApi();
    expect(saved).toEqual([expect.objectContaining({ feature: 1, label: 'verses of Psalms' })]);
    dialStore.clear();
    dialStore.restore(saved);
    expect(dialStore.get()[0]?.label).toBe('verses of Psalms');
    // a dial saved before labels were kept gets a plain name
    dialStore.restore([{ saeId: 's', feature: 9, method: 'add', value: 1 }]);
    expect(dialStore.get()[0]?.label).toBe('feature 9');
    dialStore.clear();
  });
});

describe('dial gestures', () => {
  it('changes made during a drag carry its id; the state it left keeps it; the next change has none', () => {
    dialStore.clear();
    dialStore.add({ saeId: 's', feature: 1, label: 'f' });
    dialStore.update('s#1', { value: 1 });
    expect(gestureId()).toBeNull();
    beginGesture();
    dialStore.update('s#1', { value: 2 });
    const g = gestureId();
    expect(g).not.toBeNull();
    dialStore.update('s#1', { value: 3 });
    expect(gestureId()).toBe(g);
    endGesture();
    expect(gestureId()).toBe(g); // a run still to come for this state joins the step
    dialStore.update('s#1', { value: 4 });
    expect(gestureId()).toBeNull();
    beginGesture();
    dialStore.update('s#1', { value: 5 });
    expect(gestureId()).not.toBe(g);
    endGesture();
    dialStore.clear();
  });
});
