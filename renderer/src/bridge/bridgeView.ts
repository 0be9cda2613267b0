/**
 * The bridge view's state, outside React (like the galaxy's store): whether it is open, the
 * other SAE, the built bridge between the two (which side the main galaxy is), both sides'
 * best matches (bridge.best), the filter, the hovered star's matches (bridge.matches) and the
 * pair the bridge card shows. It drives the two galaxy stores: the other side's stars of a
 * hovered star are highlighted, a lasso on one side selects the best matches on the other,
 * and the filter dims what it leaves out on both. A pair may have two bridges (by activations
 * or decoder direction, and by effect on the next tokens): the view keeps the method the person
 * chose and reads that bridge (none chosen: the server's rule, the default bridge when built).
 * What a person chose (open, other SAE, method, filter) survives a reload (localStorage), like
 * the chosen pack.
 */
import type { CallOutput } from '../../../preload/contract';
import { getClient } from '../api/client';
import type { SceneApi } from '../galaxy/sceneApi';
import { createGalaxyStore, galaxyStore, type GalaxyStore } from '../galaxy/store';
import {
  bestMatchesOf,
  keptFeatures,
  kindOf,
  NO_BRIDGE_FILTER,
  passes,
  selectionLinks,
  type BridgeFilter,
  type Link,
  type SideBest,
} from './links';
import type { BridgeMethodName } from './scoreName';

export interface SaeRef {
  packId: string;
  saeId: string;
}

export interface BridgeRef {
  a: SaeRef;
  b: SaeRef;
}

/** A hovered star and its matches on the other side (filtered, best first). */
export interface HoverLink {
  from: 'main' | 'other';
  feature: number;
  matches: { feature: number; score: number }[];
}

/** The bridge card's two features (main side, other side) and the match's score. */
export interface Pair {
  main: number;
  other: number;
  score: number;
  /** chosen by a click (stays) or shown while a star is hovered */
  pinned: boolean;
}

const KEY = 'orrery.bridgeView';
/** Links drawn for a selection, at most (a lasso of thousands draws the first ones). */
export const SELECTION_LINKS = 300;
/** Links drawn for a hovered star: its best matches. */
export const HOVER_LINKS = 5;

interface Saved {
  open: boolean;
  other: SaeRef | null;
  method: BridgeMethodName | null;
  filter: BridgeFilter;
}

const METHODS: readonly unknown[] = ['decoder', 'correlation', 'effect'];

function readSaved(): Saved {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<Saved> | null;
    const f = v?.filter;
    return {
      open: v?.open === true,
      other:
        v?.other && typeof v.other.packId === 'string' && typeof v.other.saeId === 'string'
          ? { packId: v.other.packId, saeId: v.other.saeId }
          : null,
      method: METHODS.includes(v?.method) ? (v?.method ?? null) : null,
      filter:
        f && ['all', 'shared', 'specific'].includes(f.show) && Number.isFinite(f.min + f.max)
          ? { show: f.show, min: f.min, max: f.max }
          : NO_BRIDGE_FILTER,
    };
  } catch {
    return { open: false, other: null, method: null, filter: NO_BRIDGE_FILTER };
  }
}

type Listener = () => void;

export class BridgeView {
  open: boolean;
  /** The other SAE the person chose (the main one is the galaxy's). */
  other: SaeRef | null;
  /** The method of the pair's bridge the person chose; null: none chosen (the server's rule). */
  wanted: BridgeMethodName | null;
  filter: BridgeFilter;
  /** The built bridge, and the main galaxy's side of it; null while there is none. */
  ref: BridgeRef | null = null;
  mainSide: 'a' | 'b' = 'a';
  bestMain: SideBest | null = null;
  bestOther: SideBest | null = null;
  /** The method of the bridge read. */
  method: CallOutput<'bridge.best'>['method'] | null = null;
  hover: HoverLink | null = null;
  pinned: Pair | null = null;
  /** Links drawn now: the hovered star's, then the selections'. */
  links: Link[] = [];
  /** The other galaxy (the main one is galaxyStore). */
  readonly otherStore: GalaxyStore;
  readonly scenes: { main: { current: SceneApi | null }; other: { current: SceneApi | null } } = {
    main: { current: null },
    other: { current: null },
  };
  private listeners = new Set<Listener>();
  private off: (() => void)[] = [];
  private lassoSeen = { main: 0, other: 0 };
  private hoverSeen = { main: null as number | null, other: null as number | null };
  private focusSeen = { main: null as number | null, other: null as number | null };
  private mapSeen: { main: unknown; other: unknown } = { main: null, other: null };
  private hoverSeq = 0;
  private savedHighlights: { main: readonly number[] | null } = { main: null };
  private matchCache = new Map<string, Promise<{ feature: number; score: number }[]>>();

