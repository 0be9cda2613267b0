/**
 * User operations as named actions (STYLE item 7): each has a name, a label, an optional
 * shortcut test and perform(). Toolbar buttons, the keyboard and tests share one registry.
 *
 * Payloads are typed at compile time: `ActionPayloads` maps every action's name to what its
 * perform() takes (`NoPayload`: nothing). Each module that registers actions adds its names to
 * the map where it defines them (`declare module '…/actions/registry'`), so
 * `runAction('turn-dial', {...})` is checked by tsc against that action's own type, an
 * unknown name does not compile, and perform() needs no run-time guessing at its payload.
 */

/** The parts of a key event a shortcut reads (a DOM KeyboardEvent is one). */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  target: unknown;
}

/**
 * Action name → payload type, filled in by the modules that register the actions
 * (appActions, sessionActions, galaxy/keys, galaxy/starKeys, selection, the compare strip).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into by each module
export interface ActionPayloads {}

export type ActionName = keyof ActionPayloads;
/** The payload of an action that takes none (the keyboard's actions, a button's). */
export type NoPayload = undefined;
export type PayloadOf<N extends ActionName> = ActionPayloads[N];

/** runAction's arguments after the name: none for a `NoPayload` action, else its payload. */
export type PayloadArgs<N extends ActionName> = [PayloadOf<N>] extends [NoPayload]
  ? []
  : [payload: PayloadOf<N>];

interface ActionOf<N extends ActionName> {
  name: N;
  label: string;
  /** True when this key event should run the action (only for actions without a payload). */
  shortcut?: [PayloadOf<N>] extends [NoPayload] ? (e: KeyPress) => boolean : never;
  enabled?: () => boolean;
  /** Runs the operation with its payload (a feature, a value, a name), typed by its name. */
  perform: (payload: PayloadOf<N>) => void | Promise<void>;
}

/** One action of the registry: its `name` types its `perform`. */
export type Action = { [N in ActionName]: ActionOf<N> }[ActionName];

/** What the registry keeps: any action, its payload checked where it was registered and run. */
interface Stored {
  name: string;
  label: string;
  shortcut?: (e: KeyPress) => boolean;
  enabled?: () => boolean;
  perform: (payload?: unknown) => void | Promise<void>;
}

/**
 * Per name, every registration still in force, the one that runs last: two views may register
 * the same operations (two galaxies side by side), the last registered or raised one runs them,
 * and when it goes the other's are in force again.
 */
const actions = new Map<string, Stored[]>();

/** The action that runs for a name: the top of its stack. */
const current = (name: string): Stored | undefined => actions.get(name)?.at(-1);

/**
 * Registers actions, or raises them over others of the same names if they are registered
 * already (a view the person turned to); returns what unregisters them.
 */
export function registerActions(list: readonly Action[]): () => void {
  const stored = list as unknown as readonly Stored[];
  for (const a of stored) {
    const stack = (actions.get(a.name) ?? []).filter((x) => x !== a);
    stack.push(a);
    actions.set(a.name, stack);
  }
  return () => unregisterActions(list);
}

export function unregisterActions(list: readonly Action[]): void {
  for (const a of list as unknown as readonly Stored[]) {
    const stack = actions.get(a.name)?.filter((x) => x !== a) ?? [];
    if (stack.length > 0) actions.set(a.name, stack);
    else actions.delete(a.name);
  }
}

/** Runs a named action with its payload when it is registered and enabled. */
export function runAction<N extends ActionName>(
  name: N,
  ...args: PayloadArgs<N>
): Promise<boolean> {
  return runStored(name, args[0]);
}

async function runStored(name: string, payload: unknown): Promise<boolean> {
  const a = current(name);
  if (!a || (a.enabled && !a.enabled())) return false;
  await a.perform(payload);
  return true;
}

/**
 * The action whose shortcut this key event matches (the first registered), when it is enabled;
 * only actions without a payload have shortcuts, so it is run with none.
 */
export function shortcutFor(e: KeyPress): { perform: () => void | Promise<void> } | null {
  for (const name of actions.keys()) {
    const a = current(name);
    if (a?.shortcut?.(e) && (!a.enabled || a.enabled())) return { perform: () => a.perform() };
  }
  return null;
}

/** Every registered action's name (the test hook lists them). */
export const actionNames = (): string[] => [...actions.keys()];

/**
 * Runs an action named by a string from outside the type checker (the test hook: a test's
 * script vouches for its payload's shape).
 */
export const runUnchecked = (name: string, payload?: unknown): Promise<boolean> =>
  runStored(name, payload);

export const mod = (e: KeyPress): boolean => e.ctrlKey || e.metaKey;
