/**
 * The galaxy of one SAE: the three.js layer (stars, camera) under the interactive DOM
 * layers (cluster labels, lasso, hover label, toolbar, filters). Hover picks on the CPU
 * (a grid the lasso worker builds) once per animation frame at most, and only when the
 * pointer moved.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { ClusterLabels, type LabelEls } from './ClusterLabels';
import { Filters } from './Filters';
import { HoverLabel } from './HoverLabel';
import { Hud } from './Hud';
import { registerActions, runAction, unregisterActions, type Action } from '../actions/registry';
import { galaxyActions, type Tool } from './keys';
import { starActions, starOnScreen } from './starKeys';
import { Lasso } from './Lasso';
import { firstViewSettled, useSettleFirstView } from '../api/firstView';
import { LassoResolver } from './lassoClient';
import { setGridFor } from './pointGrid';
import type { SceneApi, SceneApiRef } from './sceneApi';
import { galaxyStore, type GalaxyStore } from './store';
import { installTestHooks } from './testHooks';
import { useGalaxy } from './useGalaxy';
import type * as CanvasModuleType from './GalaxyCanvas';
import './galaxy.css';

/** The 3D layer (three, react-three-fiber) is its own chunk, fetched when a galaxy opens. */
type CanvasModule = typeof CanvasModuleType;
let loaded: CanvasModule | null = null;
let loading: Promise<CanvasModule> | null = null;
const loadCanvas = (): Promise<CanvasModule> =>
  (loading ??= import('./GalaxyCanvas').then((m) => (loaded = m)));

/** Starts fetching the 3D code early (while the map is read), so it is there when needed. */
export function preloadGalaxyCanvas(): void {
  void loadCanvas().catch(() => undefined); // a failure shows where the canvas is used
}

/**
 * The 3D layer's module once it is fetched (null until then), or why it could not be. Not
 * React.lazy: React 19 reveals a suspended boundary at most every 300 ms (its fallback
 * throttle), which held the galaxy's first frame back ~0.3 s at start although the chunk had
 * long arrived.
 */
function useCanvasModule(): { canvas: CanvasModule | null; error: string | null } {
  const [canvas, setCanvas] = useState(loaded);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!canvas)
      loadCanvas().then(setCanvas, (e: unknown) =>
        setError(e instanceof Error ? e.message : String(e)),
      );
  }, [canvas]);
  return { canvas, error };
}

/**
 * `tools`: controls at the right end of the toolbar (the SAE and examples pickers).
 * `sceneRef`: where the scene's API is kept, for a layer over two galaxies (the bridge's links).
 * `secondary`: a second galaxy beside the first (the bridge view): its keys and buttons run its
 * own actions once the person turns to it (pointer or focus; turning back raises the first's),
 * its lasso does not open the selection panel, and its test hooks are __orreryBridgeGalaxy.
 */
