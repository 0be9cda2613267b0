/**
 * The galaxy's operations as named actions (the one registry runs them, from the keyboard,
 * the toolbar, the card or by name): F fly to the selection (or the open card's star), R
 * reset the view, Escape clear the selection, L switch the lasso on and off; the toolbar's
 * Orbit and Lasso, a click on a star (Shift adds it, Alt takes it away), a lasso's stars, the
 * Filters, fly to a cluster (a cluster label, the card's cluster badge), and clear the input's
 * lit stars.
 */
import type { Action, KeyPress, NoPayload } from '../actions/registry';
import type { SelectMode } from './project';
import type { Filter, GalaxyStore } from './store';

/** What a drag on the galaxy does: orbit the camera or draw a lasso. */
export type Tool = 'orbit' | 'lasso';

declare module '../actions/registry' {
  interface ActionPayloads {
    'fly-to-selection': NoPayload;
    'reset-view': NoPayload;
    'clear-selection': NoPayload;
    'toggle-lasso': NoPayload;
    'set-galaxy-tool': { tool: Tool };
    /** A star clicked: `replace` opens its card and selects it; add and subtract edit the selection. */
    'pick-star': { point: number; mode: SelectMode };
    /** A lasso's stars (points, not features) replace, join or leave the selection. */
    'select-stars': { points: ArrayLike<number>; mode: SelectMode };
    /** The Filters' density range, cluster and label source (what is not given stays). */
    'set-galaxy-filter': Partial<Filter>;
    'fly-to-cluster': { cluster: number };
    'clear-active': NoPayload;
  }
}

/** A bare key (Shift allowed for letters): no Ctrl, Cmd or Alt. */
const bare = (e: KeyPress, key: string): boolean =>
  !e.ctrlKey && !e.metaKey && !e.altKey && e.key.toLowerCase() === key;

/** `setTool`: React's state setter of the galaxy's tool (a value or a function of the old). */
export function galaxyActions(
  store: GalaxyStore,
  setTool: (t: Tool | ((old: Tool) => Tool)) => void,
): Action[] {
  return [
    {
      name: 'fly-to-selection',
      label: 'Fly to the selection',
      shortcut: (e) => bare(e, 'f'),
      perform: () => {
        if (store.selectionCount > 0) store.flyToSelection();
        else if (store.focused !== null) store.flyToFeature(store.focused);
      },
    },
    {
      name: 'reset-view',
      label: 'Reset the view',
      shortcut: (e) => bare(e, 'r'),
      perform: () => store.reset(),
    },
    {
      name: 'clear-selection',
      label: 'Clear the selection',
      // Shift+Escape clears the dials
      shortcut: (e) => bare(e, 'escape') && !e.shiftKey,
      perform: () => store.clearSelection(),
    },
    {
      name: 'toggle-lasso',
      label: 'Lasso on or off',
      shortcut: (e) => bare(e, 'l'),
      perform: () => setTool((t) => (t === 'lasso' ? 'orbit' : 'lasso')),
    },
    {
      name: 'set-galaxy-tool',
      label: 'Orbit or lasso',
      perform: ({ tool }) => setTool(tool),
    },
    {
      name: 'pick-star',
      label: 'Pick a star',
      perform: ({ point, mode }) => {
        if (mode === 'replace') store.focus(store.featureOf(point), { select: true });
        else store.select([point], mode);
      },
    },
    {
      name: 'select-stars',
      label: 'Select stars',
      perform: ({ points, mode }) => store.selectLassoed(points, mode),
    },
    {
      name: 'set-galaxy-filter',
      label: 'Filter the galaxy',
      perform: (patch) => store.setFilter(patch),
    },
    {
      name: 'fly-to-cluster',
      label: 'Fly to a cluster',
      perform: ({ cluster }) => store.flyToCluster(cluster),
    },
    {
      name: 'clear-active',
      label: 'Clear the lit stars of the input',
      perform: () => store.setActive([]),
    },
  ];
}
