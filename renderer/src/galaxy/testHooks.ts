/**
 * Read-only hooks for end-to-end tests and benchmarks (a person never needs them): the camera's
 * projection × view, the canvas rectangle, and what the store holds, so a test can compute
 * the expected lasso set itself from the same positions and camera.
 */
import { fetchMap } from './fetchMap';
import type { SceneApiRef } from './sceneApi';
import { STATE, type GalaxyStore } from './store';

export interface GalaxyTestHooks {
  ready(): boolean;
  count(): number;
  viewProjection(): number[] | null;
  canvasRect(): { left: number; top: number; width: number; height: number } | null;
  /** Selected features, ascending. */
  selection(): number[];
  /** Selected points (indices into the map's arrays), ascending. */
  selectedPoints(): number[];
  /** Lit features ("what is active") with their brightness 0–255. */
  active(): { feature: number; brightness: number }[];
  /** The points shown, as the store holds them: each point's feature and xyz (3 per point). */
  points(): { count: number; features: number[]; positions: number[] };
  hovered(): number | null;
  /** Highlighted features (search hits, or a bridge's matches of the other side's star). */
  highlights(): number[];
  focused(): number | null;
  target(): [number, number, number] | null;
  flying(): boolean;
  frames(): number;
  lassoMs(): number | null;
  /**
   * Asks index.map again for the map shown, through the galaxy's own fetch and decode (marks
   * and all), without touching what is shown; resolves with the points decoded (bench).
   */
  refetchMap(): Promise<number>;
}

/** Where the hooks are installed: the galaxy, and the bridge view's second galaxy. */
export type GalaxyHooksName = '__orreryGalaxy' | '__orreryBridgeGalaxy';

declare global {
  interface Window {
    __orreryGalaxy?: GalaxyTestHooks;
    __orreryBridgeGalaxy?: GalaxyTestHooks;
  }
}

export function installTestHooks(
  store: GalaxyStore,
  api: SceneApiRef,
  canvasHost: () => HTMLElement | null,
  lassoMs: () => number | null,
  name: GalaxyHooksName = '__orreryGalaxy',
): () => void {
  const hooks: GalaxyTestHooks = Object.freeze({
    ready: () => store.map !== null && api.current !== null && api.current.frames() > 0,
    count: () => store.count,
    viewProjection: () => api.current?.viewProjection() ?? null,
    canvasRect: () => {
      const r = canvasHost()?.getBoundingClientRect();
      return r ? { left: r.left, top: r.top, width: r.width, height: r.height } : null;
    },
    selection: () => store.selectedFeatures(),
    selectedPoints: () => store.selectedPoints(),
    active: () => {
      const out: { feature: number; brightness: number }[] = [];
      for (let p = 0; p < store.count; p++) {
        const b = store.state[p * 4 + STATE.active] ?? 0;
        if (b > 0) out.push({ feature: store.featureOf(p), brightness: b });
      }
      return out.sort((a, b) => a.feature - b.feature);
    },
    points: () => ({
      count: store.count,
      features: Array.from(store.map?.features ?? []),
      positions: Array.from(store.map?.positions ?? []),
    }),
    hovered: () => store.hovered,
    highlights: () => [...store.highlights].sort((a, b) => a - b),
    focused: () => store.focused,
    target: () => api.current?.target() ?? null,
    flying: () => api.current?.flying() ?? false,
    frames: () => api.current?.frames() ?? 0,
    lassoMs,
    refetchMap: async () => {
      if (!store.packId || !store.saeId) return 0;
      const r = await fetchMap(store.packId, store.saeId, store.corpus);
      return r.ok ? r.value.count : 0;
    },
  });
  window[name] = hooks;
  return () => {
    if (window[name] !== hooks) return;
    if (name === '__orreryGalaxy') delete window.__orreryGalaxy;
    else delete window.__orreryBridgeGalaxy;
  };
}
