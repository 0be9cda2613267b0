/**
 * The lasso layer: an SVG over the canvas. A free shape is drawn while the pointer is down
 * (the path is written straight to the element, no React state per move); on release the
 * worker resolves the points inside and the store applies them: Shift adds, Alt subtracts.
 */
import { useEffect, useRef } from 'react';
import { runAction } from '../actions/registry';
import type { LassoResolver } from './lassoClient';
import { modeFromKeys } from './project';
import type { SceneApiRef } from './sceneApi';
import type { GalaxyStore } from './store';

interface Props {
  enabled: boolean;
  store: GalaxyStore;
  apiRef: SceneApiRef;
  resolverRef: { current: LassoResolver | null };
  /** The lassoed features open in the selection panel (not on a second galaxy). */
  openSelection?: boolean;
  onResolved?: (ms: number, hits: number) => void;
}

export function Lasso({
  enabled,
  store,
  apiRef,
  resolverRef,
  openSelection = true,
  onResolved,
}: Props) {
  const svg = useRef<SVGSVGElement>(null);
  const path = useRef<SVGPathElement>(null);
  const points = useRef<number[] | null>(null);

  const draw = (): void => {
    const p = points.current;
    const el = path.current;
    if (!el) return;
    if (!p || p.length < 2) {
      el.setAttribute('d', '');
      return;
    }
    let d = `M${p[0]},${p[1]}`;
    for (let i = 2; i < p.length; i += 2) d += `L${p[i]},${p[i + 1]}`;
    el.setAttribute('d', `${d}Z`);
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape' && points.current) {
        points.current = null;
        draw();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const local = (e: React.PointerEvent): [number, number] => {
    const r = svg.current?.getBoundingClientRect() ?? { left: 0, top: 0 };
    return [e.clientX - r.left, e.clientY - r.top];
  };

  return (
    <svg
      ref={svg}
      className={`galaxy-lasso${enabled ? ' on' : ''}`}
      data-testid="galaxy-lasso"
      onPointerDown={(e) => {
        if (!enabled || e.button !== 0) return;
        e.currentTarget.setPointerCapture(e.pointerId);
        points.current = local(e);
        draw();
      }}
      onPointerMove={(e) => {
        if (!points.current) return;
        points.current.push(...local(e));
        draw();
      }}
      onPointerUp={(e) => {
        const poly = points.current;
        points.current = null;
        draw();
        const scene = apiRef.current;
        const resolver = resolverRef.current;
        if (!poly || poly.length < 6 || !scene || !resolver) return;
        const mode = modeFromKeys(e);
        const { width, height } = scene.size();
        void resolver.resolve(scene.viewProjection(), width, height, poly).then((r) => {
          // run at once (the hits are the resolver's buffer, reused by its next lasso)
          void runAction('select-stars', { points: r.hits, mode });
          onResolved?.(r.ms, r.hits.length);
          // the lassoed features open in the selection panel (an emptied selection closes it)
          if (!openSelection) return;
          const features = store.selectedFeatures();
          if (features.length > 0) void runAction('open-selection', { features, origin: 'lasso' });
          else void runAction('close-selection');
        });
      }}
      onPointerCancel={() => {
        points.current = null;
        draw();
      }}
    >
      <path ref={path} d="" />
    </svg>
  );
}
