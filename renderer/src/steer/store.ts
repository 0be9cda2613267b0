/**
 * The one dial list, kept outside React (STYLE item 8): components subscribe and read
 * snapshots; a drag updates the store without re-rendering the whole app. People change it
 * through the actions (actions/appActions.ts); a session move or a pack switch restores it.
 * Each change is stamped with the gesture in progress (gesture.ts).
 */
import type { CompositeMember, DialInput, ListedDial, SweptDial } from '../../../preload/contract';
import { dialRest } from '../../../preload/contract/sweepMath';
import { stampChange } from './gesture';

export interface DialState {
  key: string;
  saeId: string;
  feature: number;
  label: string;
  method: DialInput['method'];
  value: number;
  muted: boolean;
  /** The feature's max activation from the index, when known: the dial's scale. */
  maxActivation: number | null;
  /**
   * A composite dial (one dial from a selection): it adds along the weighted sum of these
   * features' decoder directions; `feature` is its heaviest member. null: a plain dial.
   */
  members: CompositeMember[] | null;
}

/** A dial's key: its SAE and feature, and for a composite dial a digest of its members. */
export function dialKey(
  saeId: string,
  feature: number,
  members: readonly CompositeMember[] | null = null,
): string {
  if (!members) return `${saeId}#${feature}`;
  let h = 0x811c9dc5;
  for (const m of members) h = Math.imul(h ^ m.feature, 0x01000193) >>> 0;
  return `${saeId}#${feature}+${members.length}.${h.toString(36)}`;
}

type Listener = () => void;

/** The longest label a saved dial keeps (DialSchema). */
export const LABEL_MAX = 200;

export const restValue = dialRest;

/** Whether a dial goes into a run: muted and at-rest dials are left out. */
const runs = (d: DialState): boolean => !d.muted && d.value !== restValue(d.method);

/** A dial as the API takes it. */
function apiDial(d: DialState): DialInput {
  return {
    saeId: d.saeId,
    feature: d.feature,
    method: d.method,
    value: d.value,
    maxActivation: d.maxActivation,
    // the name travels with the step and the preset, so it comes back with them
    label: d.label.slice(0, LABEL_MAX),
    ...(d.members ? { members: d.members } : {}),
  };
}

class DialStore {
  private dials: readonly DialState[] = [];
  private readonly listeners = new Set<Listener>();

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  get = (): readonly DialState[] => this.dials;

  private set(next: readonly DialState[]): void {
    this.dials = next;
    stampChange();
    for (const l of this.listeners) l();
  }

  add(
    d: Pick<DialState, 'saeId' | 'feature' | 'label'> & {
      maxActivation?: number | null;
      members?: CompositeMember[] | null;
      value?: number;
    },
  ): void {
    const members = d.members ?? null;
    const key = dialKey(d.saeId, d.feature, members);
    if (this.dials.some((x) => x.key === key)) return;
    this.set([
      ...this.dials,
      {
        key,
        saeId: d.saeId,
        feature: d.feature,
        label: d.label,
        method: 'add',
        value: d.value ?? 0,
        muted: false,
        maxActivation: d.maxActivation ?? null,
        members,
      },
    ]);
  }

  update(key: string, patch: Partial<Omit<DialState, 'key' | 'saeId' | 'feature'>>): void {
    this.set(this.dials.map((d) => (d.key === key ? { ...d, ...patch } : d)));
  }

  remove(key: string): void {
    this.set(this.dials.filter((d) => d.key !== key));
  }

  clear(): void {
    this.set([]);
  }

  /** Sets the dials from saved ones (a step, a preset or the session's list, which alone
   * marks muted dials), with their saved or known labels. */
  restore(dials: readonly ListedDial[]): void {
    const labels = new Map(this.dials.map((d) => [d.key, d.label]));
    this.set(
      dials.map((d) => {
        const members = d.members ?? null;
        const key = dialKey(d.saeId, d.feature, members);
        return {
          key,
          saeId: d.saeId,
          feature: d.feature,
          label:
            d.label ??
            labels.get(key) ??
            (members ? `${members.length} features as one` : `feature ${d.feature}`),
          method: d.method,
          value: d.value,
          muted: d.muted ?? false,
          maxActivation: d.maxActivation ?? null,
          members,
        };
      }),
    );
  }

  /** The dials as the API takes them: muted and at-rest dials left out. */
  forApi(): DialInput[] {
    return this.dials.filter(runs).map(apiDial);
  }

  /**
   * A drag sweep's dials (contract sweep.ts): the others as forApi gives them and where this
   * dial goes among them at any value; null for a muted dial (its turns change nothing).
   */
  sweptOf(key: string): SweptDial | null {
    const i = this.dials.findIndex((d) => d.key === key);
    const d = this.dials[i];
    if (!d || d.muted) return null;
    const before = this.dials.slice(0, i).filter(runs).map(apiDial);
    const after = this.dials
      .slice(i + 1)
      .filter(runs)
      .map(apiDial);
    return { others: [...before, ...after], at: before.length, dial: apiDial(d) };
  }
}

export const dialStore = new DialStore();
