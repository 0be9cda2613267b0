/** The history as a tree: the line to the current step stays flat, other lines are branches. */
import { describe, expect, it } from 'vitest';
import { historyRows, type TreeStep } from '../../../renderer/src/session/historyTree';

const s = (id: number, parentId: number | null): TreeStep => ({ id, parentId });
const view = (steps: TreeStep[], head: number | null): string[] =>
  historyRows(steps, head).map(
    (r) =>
      `${'  '.repeat(r.depth)}${r.number}${r.branch ? ' branch' : ''}${r.current ? ' *' : ''}${
        r.onPath && !r.current ? ' path' : ''
      }`,
  );

describe('history tree', () => {
  it('shows a straight line flat, numbered from 1 whatever the step ids', () => {
    expect(view([s(41, null), s(42, 41), s(57, 42)], 57)).toEqual(['1 path', '2 path', '3 *']);
  });

  it('keeps the undone line as a branch after an undo and a new run', () => {
    // 1 → 2 → 3, undo to 2, a new run makes 4 under 2
    expect(view([s(1, null), s(2, 1), s(3, 2), s(4, 2)], 4)).toEqual([
      '1 path',
      '2 path',
      '  3 branch',
      '4 *',
    ]);
  });

  it('goes back to the old line when it is checked out again, and nests branches', () => {
    const steps = [s(1, null), s(2, 1), s(3, 2), s(4, 2), s(5, 3), s(6, 3)];
    expect(view(steps, 5)).toEqual([
      '1 path',
      '2 path',
      '  4 branch',
      '3 path',
      '  6 branch',
      '5 *',
    ]);
    // no current step: each line goes on through its newest child (where redo goes)
    expect(view(steps, null)).toEqual(['1', '2', '  3 branch', '    5 branch', '  6', '4']);
  });

  it('shows a second root and a step whose parent is missing as branches of the first', () => {
    expect(view([s(1, null), s(2, null), s(3, 99)], 1)).toEqual([
      '  2 branch',
      '  3 branch',
      '1 *',
    ]);
  });

  it('lays out a long line without recursion', () => {
    const steps = Array.from({ length: 20_000 }, (_, i) => s(i + 1, i === 0 ? null : i));
    const rows = historyRows(steps, 20_000);
    expect(rows).toHaveLength(20_000);
    expect(rows.every((r) => r.depth === 0)).toBe(true);
    expect(rows.at(-1)?.current).toBe(true);
  });
});
