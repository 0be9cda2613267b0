/**
 * The app's operations on features and dials as named actions, shared by the buttons, the
 * keyboard and the tests: select, add a dial, turn it (value, method, mute), remove it, clear
 * the dials, save and apply a preset. The dial store (steer/store.ts) holds the one dial list;
 * every change a person makes to it comes through here. (The session's moves are
 * session/sessionActions.ts; the galaxy's keys galaxy/keys.ts.)
 */
import type { CompositeMember, DialInput } from '../../../preload/contract';
import { getClient } from '../api/client';
import { galaxyStore } from '../galaxy/store';
import { dialStore, type DialState } from '../steer/store';
import { type NoPayload, registerActions } from './registry';

export interface DialRef {
  saeId: string;
  feature: number;
  /** A composite dial's key (steer/store.ts dialKey); a plain dial is named by the two above. */
  key?: string;
}

/** A new dial: the feature (or a composite's heaviest member) and how it starts. */
export interface NewDial extends DialRef {
  label?: string;
  maxActivation?: number | null;
  /** A composite dial's members (one dial from a selection). */
  members?: CompositeMember[] | null;
  value?: number;
}

/** A turn of a dial: any of its value, method, mute and (a composite's) member weights. */
export type DialTurn = DialRef & Partial<Pick<DialState, 'value' | 'method' | 'muted' | 'members'>>;

declare module './registry' {
  interface ActionPayloads {
    /** Open a feature's card and select its star; `fly` (default true) flies there. */
    'select-feature': { feature: number; fly?: boolean };
    'add-dial': NewDial;
    'turn-dial': DialTurn;
    'remove-dial': DialRef;
    'reset-dials': NoPayload;
    'apply-preset': { dials: readonly DialInput[] };
    'save-preset': { name: string };
  }
}

const keyOf = (r: DialRef): string => r.key ?? `${r.saeId}#${r.feature}`;

export function registerAppActions(context: () => { packId: string | null }): () => void {
  return registerActions([
    {
      name: 'select-feature',
      label: 'Select a feature',
      perform: ({ feature, fly = true }) => galaxyStore.focus(feature, { fly, select: true }),
    },
    {
      name: 'add-dial',
      label: 'Add a dial',
      perform: (d) =>
        dialStore.add({
          saeId: d.saeId,
          feature: d.feature,
          label: d.label ?? `feature ${d.feature}`,
          maxActivation: d.maxActivation ?? null,
          members: d.members && d.members.length > 0 ? d.members : null,
          value: d.value !== undefined && Number.isFinite(d.value) ? d.value : 0,
        }),
    },
    {
      name: 'turn-dial',
      label: 'Turn a dial',
      perform: (t) => {
        const patch: Partial<DialState> = {};
        // a composite dial's member weights (its key stays: the members are the same features)
        if (t.members && t.members.length > 0) patch.members = t.members;
        // a value from a slider or a typed number: a NaN or infinity is not a turn
        if (t.value !== undefined && Number.isFinite(t.value)) patch.value = t.value;
        if (t.method) patch.method = t.method;
        if (t.muted !== undefined) patch.muted = t.muted;
        dialStore.update(keyOf(t), patch);
      },
    },
    {
      name: 'remove-dial',
      label: 'Remove a dial',
      perform: (r) => dialStore.remove(keyOf(r)),
    },
    {
      name: 'reset-dials',
      label: 'Clear the dials',
      shortcut: (e) => e.key === 'Escape' && e.shiftKey,
      perform: () => dialStore.clear(),
    },
    {
      name: 'apply-preset',
      label: 'Apply a preset',
      perform: ({ dials }) => dialStore.restore(dials),
    },
    {
      name: 'save-preset',
      label: 'Save the dials as a preset',
      perform: async ({ name }) => {
        const { packId } = context();
        if (!name.trim() || !packId) return;
        await getClient().call('presets.save', {
          packId,
          name: name.trim(),
          dials: dialStore.forApi(),
        });
      },
    },
  ]);
}
