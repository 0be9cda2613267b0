/**
 * The open selection, outside React (STYLE item 8): a set of features from a lasso, a cluster,
 * a search, "more like these" or a saved selection, with the member weights its composite dial
 * would use. The selection panel shows it; the selection actions (./selectionActions.ts) change
 * it. `ranked` is what the panel last learned of it on the current input (strongest first).
 */
import type { CompositeMember } from '../../../preload/contract';

export type SelectionOrigin = 'lasso' | 'cluster' | 'search' | 'like';

export interface RankedRow {
  feature: number;
  max: number;
  mean: number;
}

export interface OpenSelection {
  packId: string;
  saeId: string;
  /** every feature of the selection (as it came: lasso order, search rank, separation rank) */
  features: number[];
  origin: SelectionOrigin;
  /** the name it was saved under, if it was */
  name: string | null;
  /** member weights for its composite dial, by feature (absent: 1) */
  weights: ReadonlyMap<number, number>;
  /** a composite dial's typical strength when its origin knows one (more like these) */
  typical: number | null;
  /** a note on where it came from, in words ("3 liked, corpus baseline") */
  note: string;
}

type Listener = () => void;

class SelectionStore {
  private current: OpenSelection | null = null;
  private ranked: readonly RankedRow[] = [];
  /** "more like these" is open instead of a selection */
  private liking = false;
  /** bumped when a selection is saved or removed: the saved list reloads */
  private saved = 0;
  private readonly listeners = new Set<Listener>();

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  get = (): OpenSelection | null => this.current;
  getRanked = (): readonly RankedRow[] => this.ranked;
  isLiking = (): boolean => this.liking;
  savedVersion = (): number => this.saved;

  bumpSaved(): void {
    this.saved += 1;
    this.emit();
  }

  private emit(): void {
    for (const l of [...this.listeners]) l();
  }

  open(sel: Omit<OpenSelection, 'weights' | 'typical' | 'note' | 'name'> & Partial<OpenSelection>) {
    this.current = {
      name: null,
      weights: new Map(),
      typical: null,
      note: '',
      ...sel,
      features: [...new Set(sel.features)],
    };
    this.ranked = [];
    this.liking = false;
    this.emit();
  }

  setRanked(rows: readonly RankedRow[]): void {
    this.ranked = rows;
    this.emit();
  }

  setWeight(feature: number, weight: number): void {
    if (!this.current || !Number.isFinite(weight)) return;
    const weights = new Map(this.current.weights);
    weights.set(feature, weight);
    this.current = { ...this.current, weights };
    this.emit();
  }

  rename(name: string): void {
    if (this.current) this.current = { ...this.current, name };
    this.emit();
  }

  showLike(on: boolean): void {
    this.liking = on;
    this.emit();
  }

  close(): void {
    this.current = null;
    this.ranked = [];
    this.liking = false;
    this.emit();
  }

  /**
   * The top n members of the selection, by their activation on the current input when the
   * panel has ranked it (else in the selection's own order), with their weights.
   */
  topMembers(n: number): CompositeMember[] {
    const sel = this.current;
    if (!sel) return [];
    const order = this.ranked.length > 0 ? this.ranked.map((r) => r.feature) : sel.features;
    return order
      .slice(0, Math.max(1, n))
      .map((feature) => ({ feature, weight: sel.weights.get(feature) ?? 1 }))
      .filter((m) => m.weight !== 0);
  }
}

export const selectionStore = new SelectionStore();
