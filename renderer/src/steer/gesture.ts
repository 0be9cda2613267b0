/**
 * Gestures: a dial drag, a run of wheel turns on one knob, or a paint stroke is one session
 * step however many runs it makes. While a gesture is active, every change to what runs (the
 * dials or the input) is stamped with its id; the runs of the state it left carry that id, and
 * the session keeps runs of one gesture as one step. The state a gesture left keeps its id
 * after the gesture ends (a run still to come for it joins the step); the next change has none.
 */
let count = 0;
let active: string | null = null;
let stamped: string | null = null;

/** A drag, a run of wheel turns or a stroke starts: every change until it ends is one step. */
export function beginGesture(): void {
  count += 1;
  active = `g-${Date.now().toString(36)}-${count}`;
}

const onEnd = new Set<() => void>();

/** The gesture ends (release). */
export function endGesture(): void {
  active = null;
  for (const fn of [...onEnd]) fn();
}

/**
 * Runs `fn` once no gesture is active: now, or when the active one ends (a drag's history
 * thumbnail is fetched for the state it ends with, not for every tick). Returns a cancel.
 */
export function afterGesture(fn: () => void): () => void {
  if (active === null) {
    fn();
    return () => undefined;
  }
  const once = (): void => {
    onEnd.delete(once);
    fn();
  };
  onEnd.add(once);
  return () => onEnd.delete(once);
}

export function gestureActive(): boolean {
  return active !== null;
}

/** A change to the dials or the input happened: it belongs to the active gesture, if any. */
export function stampChange(): void {
  stamped = active;
}

/** The gesture id of the current state (null: a change of its own). */
export function gestureId(): string | null {
  return stamped;
}
