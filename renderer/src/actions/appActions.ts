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
import { registerActions } from './registry';

export interface DialRef {
  saeId: string;
  feature: number;
  /** A composite dial's key (steer/store.ts dialKey); a plain dial is named by the two above. */
  key?: string;
}

const keyOf = (r: DialRef): string => r.key ?? `${r.saeId}#${r.feature}`;

const isRef = (p: unknown): p is DialRef =>
  typeof p === 'object' &&
  p !== null &&
  typeof (p as DialRef).saeId === 'string' &&
  Number.isInteger((p as DialRef).feature);

export function registerAppActions(context: () => { packId: string | null }): () => void {
  return registerActions([
    {
      name: 'select-feature',
      label: 'Select a feature',
      perform: (p) => {
        const f = (p as { feature?: unknown } | undefined)?.feature;
        if (Number.isInteger(f)) galaxyStore.focus(f as number, { fly: true, select: true });
      },
    },
    {
      name: 'add-dial',
      label: 'Add a dial',
      perform: (p) => {
        if (!isRef(p)) return;
        const q = p as DialRef & {
          label?: string;
          maxActivation?: number | null;
          members?: CompositeMember[] | null;
          value?: number;
        };
        dialStore.add({
          saeId: q.saeId,
          feature: q.feature,
          label: q.label ?? `feature ${q.feature}`,
          maxActivation: q.maxActivation ?? null,
          members: Array.isArray(q.members) && q.members.length > 0 ? q.members : null,
          value: typeof q.value === 'number' && Number.isFinite(q.value) ? q.value : 0,
        });
      },
    },
    {
      name: 'turn-dial',
      label: 'Turn a dial',
      perform: (p) => {
        if (!isRef(p)) return;
        const q = p as DialRef & Partial<Pick<DialState, 'value' | 'method' | 'muted' | 'members'>>;
        const key = keyOf(q);
        const patch: Partial<DialState> = {};
        // a composite dial's member weights (its key stays: the members are the same features)
        if (Array.isArray(q.members) && q.members.length > 0) patch.members = q.members;
        if (typeof q.value === 'number' && Number.isFinite(q.value)) patch.value = q.value;
        if (q.method) patch.method = q.method;
        if (typeof q.muted === 'boolean') patch.muted = q.muted;
        dialStore.update(key, patch);
      },
    },
    {
      name: 'remove-dial',
      label: 'Remove a dial',
      perform: (p) => {
        if (isRef(p)) dialStore.remove(keyOf(p));
      },
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
      perform: (p) => {
        const dials = (p as { dials?: unknown } | undefined)?.dials;
        if (Array.isArray(dials)) dialStore.restore(dials as DialInput[]);
      },
    },
    {
      name: 'save-preset',
      label: 'Save the dials as a preset',
      perform: async (p) => {
        const name = (p as { name?: unknown } | undefined)?.name;
        const { packId } = context();
        if (typeof name !== 'string' || !name.trim() || !packId) return;
        await getClient().call('presets.save', {
          packId,
          name: name.trim(),
          dials: dialStore.forApi(),
        });
      },
    },
  ]);
}
