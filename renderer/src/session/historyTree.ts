/**
 * The session's steps as a tree to read top to bottom, oldest first. Each step's line goes on
 * at the same depth through one child (the one on the way to the current step, else the
 * newest, where redo goes); its other children start branches, drawn one level deeper just
 * below it with their whole subtree. So after an undo and a new run the old line stays in
 * view as a branch. Steps are numbered 1, 2, 3… in the order the session made them. Pure.
 */
export interface TreeStep {
  id: number;
  parentId: number | null;
}

export interface TreeRow<S extends TreeStep> {
  step: S;
  /** 1-based, in the order the session made its steps. */
  number: number;
  /** 0 for the main line; one more for each branch it lies in. */
  depth: number;
  /** This step starts a branch (its parent's line goes on through another child). */
  branch: boolean;
  /** The current step or one of its ancestors. */
  onPath: boolean;
  current: boolean;
}

export function historyRows<S extends TreeStep>(
  steps: readonly S[],
  headId: number | null,
): TreeRow<S>[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const ordered = [...steps].sort((a, b) => a.id - b.id);
  const number = new Map(ordered.map((s, i) => [s.id, i + 1]));
  const children = new Map<number | null, S[]>();
  for (const s of ordered) {
    // a step whose parent is not in the list is shown as a root
    const parent = s.parentId !== null && byId.has(s.parentId) ? s.parentId : null;
    const list = children.get(parent) ?? [];
    list.push(s);
    children.set(parent, list);
  }
  const onPath = new Set<number>();
  for (let s = headId === null ? undefined : byId.get(headId); s;) {
    if (onPath.has(s.id)) break;
    onPath.add(s.id);
    s = s.parentId === null ? undefined : byId.get(s.parentId);
  }

  const rows: TreeRow<S>[] = [];
  // Explicit stack instead of recursion: a session may hold thousands of steps in one line.
  const stack: { step: S; depth: number; branch: boolean }[] = [];
  const pushLine = (kids: readonly S[], depth: number, rootsAreBranches: boolean): void => {
    if (kids.length === 0) return;
    const main = kids.find((k) => onPath.has(k.id)) ?? kids[kids.length - 1];
    if (!main) return;
    // pushed in reverse of display order: the main line after the branches, oldest branch first
    stack.push({ step: main, depth, branch: rootsAreBranches });
    const others = kids.filter((k) => k !== main);
    for (let i = others.length - 1; i >= 0; i--) {
      const k = others[i];
      if (k) stack.push({ step: k, depth: depth + 1, branch: true });
    }
  };
  pushLine(children.get(null) ?? [], 0, false);
  while (stack.length > 0) {
    const top = stack.pop();
    if (!top) break;
    const { step, depth, branch } = top;
    rows.push({
      step,
      number: number.get(step.id) ?? 0,
      depth,
      branch,
      onPath: onPath.has(step.id),
      current: step.id === headId,
    });
    pushLine(children.get(step.id) ?? [], depth, false);
  }
  return rows;
}
