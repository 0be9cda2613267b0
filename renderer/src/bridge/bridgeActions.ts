/**
 * The bridge view's operations as registered actions (the one registry runs them from the
 * toolbar, the header, the card and the keyboard): B opens or closes the view, choose the other
 * SAE, choose which of the pair's bridges (its method), set the filter, close the card.
 */
import type { Action, KeyPress, NoPayload } from '../actions/registry';
import type { BridgeFilter } from './links';
import type { BridgeView, SaeRef } from './bridgeView';
import type { BridgeMethodName } from './scoreName';

declare module '../actions/registry' {
  interface ActionPayloads {
    'toggle-bridge': NoPayload;
    'close-bridge': NoPayload;
    /** The other SAE of the bridge (null: none chosen). */
    'choose-bridge-sae': { other: SaeRef | null };
    /** Which of the pair's bridges to show, by its method (null: the default rule). */
    'set-bridge-method': { method: BridgeMethodName | null };
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
      name: 'set-bridge-method',
      label: 'Match the bridge by another method',
      perform: ({ method }) => view.setMethod(method),
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
