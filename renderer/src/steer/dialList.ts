/**
 * The session's list of dials (sessions.setDials): every dial the page shows, in its order,
 * each at rest, with its name; and the dials a reopened session starts with. A step keeps
 * only the dials that ran (turned and not muted), so a dial added and never moved would be
 * lost on reload; the list brings it back, at rest, without changing what runs.
 */
import type { DialInput } from '../../../preload/contract';
import { dialKey, LABEL_MAX, restValue, type DialState } from './store';

const keyOfInput = (d: DialInput): string => dialKey(d.saeId, d.feature, d.members ?? null);

/** The dials as the session keeps their list: each at rest (the steps hold the values). */
export function dialList(dials: readonly DialState[]): DialInput[] {
  return dials.map((d) => ({
    saeId: d.saeId,
    feature: d.feature,
    method: d.method,
    value: restValue(d.method),
    maxActivation: d.maxActivation,
    label: d.label.slice(0, LABEL_MAX),
    ...(d.members ? { members: d.members } : {}),
  }));
}

/**
 * The dials of a reopened session: the saved list in its order, each dial of the current
 * step as the step has it and the others at rest, then any of the step's dials the list
 * lacks (a list saved before them). What runs is exactly the step's dials, so the first run
 * is the current step again, not a new one.
 */
export function reopenDials(
  saved: readonly DialInput[] | null | undefined,
  step: readonly DialInput[],
): DialInput[] {
  if (!saved) return [...step];
  const ran = new Map(step.map((d) => [keyOfInput(d), d]));
  const out: DialInput[] = [];
  const seen = new Set<string>();
  for (const s of saved) {
    const key = keyOfInput(s);
    if (seen.has(key)) continue;
    seen.add(key);
    const d = ran.get(key);
    out.push(d ? { ...d, label: d.label ?? s.label } : { ...s, value: restValue(s.method) });
  }
  for (const d of step) if (!seen.has(keyOfInput(d))) out.push(d);
  return out;
}

/** Whether two lists are the same dials in the same order (what setDials would save). */
export const sameList = (a: readonly DialInput[], b: readonly DialInput[]): boolean =>
  JSON.stringify(a) === JSON.stringify(b);
