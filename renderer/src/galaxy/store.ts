/**
 * The galaxy's state, outside React (STYLE item 8): the map, per-point state bytes that the
 * shader reads (one RGBA byte quad per point, updated in place with a dirty range), the
 * selection, hover, filters, search highlights, "what is active" and camera requests (the
 * dial list is the dial store's, steer/store.ts). Components read it with `subscribe` and fields (or `useGalaxy`), the scene reads
 * it in useFrame. Pure: no DOM, no three.
 *
 * Points and features: point i shows feature map.features[i] (dead features may have no
 * point). The state buffer and the lasso work in points; everything a person names (hover,
 * the card, search hits, active features, `selectedFeatures`) is a feature index.
 */
import type { GalaxyMap } from './mapData';
import type { SelectMode } from './project';

/** Byte offsets within a point's state quad. */
export const STATE = { selected: 0, dimmed: 1, active: 2, highlight: 3 } as const;

export interface Filter {
  minDensity: number;
  maxDensity: number;
  cluster: number | null;
  /** Features that pass a label-source filter (from index.search), or null for no filter. */
  labelSourceKeep: ReadonlySet<number> | null;
  /** Features another view keeps (the bridge's shared/specific/score filter), or null. */
  viewKeep: ReadonlySet<number> | null;
}

export const NO_FILTER: Filter = {
  minDensity: 0,
  maxDensity: 1,
  cluster: null,
  labelSourceKeep: null,
  viewKeep: null,
};

export interface FlyRequest {
  seq: number;
  target: [number, number, number];
  /** Camera distance from the target after the flight. */
  distance: number;
  /** Reset also restores the default viewing direction. */
  reset: boolean;
}

type Listener = () => void;
type Vec3 = [number, number, number];

export class GalaxyStore {
  map: GalaxyMap | null = null;
  packId: string | null = null;
  saeId: string | null = null;
  /** The folder of the person's own examples whose index is shown; null: the pack's own. */
  corpus: string | null = null;
  /** [count × 4] bytes per point: selected, dimmed, active brightness, search highlight. */
  state = new Uint8Array(0);
  /** Dirty point range [start, end) of `state`; empty when end ≤ start. */
  private dirtyStart = Infinity;
  private dirtyEnd = 0;
  /** The hovered feature and its point. */
  hovered: number | null = null;
  hoveredPoint = -1;
  /** The feature whose card is open (chosen by click, search or a neighbour link). */
  focused: number | null = null;
  selectionCount = 0;
  activeCount = 0;
  filter: Filter = NO_FILTER;
  /** Search hits (features) whose stars are highlighted. */
  highlights: readonly number[] = [];
  fly: FlyRequest | null = null;
  /** Counts lassos applied to the selection (another view follows the lasso, not every change). */
  lassoSeq = 0;
  private listeners = new Set<Listener>();
  private flySeq = 0;

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  private emit(): void {
    for (const l of [...this.listeners]) l();
  }

  private touch(p: number): void {
    if (p < this.dirtyStart) this.dirtyStart = p;
    if (p + 1 > this.dirtyEnd) this.dirtyEnd = p + 1;
  }

  /** Takes the dirty point range and marks the state clean. */
  takeDirty(): [number, number] | null {
    if (this.dirtyEnd <= this.dirtyStart) return null;
    const r: [number, number] = [this.dirtyStart, this.dirtyEnd];
    this.dirtyStart = Infinity;
    this.dirtyEnd = 0;
    return r;
  }

  get count(): number {
    return this.map?.count ?? 0;
  }

  /** The point showing a feature, or −1. */
  pointOf(feature: number): number {
    return this.map?.pointOf[feature] ?? -1;
  }

  /** The feature a point shows, or −1. */
  featureOf(point: number): number {
    return this.map?.features[point] ?? -1;
  }

  /** Where a point is. */
  position(point: number): Vec3 {
    const p = this.map?.positions;
    if (!p) return [0, 0, 0];
    return [p[point * 3] ?? 0, p[point * 3 + 1] ?? 0, p[point * 3 + 2] ?? 0];
  }

  load(packId: string, saeId: string, map: GalaxyMap, corpus: string | null = null): void {
    this.map = map;
    this.packId = packId;
    this.saeId = saeId;
    this.corpus = corpus;
    this.state = new Uint8Array(map.count * 4);
    this.clearPointers();
    this.filter = NO_FILTER;
    this.dirtyStart = 0;
    this.dirtyEnd = map.count;
    this.emit();
    this.reset();
  }

