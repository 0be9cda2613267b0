/** The session state outside React: moves put their step back in place, runs fold in, notices. */
import { describe, expect, it } from 'vitest';
import type { Step } from '../../../preload/contract';
import { SessionState } from '../../../renderer/src/session/sessionState';
import type { SessionDetail } from '../../../renderer/src/session/sessionView';

const step = (id: number, parentId: number | null): Step => ({
  id,
  parentId,
  kind: 'text',
  createdAt: '2030-01-01T00:00:00.000Z',
  input: { prompt: 'x' },
  dials: [],
  output: { after: { text: 'y' } },
  name: null,
  preview: { text: 'y' },
});

const detail = (head: number, steps: Step[]): SessionDetail => ({
  session: {
    id: 'ses-1',
    name: 's',
    packId: 'p',
    createdAt: '2030-01-01T00:00:00.000Z',
    updatedAt: '2030-01-01T00:00:00.000Z',
    headStepId: head,
    steps: steps.length,
  },
  steps,
});

describe('session state', () => {
  it('a move is applied (its step put back) and shown; a run folds in without applying', () => {
    const s = new SessionState();
    const applied: (number | null)[] = [];
    let shown = 0;
    const offApply = s.onApply((d) => applied.push(d.session.headStepId));
    const offShow = s.subscribe(() => shown++);
    s.apply(detail(1, [step(1, null)]));
    expect(applied).toEqual([1]);
    s.addStep(step(2, 1));
    expect(applied).toEqual([1]); // a run's own step is already in place
    expect(s.get()?.session.headStepId).toBe(2);
    expect(s.get()?.steps.map((x) => x.id)).toEqual([1, 2]);
    s.addStep(null);
    expect(shown).toBe(2);
    offApply();
    s.apply(detail(1, [step(1, null), step(2, 1)]));
    expect(applied).toEqual([1]);
    offShow();
  });

  it('keeps the last notice until it is dismissed', () => {
    const s = new SessionState();
    s.say('Imported “x”: 3 steps', 'done');
    expect(s.getNotice()).toEqual({ text: 'Imported “x”: 3 steps', tone: 'done' });
    s.say('nothing to undo', 'error');
    expect(s.getNotice()?.tone).toBe('error');
    s.dismiss();
    expect(s.getNotice()).toBeNull();
  });
});
