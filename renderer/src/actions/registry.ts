/**
 * User operations as named actions (STYLE item 7): each has a name, a label, an optional
 * shortcut test and perform(). Toolbar buttons, the keyboard and tests share one registry.
 */
import { isTyping } from '../dom/isTyping';

export interface Action {
  name: string;
  label: string;
  /** True when this key event should run the action. */
  shortcut?: (e: KeyboardEvent) => boolean;
  enabled?: () => boolean;
  /** Runs the operation; some actions take a payload (a feature, a value, a name). */
  perform: (payload?: unknown) => void | Promise<void>;
}

const actions = new Map<string, Action>();

export function registerActions(list: readonly Action[]): () => void {
  for (const a of list) actions.set(a.name, a);
  return () => {
    for (const a of list) if (actions.get(a.name) === a) actions.delete(a.name);
  };
}

export function getAction(name: string): Action | undefined {
  return actions.get(name);
}

export async function runAction(name: string, payload?: unknown): Promise<boolean> {
  const a = actions.get(name);
  if (!a || (a.enabled && !a.enabled())) return false;
  await a.perform(payload);
  return true;
}

/** The one keyboard listener: runs the first action whose shortcut matches. */
export function handleShortcut(e: KeyboardEvent): void {
  if (isTyping(e.target)) return;
  for (const a of actions.values()) {
    if (a.shortcut?.(e) && (!a.enabled || a.enabled())) {
      e.preventDefault();
      void a.perform();
      return;
    }
  }
}

export const mod = (e: KeyboardEvent): boolean => e.ctrlKey || e.metaKey;

declare global {
  interface Window {
    /** Test hook: run a named action as the toolbar and keyboard do. */
    __orreryActions?: {
      run: (name: string, payload?: unknown) => Promise<boolean>;
      names: () => string[];
    };
  }
}

if (typeof window !== 'undefined')
  window.__orreryActions = { run: runAction, names: () => [...actions.keys()] };
