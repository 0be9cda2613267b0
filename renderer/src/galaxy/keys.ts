/** Galaxy shortcuts: F fly to the selection, R reset, Escape clear, L lasso. */
import type { GalaxyStore } from './store';

import { isTyping } from '../dom/isTyping';

export { isTyping };

export function galaxyKey(store: GalaxyStore, e: KeyboardEvent, toggleLasso: () => void): boolean {
  if (e.ctrlKey || e.metaKey || isTyping(e.target)) return false;
  switch (e.key) {
    case 'f':
    case 'F':
      if (store.selectionCount > 0) store.flyToSelection();
      else if (store.focused !== null) store.flyToFeature(store.focused);
      return true;
    case 'r':
    case 'R':
      store.reset();
      return true;
    case 'Escape':
      store.clearSelection();
      return true;
    case 'l':
    case 'L':
      toggleLasso();
      return true;
    default:
      return false;
  }
}