  constructor(
    readonly main: GalaxyStore,
    otherStore: GalaxyStore,
  ) {
    this.otherStore = otherStore;
    const s = readSaved();
    this.open = s.open;
    this.other = s.other;
    this.wanted = s.method;
    this.filter = s.filter;
  }

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  private emit(): void {
    for (const l of [...this.listeners]) l();
  }

  private save(): void {
    const v: Saved = {
      open: this.open,
      other: this.other,
      method: this.wanted,
      filter: this.filter,
    };
    localStorage.setItem(KEY, JSON.stringify(v));
  }

  setOpen(open: boolean): void {
    if (this.open === open) return;
    this.open = open;
    if (!open) this.detach();
    this.save();
    this.emit();
  }

  choose(other: SaeRef | null): void {
    if (this.other?.packId === other?.packId && this.other?.saeId === other?.saeId) return;
    this.detach();
    this.other = other;
    this.wanted = null;
    this.save();
    this.emit();
  }

  /** Chooses which of the pair's bridges to read (the pane attaches it, or offers to build it). */
  setMethod(method: BridgeMethodName | null): void {
    if (this.wanted === method) return;
    this.wanted = method;
    this.save();
    this.emit();
  }

  setFilter(patch: Partial<BridgeFilter>): void {
    this.filter = { ...this.filter, ...patch };
    this.save();
    this.applyFilter();
    this.refreshLinks();
    this.emit();
  }

  /** The built bridge between the main SAE and the other one (by `method`, when given): read
   * both sides' best matches. */
  async attach(
    ref: BridgeRef,
    mainSide: 'a' | 'b',
    method: BridgeMethodName | null,
  ): Promise<string | null> {
    this.detach();
    const client = getClient();
    const otherSide = mainSide === 'a' ? 'b' : 'a';
    const by = method ? { method } : {};
    const [m, o] = await Promise.all([
      client.call('bridge.best', { ...ref, ...by, side: mainSide }),
      client.call('bridge.best', { ...ref, ...by, side: otherSide }),
    ]);
    if (!m.ok) return m.error.message;
    if (!o.ok) return o.error.message;
    this.ref = ref;
    this.mainSide = mainSide;
    this.method = m.value.method;
    this.bestMain = { ...m.value };
    this.bestOther = { ...o.value };
    this.lassoSeen = { main: this.main.lassoSeq, other: this.otherStore.lassoSeq };
    this.focusSeen = { main: this.main.focused, other: this.otherStore.focused };
    this.mapSeen = { main: this.main.map, other: this.otherStore.map };
    const onStore = (): void => this.onStores();
    this.off = [this.main.subscribe(onStore), this.otherStore.subscribe(onStore)];
    this.applyFilter();
    this.refreshLinks();
    this.emit();
    return null;
  }

  detach(): void {
    for (const f of this.off) f();
    this.off = [];
    if (this.bestMain) {
      this.restoreMainHighlights();
      this.main.setFilter({ viewKeep: null });
      this.otherStore.setFilter({ viewKeep: null });
    }
    this.ref = null;
    this.bestMain = null;
    this.bestOther = null;
    this.method = null;
    this.hover = null;
    this.pinned = null;
    this.links = [];
    this.hoverSeen = { main: null, other: null };
    this.matchCache.clear();
    this.emit();
  }

  get sharedAt(): number {
    return this.bestMain?.sharedAt ?? 0;
  }

  /** The pair the card shows: the hovered star and its best match, else the pinned pair. */
  get pair(): Pair | null {
    const h = this.hover;
    const best = h?.matches[0];
    if (h && best)
      return h.from === 'main'
        ? { main: h.feature, other: best.feature, score: best.score, pinned: false }
        : { main: best.feature, other: h.feature, score: best.score, pinned: false };
    return this.pinned;
  }

  /** Pins the card on a feature of one side and its best match (a click on a star). */
  pin(from: 'main' | 'other', feature: number): void {
    const side = from === 'main' ? this.bestMain : this.bestOther;
    const m = side?.best[feature] ?? -1;
    if (!side || m < 0) {
      this.pinned = null;
    } else {
      const score = side.score[feature] ?? NaN;
      this.pinned =
        from === 'main'
          ? { main: feature, other: m, score, pinned: true }
          : { main: m, other: feature, score, pinned: true };
    }
    this.emit();
  }

  unpin(): void {
    if (!this.pinned) return;
    this.pinned = null;
    this.emit();
  }

