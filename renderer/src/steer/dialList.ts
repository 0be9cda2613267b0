/**
 * The session's list of dials (sessions.setDials): every dial the page shows, in its order,
 * with its name, each at rest unless muted (a muted dial keeps the value it comes back to);
 * and the dials a reopened session starts with. A step keeps only the dials that ran (turned
 * and not muted), so a dial added and never moved, or muted, would be lost on reload; the
 * list brings it back without changing what runs.
 */
import type { DialInput, ListedDial } from '../../../preload/contract';
import { dialKey, LABEL_MAX, restValue, type DialState } from './store';

const keyOfInput = (d: DialInput): string => dialKey(d.saeId, d.feature, d.members ?? null);

/** The dials as the session keeps their list: each at rest (the steps hold the values),
 * except a muted dial, which keeps its value (no step holds it). */
export function dialList(dials: readonly DialState[]): ListedDial[] {
  return dials.map((d) => ({
    saeId: d.saeId,
    feature: d.feature,
    method: d.method,
    value: d.muted ? d.value : restValue(d.method),
    maxActivation: d.maxActivation,
    label: d.label.slice(0, LABEL_MAX),
    ...(d.members ? { members: d.members } : {}),
    ...(d.muted ? { muted: true } : {}),
  }));
}

/**
 * The dials of a reopened session: the saved list in its order, each dial of the current
 * step as the step has it and the others at rest, then any of the step's dials the list
 * lacks (a list saved before them). What runs is exactly the step's dials, so the first run
 * is the current step again, not a new one.
 */
export function reopenDials(
  saved: readonly ListedDial[] | null | undefined,
  step: readonly DialInput[],
): ListedDial[] {
  if (!saved) return [...step];
  const ran = new Map(step.map((d) => [keyOfInput(d), d]));
  const out: ListedDial[] = [];
  const seen = new Set<string>();
  for (const s of saved) {
    const key = keyOfInput(s);
    if (seen.has(key)) continue;
    seen.add(key);
    const d = ran.get(key);
    if (d) out.push({ ...d, label: d.label ?? s.label });
    else out.push(s.muted ? { ...s } : { ...s, value: restValue(s.method) });
  }
  for (const d of step) if (!seen.has(keyOfInput(d))) out.push(d);
  return out;
}
