/**
 * The galaxy's keyboard operations as named actions (the one registry runs them, from the
 * keyboard or by name): F fly to the selection (or the open card's star), R reset the view,
 * Escape clear the selection, L switch the lasso on and off.
 */
import type { Action } from '../actions/registry';
import type { GalaxyStore } from './store';

/** A bare key (Shift allowed for letters): no Ctrl, Cmd or Alt. */
const bare = (e: KeyboardEvent, key: string): boolean =>
  !e.ctrlKey && !e.metaKey && !e.altKey && e.key.toLowerCase() === key;

export function galaxyActions(store: GalaxyStore, toggleLasso: () => void): Action[] {
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
      perform: toggleLasso,
    },
  ];
}