export function GalaxyView({
  store = galaxyStore,
  tools,
  sceneRef,
  secondary = false,
}: {
  store?: GalaxyStore;
  tools?: ReactNode;
  sceneRef?: SceneApiRef;
  secondary?: boolean;
}) {
  const map = useGalaxy((s) => s.map, store);
  const { canvas, error: canvasError } = useCanvasModule();
  // no galaxy will draw: the error in its place is the first view
  useSettleFirstView(canvasError !== null);
  const ownRef = useRef<SceneApi | null>(null);
  const apiRef = sceneRef ?? ownRef;
  const labelsRef: LabelEls = useRef(new Map<number, HTMLElement>());
  const host = useRef<HTMLDivElement>(null);
  const hover = useRef<HTMLDivElement>(null);
  const pending = useRef<{ x: number; y: number } | null>(null);
  /** The point the pointer last picked (-1: none); its label follows the pointer. */
  const picked = useRef(-1);
  const frame = useRef(0);
  const down = useRef<{ x: number; y: number } | null>(null);
  const lassoMs = useRef<number | null>(null);
  const [tool, setTool] = useState<Tool>('orbit');
  const resolverRef = useRef<LassoResolver | null>(null);

  useEffect(() => {
    if (!map) return;
    let r: LassoResolver | null = null;
    let live = true;
    // After the first view: the worker's start (its script, its grid) would compete with the
    // first frame for the cores (cold start); until then a lasso does nothing.
    void firstViewSettled().then(() => {
      if (!live) return;
      r = new LassoResolver();
      // The worker's grid over the positions also serves hover picking on this side, and the
      // floats it decoded from the map's 16-bit positions serve the page's CPU work.
      r.onGrid = (grid, positions) => {
        if (positions) map.quantised?.adopt(positions);
        setGridFor(map, grid);
      };
      r.setPositions(map);
      resolverRef.current = r;
    });
    return () => {
      live = false;
      r?.dispose();
      if (r && resolverRef.current === r) resolverRef.current = null;
    };
  }, [map]);

  useEffect(
    () =>
      installTestHooks(
        store,
        apiRef,
        () => host.current?.querySelector('canvas') ?? null,
        () => lassoMs.current,
        secondary ? '__orreryBridgeGalaxy' : '__orreryGalaxy',
      ),
    [store, apiRef, secondary],
  );

  // the galaxy's keys and buttons run actions of the one registry; arrow keys move between
  // stars and Enter opens one's card, while the galaxy has focus
  const actionsRef = useRef<Action[] | null>(null);
  useEffect(() => {
    const list = [...galaxyActions(store, setTool), ...starActions(store, apiRef)];
    actionsRef.current = list;
    if (!secondary) registerActions(list);
    return () => {
      unregisterActions(list);
      if (actionsRef.current === list) actionsRef.current = null;
    };
  }, [store, apiRef, secondary]);
  /** The person turned to this galaxy: its actions run the keys and buttons (over another's). */
  const turnTo = (): void => {
    if (actionsRef.current) registerActions(actionsRef.current);
  };

  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  // A star hovered other than by the pointer (the arrow keys, a search result previewed) has
  // its label put beside the star; the pointer's own star keeps it beside the pointer.
  useEffect(
    () =>
      store.subscribe(() => {
        const p = store.hoveredPoint;
        if (!hover.current || p < 0 || p === picked.current) return;
        const at = starOnScreen(store, apiRef.current, p);
        if (at) hover.current.style.transform = `translate(${at[0] + 14}px, ${at[1] + 10}px)`;
      }),
    [store, apiRef],
  );

  if (!map) return null;

  const local = (e: React.PointerEvent): { x: number; y: number } => {
    const r = host.current?.getBoundingClientRect() ?? { left: 0, top: 0 };
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };

  const schedulePick = (): void => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const p = pending.current;
      const scene = apiRef.current;
      if (!p || !scene || scene.flying()) return;
      const point = scene.pick(p.x, p.y);
      picked.current = point ?? -1;
      store.setHoveredPoint(point);
    });
  };

  return (
    <div
      ref={host}
      className="galaxy-view"
      data-testid={secondary ? 'bridge-galaxy-view' : 'galaxy-view'}
      tabIndex={0}
      role="application"
      aria-label={
        secondary
          ? 'The bridge’s other galaxy: arrow keys move between stars, Enter opens a star’s card'
          : 'Feature galaxy: arrow keys move between stars, Enter opens a star’s card'
      }
      onPointerEnter={turnTo}
      onFocus={turnTo}
      onPointerMove={(e) => {
        const p = local(e);
        if (hover.current)
          hover.current.style.transform = `translate(${p.x + 14}px, ${p.y + 10}px)`;
        if (e.buttons !== 0 && tool === 'orbit') return;
        pending.current = p;
        schedulePick();
      }}
      onPointerLeave={() => {
        pending.current = null;
        picked.current = -1;
        store.setHoveredPoint(null);
      }}
      onPointerDown={(e) => {
        down.current = local(e);
      }}
      onPointerUp={(e) => {
        const start = down.current;
        down.current = null;
        if (!start || tool !== 'orbit' || e.button !== 0) return;
        const p = local(e);
        if (Math.hypot(p.x - start.x, p.y - start.y) > 4) return;
        const hit = apiRef.current?.pick(p.x, p.y) ?? null;
        if (hit === null) return;
        const mode = e.shiftKey ? 'add' : e.altKey ? 'subtract' : 'replace';
        void runAction('pick-star', { point: hit, mode });
      }}
    >
      {canvas && (
        <canvas.GalaxyCanvas store={store} map={map} apiRef={apiRef} labelsRef={labelsRef} />
      )}
      {canvasError && (
        <div className="galaxy-canvas-error" role="alert">
          <p className="error-text">The 3D view could not load: {canvasError}</p>
          {/* the browser keeps a failed module import failed: only a reload asks again */}
          <button type="button" onClick={() => location.reload()}>
            Reload
          </button>
        </div>
      )}
      <ClusterLabels map={map} labelsRef={labelsRef} store={store} />
      <Lasso
        enabled={tool === 'lasso'}
        store={store}
        apiRef={apiRef}
        resolverRef={resolverRef}
        openSelection={!secondary}
        onResolved={(ms) => {
          lassoMs.current = ms;
        }}
      />
      <HoverLabel store={store} ref={hover} />
      <Hud store={store} tool={tool} extra={tools} />
      <Filters store={store} />
    </div>
  );
}
