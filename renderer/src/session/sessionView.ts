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

/** The session with a step's new name (as sessions.renameStep answered it). */
export function withName(d: SessionDetail, step: Pick<Step, 'id' | 'name'>): SessionDetail {
  return {
    ...d,
    steps: d.steps.map((s) => (s.id === step.id ? { ...s, name: step.name } : s)),
  };
}

/** What a step did, in words: its dials (by name), or that it had none. */
export function dialWords(step: Step): string {
  if (step.dials.length === 0) return 'no dials';
  return step.dials
    .map((d) => {
      const v = d.method === 'scale' ? `×${d.value.toFixed(2)}` : d.value.toFixed(1);
      return `${d.label ?? `#${d.feature}`} ${d.method === 'add' ? '' : `${d.method} `}${v}`;
    })
    .join(', ');
}

/** What a step ran on, in words: the prompt, the specimen text, the example or file, the brush. */
export function inputWords(step: Step): string {
  const i = step.input as {
    prompt?: unknown;
    text?: unknown;
    source?: { example?: unknown; name?: unknown };
    mask?: unknown;
  };
  if (typeof i.prompt === 'string') return `“${i.prompt}”`;
  const src =
    typeof i.source?.name === 'string'
      ? i.source.name
      : typeof i.source?.example === 'number'
        ? `example ${i.source.example}`
        : 'image';
  const text = typeof i.text === 'string' ? ` “${i.text}”` : '';
  const cells = Array.isArray(i.mask) ? (i.mask as unknown[]).filter((v) => v !== 0).length : 0;
  return `${src}${text}${cells > 0 ? ` · painted ${cells} cell${cells === 1 ? '' : 's'}` : ''}`;
}
