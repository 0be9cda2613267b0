/** The session as the page shows it, and how a run's recorded step folds into it. Pure. */
import type { CallOutput, Step } from '../../../preload/contract';

export type SessionDetail = CallOutput<'sessions.get'>;

/**
 * The session after a run saved `step`: it is the current step, new (appended) or a drag's
 * step again (replaced). Only the current step keeps its output, as sessions.get sends it.
 */
export function withStep(d: SessionDetail, step: Step): SessionDetail {
  const known = d.steps.some((s) => s.id === step.id);
  const steps = d.steps.map((s) =>
    s.id === step.id ? step : s.id === d.session.headStepId ? { ...s, output: {} } : s,
  );
  if (!known) steps.push(step);
  return {
    session: {
      ...d.session,
      headStepId: step.id,
      steps: known ? d.session.steps : d.session.steps + 1,
      updatedAt: step.createdAt,
    },
    steps,
  };
}

/** The current step, if any. */
export function headOf(d: SessionDetail | null): Step | null {
  return d?.steps.find((s) => s.id === d.session.headStepId) ?? null;
}

/** Undo goes back to the current step's parent; the first step (a root) has none. */
export function canUndo(d: SessionDetail | null): boolean {
  const head = headOf(d);
  return head !== null && head.parentId !== null;
}

/** Redo goes forward to a child of the current step (the newest, as sessions.redo does). */
export function canRedo(d: SessionDetail | null): boolean {
  if (!d) return false;
  return d.steps.some((s) => s.parentId === d.session.headStepId);
}
