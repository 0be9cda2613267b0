/**
 * The typed action registry: payloads checked by tsc per action name (the @ts-expect-error
 * lines fail `npm run typecheck` if a wrong payload compiles), run as registered; and the
 * galaxy's actions (galaxy/keys.ts) on a real galaxy store, as its toolbar, the card and
 * the keyboard run them.
 */
import { describe, expect, it } from 'vitest';
import {
  actionNames,
  registerActions,
  runAction,
  runUnchecked,
  shortcutFor,
  type KeyPress,
  type NoPayload,
} from '../../../renderer/src/actions/registry';
import { galaxyActions, type Tool } from '../../../renderer/src/galaxy/keys';
import { makeMap } from '../../../renderer/src/galaxy/mapData';
import { createGalaxyStore } from '../../../renderer/src/galaxy/store';

declare module '../../../renderer/src/actions/registry' {
  interface ActionPayloads {
    'test-count': { by: number };
    'test-ping': NoPayload;
  }
}

const key = (k: string, more: Partial<KeyPress> = {}): KeyPress => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  target: null,
  ...more,
});

describe('action registry', () => {
  it('runs an action with its typed payload, refuses a disabled or unknown one, and unregisters', async () => {
    let total = 0;
    let pings = 0;
    let open = true;
    const off = registerActions([
      { name: 'test-count', label: 'Count', perform: ({ by }) => void (total += by) },
      {
        name: 'test-ping',
        label: 'Ping',
        shortcut: (e) => e.key === 'p',
        enabled: () => open,
        perform: () => void (pings += 1),
      },
    ]);
    expect(await runAction('test-count', { by: 3 })).toBe(true);
    expect(total).toBe(3);
    expect(await runAction('test-ping')).toBe(true);
    open = false;
    expect(await runAction('test-ping')).toBe(false);
    expect(shortcutFor(key('p'))).toBeNull();
    open = true;
    await shortcutFor(key('p'))?.perform();
    expect(pings).toBe(2);
    expect(actionNames()).toEqual(expect.arrayContaining(['test-count', 'test-ping']));
    // the test hook's way in: a name from a script, not known to tsc
    expect(await runUnchecked('no-such-action')).toBe(false);
    off();
    expect(await runAction('test-count', { by: 1 })).toBe(false);
    expect(total).toBe(3);

    // compile-time checks (not run): each line must fail to compile
    const typeChecks = (): void => {
      // @ts-expect-error a payload of the wrong shape
      void runAction('test-count', { by: 'two' });
      // @ts-expect-error a payload is required
      void runAction('test-count');
      // @ts-expect-error an action without a payload takes none
      void runAction('test-ping', { by: 1 });
      // @ts-expect-error an unknown name
      void runAction('test-cuont', { by: 1 });
      registerActions([
        // @ts-expect-error an action with a payload cannot have a shortcut (the keyboard has none to give)
        { name: 'test-count', label: 'x', shortcut: () => true, perform: () => undefined },
      ]);
    };
    expect(typeof typeChecks).toBe('function');
  });

  it('runs the last registered or raised of two views’ same actions; the other’s return when it goes', async () => {
    const hits: string[] = [];
    const view = (name: string) =>
      [
        { name: 'test-count', label: 'Count', perform: () => void hits.push(name) },
        {
          name: 'test-ping',
          label: 'Ping',
          shortcut: (e: KeyPress) => e.key === 'p',
          perform: () => void hits.push(`${name} key`),
        },
      ] as const;
    const left = view('left');
    const right = view('right');
    const offLeft = registerActions(left);
    const offRight = registerActions(right);
    await runAction('test-count', { by: 1 });
    await shortcutFor(key('p'))?.perform();
    registerActions(left); // the person turned to the left view
    await runAction('test-count', { by: 1 });
    await shortcutFor(key('p'))?.perform();
    offLeft();
    await runAction('test-count', { by: 1 });
    offRight();
    expect(await runAction('test-count', { by: 1 })).toBe(false);
    expect(hits).toEqual(['right', 'right key', 'left', 'left key', 'right']);
    expect(actionNames()).not.toContain('test-ping');
  });
});

describe('galaxy actions', () => {
  /** Five stars of features 10–14; 10 and 11 form cluster 0. */
  const galaxy = () => {
    const store = createGalaxyStore();
    store.load(
      'p',
      'sae',
      makeMap(
        new Float32Array([0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, -4, 0, 0]),
        new Float32Array([0.5, 0.01, 0.2, 0.001, 0.9]),
        new Int32Array([0, 0, 1, 1, -1]),
        [
          { id: 0, label: 'a', size: 2, x: 0.5, y: 0, z: 0 },
          { id: 1, label: 'b', size: 2, x: 0, y: 1, z: 1.5 },
        ],
        new Uint32Array([10, 11, 12, 13, 14]),
      ),
    );
    let tool: Tool = 'orbit';
    const setTool = (t: Tool | ((old: Tool) => Tool)): void => {
      tool = typeof t === 'function' ? t(tool) : t;
    };
    const off = registerActions(galaxyActions(store, setTool));
    return { store, tool: () => tool, off };
  };

  it('picks stars (open, add, take away), lassoes, clears, filters and flies to a cluster', async () => {
    const g = galaxy();
    try {
      await runAction('pick-star', { point: 2, mode: 'replace' });
      expect(g.store.focused).toBe(12);
      expect(g.store.selectedFeatures()).toEqual([12]);
      await runAction('pick-star', { point: 4, mode: 'add' });
      expect(g.store.selectedFeatures()).toEqual([12, 14]);
      await runAction('pick-star', { point: 2, mode: 'subtract' });
      expect(g.store.selectedFeatures()).toEqual([14]);
      await runAction('select-stars', { points: new Uint32Array([0, 1, 3]), mode: 'add' });
      expect(g.store.selectedFeatures()).toEqual([10, 11, 13, 14]);
      await runAction('clear-selection');
      expect(g.store.selectionCount).toBe(0);
      await runAction('set-galaxy-filter', { cluster: 1 });
      await runAction('set-galaxy-filter', { minDensity: 0.1 });
      expect(g.store.filter).toMatchObject({ cluster: 1, minDensity: 0.1, maxDensity: 1 });
      const before = g.store.fly?.seq ?? 0;
      await runAction('fly-to-cluster', { cluster: 0 });
      expect(g.store.fly?.seq).toBeGreaterThan(before);
      expect(g.store.fly?.target[0]).toBeCloseTo(0.5, 5);
      await runAction('reset-view');
      expect(g.store.fly?.reset).toBe(true);
    } finally {
      g.off();
    }
  });

  it('switches the tool from the toolbar and with L, and the keys are bare keys', async () => {
    const g = galaxy();
    try {
      await runAction('set-galaxy-tool', { tool: 'lasso' });
      expect(g.tool()).toBe('lasso');
      await shortcutFor(key('l'))?.perform();
      expect(g.tool()).toBe('orbit');
      // Ctrl+L is not the lasso's
      expect(shortcutFor(key('l', { ctrlKey: true }))).toBeNull();
    } finally {
      g.off();
    }
  });
});