  /** Either galaxy changed: follow a new lasso, a new hover, a new focus; redraw the links. */
  private onStores(): void {
    if (!this.bestMain || !this.bestOther) return;
    for (const from of ['main', 'other'] as const) {
      const store = from === 'main' ? this.main : this.otherStore;
      const into = from === 'main' ? this.otherStore : this.main;
      const side = from === 'main' ? this.bestMain : this.bestOther;
      if (store.map !== this.mapSeen[from]) {
        // a (re)loaded map starts unfiltered: the bridge's filter dims it again
        this.mapSeen[from] = store.map;
        this.applyFilter();
      }
      if (store.focused !== this.focusSeen[from]) {
        this.focusSeen[from] = store.focused;
        if (store.focused !== null) this.pin(from, store.focused);
      }
      if (store.lassoSeq !== this.lassoSeen[from]) {
        this.lassoSeen[from] = store.lassoSeq;
        into.selectFeatures(bestMatchesOf(store.selectedFeatures(), side, this.filter));
      }
      if (store.hovered !== this.hoverSeen[from]) {
        this.hoverSeen[from] = store.hovered;
        if (store.hovered !== null) void this.hoverOn(from, store.hovered);
        else if (this.hover?.from === from) this.endHover();
      }
    }
    this.refreshLinks();
  }

  private matchesOf(from: 'main' | 'other', feature: number) {
    const ref = this.ref;
    const method = this.method;
    if (!ref || !method) return Promise.resolve([]);
    const side = from === 'main' ? this.mainSide : this.mainSide === 'a' ? 'b' : 'a';
    const key = `${side}#${feature}`;
    let p = this.matchCache.get(key);
    if (!p) {
      p = getClient()
        .call('bridge.matches', { ...ref, method, side, feature })
        .then((r) => (r.ok ? r.value.matches : []));
      this.matchCache.set(key, p);
    }
    return p;
  }

  private async hoverOn(from: 'main' | 'other', feature: number): Promise<void> {
    const seq = ++this.hoverSeq;
    const all = await this.matchesOf(from, feature);
    if (seq !== this.hoverSeq || !this.ref) return;
    const sharedAt = this.sharedAt;
    const matches = all.filter((m) => passes(this.filter, m.score, sharedAt)).slice(0, HOVER_LINKS);
    this.hover = { from, feature, matches };
    const into = from === 'main' ? this.otherStore : this.main;
    if (into === this.main && this.savedHighlights.main === null)
      this.savedHighlights.main = this.main.highlights;
    into.setHighlights(matches.map((m) => m.feature));
    this.refreshLinks();
    this.emit();
  }

  private endHover(): void {
    const h = this.hover;
    this.hoverSeq++;
    this.hover = null;
    if (h?.from === 'main') this.otherStore.setHighlights([]);
    else this.restoreMainHighlights();
    this.refreshLinks();
    this.emit();
  }

  private restoreMainHighlights(): void {
    const saved = this.savedHighlights.main;
    if (saved === null) return;
    this.savedHighlights.main = null;
    this.main.setHighlights(saved);
  }

  /** Dims, on both galaxies, the features whose best match the filter leaves out. */
  applyFilter(): void {
    if (!this.bestMain || !this.bestOther) return;
    if (this.main.map) this.main.setFilter({ viewKeep: keptFeatures(this.bestMain, this.filter) });
    if (this.otherStore.map)
      this.otherStore.setFilter({ viewKeep: keptFeatures(this.bestOther, this.filter) });
  }

  private refreshLinks(): void {
    const out: Link[] = [];
    const h = this.hover;
    if (h) {
      const sharedAt = this.sharedAt;
      for (const m of h.matches) {
        const kind = kindOf(m.score, sharedAt);
        out.push(
          h.from === 'main'
            ? { main: h.feature, other: m.feature, score: m.score, kind }
            : { main: m.feature, other: h.feature, score: m.score, kind },
        );
      }
    }
    if (this.bestMain && this.bestOther) {
      const room = SELECTION_LINKS;
      out.push(
        ...selectionLinks(this.main.selectedFeatures(), this.bestMain, this.filter, true, room),
      );
      out.push(
        ...selectionLinks(
          this.otherStore.selectedFeatures(),
          this.bestOther,
          this.filter,
          false,
          room,
        ),
      );
    }
    // a pair selected on both sides is one line
    const seen = new Set<string>();
    const unique = out.filter((l) => {
      const k = `${l.main}>${l.other}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    const same =
      unique.length === this.links.length &&
      unique.every((l, i) => {
        const o = this.links[i];
        return o && o.main === l.main && o.other === l.other && o.score === l.score;
      });
    if (same) return;
    this.links = unique;
    this.emit();
  }
}

/** The app's one bridge view, over the app's galaxy and a second store of its own. */
export const bridgeView = new BridgeView(galaxyStore, createGalaxyStore());