  unload(): void {
    this.map = null;
    this.packId = null;
    this.saeId = null;
    this.corpus = null;
    this.state = new Uint8Array(0);
    this.clearPointers();
    this.fly = null;
    this.dirtyStart = Infinity;
    this.dirtyEnd = 0;
    this.emit();
  }

  private clearPointers(): void {
    this.hovered = null;
    this.hoveredPoint = -1;
    this.focused = null;
    this.selectionCount = 0;
    this.activeCount = 0;
    this.highlights = [];
  }

  private validPoint(p: number): boolean {
    return Number.isInteger(p) && p >= 0 && p < this.count;
  }

  /** Hover by point (from picking); null or an invalid point clears it. */
  setHoveredPoint(p: number | null): void {
    const point = p !== null && this.validPoint(p) ? p : -1;
    if (point === this.hoveredPoint) return;
    this.hoveredPoint = point;
    this.hovered = point < 0 ? null : this.featureOf(point);
    this.emit();
  }

  isSelectedPoint(p: number): boolean {
    return this.state[p * 4 + STATE.selected] !== 0;
  }

  /** Applies points to the selection: replace it, add to it or subtract from it. */
  select(points: ArrayLike<number>, mode: SelectMode = 'replace'): void {
    const s = this.state;
    if (mode === 'replace') {
      for (let p = 0; p < this.count; p++) {
        if (s[p * 4] !== 0) {
          s[p * 4] = 0;
          this.touch(p);
        }
      }
      this.selectionCount = 0;
    }
    const on = mode === 'subtract' ? 0 : 255;
    for (let k = 0; k < points.length; k++) {
      const p = points[k] ?? -1;
      if (!this.validPoint(p)) continue;
      if (s[p * 4] === on) continue;
      s[p * 4] = on;
      this.selectionCount += on ? 1 : -1;
      this.touch(p);
    }
    this.emit();
  }

  /** A lasso's points applied to the selection (select, and counted in lassoSeq). */
  selectLassoed(points: ArrayLike<number>, mode: SelectMode): void {
    this.lassoSeq++;
    this.select(points, mode);
  }

  selectFeatures(features: readonly number[], mode: SelectMode = 'replace'): void {
    this.select(
      features.map((f) => this.pointOf(f)),
      mode,
    );
  }

  clearSelection(): void {
    this.select([], 'replace');
  }

