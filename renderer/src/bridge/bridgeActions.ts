/**
 * The bridge view's operations as registered actions (the one registry runs them from the
 * toolbar, the header, the card and the keyboard): B opens or closes the view, choose the other
 * SAE, set the filter, close the card.
 */
import type { Action, KeyPress, NoPayload } from '../actions/registry';
import type { BridgeFilter } from './links';
import type { BridgeView, SaeRef } from './bridgeView';

declare module '../actions/registry' {
  interface ActionPayloads {
    'toggle-bridge': NoPayload;
    'close-bridge': NoPayload;
    /** The other SAE of the bridge (null: none chosen). */
    'choose-bridge-sae': { other: SaeRef | null };
    /** What is not given stays. */
    'set-bridge-filter': Partial<BridgeFilter>;
    'close-bridge-card': NoPayload;
  }
}

const bareB = (e: KeyPress): boolean =>
  !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'b';

/** `canOpen`: whether there is a galaxy to bridge from (a map is shown). */
export function bridgeActions(view: BridgeView, canOpen: () => boolean): Action[] {
  return [
    {
      name: 'toggle-bridge',
      label: 'Bridge to another SAE, side by side (B)',
      shortcut: bareB,
      enabled: () => view.open || canOpen(),
      perform: () => view.setOpen(!view.open),
    },
    {
      name: 'close-bridge',
      label: 'Close the bridge view',
      perform: () => view.setOpen(false),
    },
    {
      name: 'choose-bridge-sae',
      label: 'Choose the SAE on the other side',
      perform: ({ other }) => view.choose(other),
    },
    {
      name: 'set-bridge-filter',
      label: 'Filter the bridge',
      perform: (patch) => view.setFilter(patch),
    },
    {
      name: 'close-bridge-card',
      label: 'Close the bridge card',
      perform: () => view.unpin(),
    },
  ];
}
