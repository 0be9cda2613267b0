/**
 * The registry in the page: the one keyboard listener (runs the first enabled action whose
 * shortcut matches, unless the key is typed into a text field) and the test hook that runs an
 * action by name. The registry itself (registry.ts) has no DOM, so node-side tests import it.
 */
import { isTyping } from '../dom/isTyping';
import { actionNames, runUnchecked, shortcutFor } from './registry';

/** The one keyboard listener: runs the first action whose shortcut matches. */
export function handleShortcut(e: KeyboardEvent): void {
  if (isTyping(e.target)) return;
  const a = shortcutFor(e);
  if (!a) return;
  e.preventDefault();
  void a.perform();
}

declare global {
  interface Window {
    /**
     * Test hook: run a named action as the toolbar and keyboard do. The payload comes from a
     * test's script, outside the type checker: the test is what vouches for its shape.
     */
    __orreryActions?: {
      run: (name: string, payload?: unknown) => Promise<boolean>;
      names: () => string[];
    };
  }
}

window.__orreryActions = { run: runUnchecked, names: actionNames };
