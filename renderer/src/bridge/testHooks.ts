/**
 * Read-only hooks for end-to-end tests (a person never needs them): what the bridge view holds —
 * the bridge and its method, the hovered star's matches, the links drawn and the card's pair — so a test can
 * check them against bridge.matches and bridge.best itself.
 */
import type { BridgeView, HoverLink, Pair } from './bridgeView';
import type { BridgeFilter, Link } from './links';

export interface BridgeTestHooks {
  open(): boolean;
  /** The built bridge shown and the main galaxy's side of it, or null. */
  bridge(): {
    a: { packId: string; saeId: string };
    b: { packId: string; saeId: string };
    mainSide: 'a' | 'b';
  } | null;
  /** The method of the bridge shown, or null. */
  method(): string | null;
  hover(): HoverLink | null;
  links(): Link[];
  pair(): Pair | null;
  filter(): BridgeFilter;
}

declare global {
  interface Window {
    __orreryBridge?: BridgeTestHooks;
  }
}

export function installBridgeHooks(view: BridgeView): () => void {
  const hooks: BridgeTestHooks = Object.freeze({
    open: () => view.open,
    bridge: () => (view.ref ? { ...view.ref, mainSide: view.mainSide } : null),
    method: () => view.method,
    hover: () => view.hover,
    links: () => view.links,
    pair: () => view.pair,
    filter: () => view.filter,
  });
  window.__orreryBridge = hooks;
  return () => {
    if (window.__orreryBridge === hooks) delete window.__orreryBridge;
  };
}
