/** The session view folds a run's recorded step in, without reading the session back. */
import { describe, expect, it } from 'vitest';
import type { Step } from '../../../preload/contract';
import { withStep, type SessionDetail } from '../../../renderer/src/session/sessionView';
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