  /** The selected points, ascending. */
  selectedPoints(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.count; p++) if (this.state[p * 4] !== 0) out.push(p);
    return out;
  }

  /** The selected features, ascending. */
  selectedFeatures(): number[] {
    return this.selectedPoints()
      .map((p) => this.featureOf(p))
      .sort((a, b) => a - b);
  }

  /** Opens a feature's card; `select` makes it the selection, `fly` flies to it. */
  focus(feature: number | null, opts: { fly?: boolean; select?: boolean } = {}): void {
    if (feature !== null && this.pointOf(feature) < 0) return;
    this.focused = feature;
    if (feature !== null && opts.select) this.selectFeatures([feature], 'replace');
    if (feature !== null && opts.fly) this.flyToFeature(feature);
    this.emit();
  }

  setFilter(patch: Partial<Filter>): void {
    this.filter = { ...this.filter, ...patch };
    const map = this.map;
    if (!map) return this.emit();
    const f = this.filter;
    const s = this.state;
    // The bounds on the map's density levels (mapData.ts: a density equal to a bound stays in).
    const lo = map.snapDensity(f.minDensity);
    const hi = map.snapDensity(f.maxDensity);
    // read once: off the wire they are decoded on first read (mapData.ts)
    const { density, cluster } = map;
    for (let p = 0; p < map.count; p++) {
      const d = density[p] ?? 0;
      const keep =
        d >= lo &&
        d <= hi &&
        (f.cluster === null || cluster[p] === f.cluster) &&
        (f.labelSourceKeep === null || f.labelSourceKeep.has(map.features[p] ?? -1)) &&
        (f.viewKeep === null || f.viewKeep.has(map.features[p] ?? -1));
      const v = keep ? 0 : 255;
      if (s[p * 4 + STATE.dimmed] !== v) {
        s[p * 4 + STATE.dimmed] = v;
        this.touch(p);
      }
    }
    this.emit();
  }

  isFiltered(): boolean {
    const f = this.filter;
    return (
      f.minDensity > 0 ||
      f.maxDensity < 1 ||
      f.cluster !== null ||
      f.labelSourceKeep !== null ||
      f.viewKeep !== null
    );
  }

  /** Search results (features): their stars are highlighted. */
  setHighlights(features: readonly number[]): void {
    const s = this.state;
    for (const f of this.highlights) {
      const p = this.pointOf(f);
      if (p >= 0) {
        s[p * 4 + STATE.highlight] = 0;
        this.touch(p);
      }
    }
    this.highlights = features.filter((f) => this.pointOf(f) >= 0);
    for (const f of this.highlights) {
      const p = this.pointOf(f);
      s[p * 4 + STATE.highlight] = 255;
      this.touch(p);
    }
    this.emit();
  }

  /**
   * "What is active" for the current input (ActiveOutput.strongest): each feature's
   * strongest activation lights its star, the strongest brightest (brightness ∝ value / max,
   * with a visible floor). An empty list clears it.
   */
  setActive(strongest: readonly { feature: number; value: number }[]): void {
    const s = this.state;
    for (let p = 0; p < this.count; p++) {
      if (s[p * 4 + STATE.active] !== 0) {
        s[p * 4 + STATE.active] = 0;
        this.touch(p);
      }
    }
    let max = 0;
    for (const a of strongest) if (this.pointOf(a.feature) >= 0 && a.value > max) max = a.value;
    let n = 0;
    if (max > 0) {
      for (const a of strongest) {
        const p = this.pointOf(a.feature);
        if (p < 0 || a.value <= 0) continue;
        const b = Math.max(40, Math.round((255 * a.value) / max));
        const was = s[p * 4 + STATE.active] ?? 0;
        if (was === 0) n++;
        s[p * 4 + STATE.active] = Math.max(was, b);
        this.touch(p);
      }
    }
    this.activeCount = n;
    this.emit();
  }

  /** A feature's active brightness, 0–255. */
  activeBrightness(feature: number): number {
    const p = this.pointOf(feature);
    return p < 0 ? 0 : (this.state[p * 4 + STATE.active] ?? 0);
  }

  flyToFeature(feature: number): void {
    const p = this.pointOf(feature);
    if (!this.map || p < 0) return;
    this.requestFly(this.position(p), this.map.bounds.radius * 0.35, false);
  }

  /** Frames a set of points: their centre, at a distance that holds them. */
  private flyToPoints(points: readonly number[], minRadius: number): void {
    if (points.length === 0) return;
    const c: Vec3 = [0, 0, 0];
    for (const p of points) {
      const v = this.position(p);
      for (let k = 0; k < 3; k++) c[k] = (c[k] ?? 0) + (v[k] ?? 0) / points.length;
    }
    let r2 = 0;
    for (const p of points) {
      const v = this.position(p);
      r2 = Math.max(r2, (v[0] - c[0]) ** 2 + (v[1] - c[1]) ** 2 + (v[2] - c[2]) ** 2);
    }
    this.requestFly(c, Math.max(Math.sqrt(r2), minRadius) * 2.4, false);
  }

  /** The features of a cluster, in point order. */
  clusterFeatures(id: number): number[] {
    const map = this.map;
    if (!map) return [];
    const out: number[] = [];
    const cluster = map.cluster;
    for (let p = 0; p < map.count; p++) if (cluster[p] === id) out.push(this.featureOf(p));
    return out;
  }

  flyToCluster(id: number): void {
    const map = this.map;
    if (!map) return;
    const points: number[] = [];
    const cluster = map.cluster;
    for (let p = 0; p < map.count; p++) if (cluster[p] === id) points.push(p);
    this.flyToPoints(points, map.bounds.radius * 0.1);
  }

  /** Flies to the selection (F); one star is approached like a search hit. */
  flyToSelection(): void {
    const map = this.map;
    if (!map || this.selectionCount === 0) return;
    const points = this.selectedPoints();
    if (points.length === 1) return this.flyToFeature(this.featureOf(points[0] ?? -1));
    this.flyToPoints(points, map.bounds.radius * 0.08);
  }

  reset(): void {
    const b = this.map?.bounds;
    if (!b) return;
    this.requestFly([...b.center], b.radius * 2.6, true);
  }

  private requestFly(target: Vec3, distance: number, reset: boolean): void {
    this.fly = { seq: ++this.flySeq, target, distance, reset };
    this.emit();
  }
}

export function createGalaxyStore(): GalaxyStore {
  return new GalaxyStore();
}

/** The app's one galaxy store. */
export const galaxyStore = createGalaxyStore();
