/**
 * Stars by keyboard, as actions of the one registry: with the galaxy focused, an arrow key
 * moves the keyboard's star to the nearest star on screen in that direction (the first press
 * picks the open card's star, or the one nearest the middle), shown as the hovered star (the
 * galaxy puts its label beside it, GalaxyView); Enter opens its card. Points are projected with the camera of the
 * moment (project.ts), so "left" is left on screen whatever the orbit.
 */
import type { Action, KeyPress, NoPayload } from '../actions/registry';
import { nearestInDirection, projectPoint, type Direction, type Mat4 } from './project';
import type { SceneApiRef } from './sceneApi';
import type { GalaxyStore } from './store';

declare module '../actions/registry' {
  interface ActionPayloads {
    'star-left': NoPayload;
    'star-right': NoPayload;
    'star-up': NoPayload;
    'star-down': NoPayload;
    'open-star': NoPayload;
  }
}

const arrows: Record<string, Direction> = {
  ArrowLeft: 'left',
  ArrowRight: 'right',
  ArrowUp: 'up',
  ArrowDown: 'down',
};

/** Point p's place on the canvas into `out`; false when it is behind the camera or off it. */
function placeOf(
  m: Mat4,
  positions: ArrayLike<number>,
  p: number,
  width: number,
  height: number,
  out: [number, number],
): boolean {
  return (
    projectPoint(
      m,
      positions[p * 3] ?? 0,
      positions[p * 3 + 1] ?? 0,
      positions[p * 3 + 2] ?? 0,
      width,
      height,
      out,
    ) &&
    out[0] >= 0 &&
    out[0] <= width &&
    out[1] >= 0 &&
    out[1] <= height
  );
}

/** Every point's place on screen now (NaN where it is behind the camera or off the canvas). */
function projectAll(
  store: GalaxyStore,
  api: SceneApiRef['current'],
): { xs: Float32Array; ys: Float32Array; width: number; height: number } | null {
  const positions = store.map?.positions;
  if (!api || !positions) return null;
  const m = api.viewProjection();
  const { width, height } = api.size();
  const n = store.count;
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  const out: [number, number] = [0, 0];
  for (let p = 0; p < n; p++) {
    const on = placeOf(m, positions, p, width, height, out);
    xs[p] = on ? out[0] : NaN;
    ys[p] = on ? out[1] : NaN;
  }
  return { xs, ys, width, height };
}

/** Point p's place on the canvas now (CSS pixels), or null when it is not on screen. */
export function starOnScreen(
  store: GalaxyStore,
  api: SceneApiRef['current'],
  p: number,
): [number, number] | null {
  const positions = store.map?.positions;
  if (!api || !positions || p < 0) return null;
  const { width, height } = api.size();
  const out: [number, number] = [0, 0];
  return placeOf(api.viewProjection(), positions, p, width, height, out) ? out : null;
}

/** Whether a key event is for the galaxy itself (focused), not a control over it. */
const onGalaxy = (e: KeyPress): boolean =>
  !e.ctrlKey &&
  !e.metaKey &&
  !e.altKey &&
  e.target instanceof HTMLElement &&
  e.target.classList.contains('galaxy-view');

export function starActions(store: GalaxyStore, apiRef: SceneApiRef): Action[] {
  const move = (dir: Direction): void => {
    const seen = projectAll(store, apiRef.current);
    if (!seen) return;
    const { xs, ys } = seen;
    let from = store.hoveredPoint;
    if (from < 0 || Number.isNaN(xs[from] ?? NaN)) {
      // the first press: the open card's star if it is on screen, else the one nearest the middle
      const open = store.focused !== null ? store.pointOf(store.focused) : -1;
      from = open >= 0 && !Number.isNaN(xs[open] ?? NaN) ? open : -1;
      if (from < 0) {
        let best = Infinity;
        for (let p = 0; p < xs.length; p++) {
          const d = Math.hypot(
            (xs[p] as number) - seen.width / 2,
            (ys[p] as number) - seen.height / 2,
          );
          if (d < best) {
            best = d;
            from = p;
          }
        }
      }
      if (from < 0) return;
      store.setHoveredPoint(from);
      return;
    }
    const next = nearestInDirection(xs, ys, from, xs[from] as number, ys[from] as number, dir);
    if (next === null) return;
    store.setHoveredPoint(next);
  };
  return [
    ...(Object.entries(arrows) as [string, Direction][]).map(([key, dir]): Action => ({
      name: `star-${dir}` as const,
      label: `Move to the nearest star ${dir === 'up' ? 'above' : dir === 'down' ? 'below' : `to the ${dir}`}`,
      shortcut: (e) => onGalaxy(e) && e.key === key,
      perform: () => move(dir),
    })),
    {
      name: 'open-star',
      label: 'Open the card of the keyboard’s star',
      shortcut: (e) => onGalaxy(e) && e.key === 'Enter',
      enabled: () => store.hoveredPoint >= 0,
      perform: () => store.focus(store.featureOf(store.hoveredPoint), { select: true }),
    },
  ];
}
