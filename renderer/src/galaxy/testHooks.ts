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
  hovered(): number | null;
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

declare global {
  interface Window {
    __orreryGalaxy?: GalaxyTestHooks;
  }
}

export function installTestHooks(
  store: GalaxyStore,
  api: SceneApiRef,
  canvasHost: () => HTMLElement | null,
  lassoMs: () => number | null,
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
    hovered: () => store.hovered,
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
  window.__orreryGalaxy = hooks;
  return () => {
    if (window.__orreryGalaxy === hooks) delete window.__orreryGalaxy;
  };
}
