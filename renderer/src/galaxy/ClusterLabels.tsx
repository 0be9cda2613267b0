/**
 * Cluster labels: DOM buttons over the canvas (clickable, fly to the cluster), placed in
 * useFrame without overlap, greedy by size, fewer when zoomed out. Positions are written
 * straight to the elements; React renders the buttons once per map.
 */
import { useFrame, useThree } from '@react-three/fiber';
import { useRef } from 'react';
import { Matrix4, type PerspectiveCamera } from 'three';
import type { OrbitControls as OrbitControlsImpl } from 'three-stdlib';
import {
  estimateWidth,
  labelBudget,
  placeLabels,
  type LabelCandidate,
  type PlacedLabel,
} from './labels';
import type { GalaxyMap } from './mapData';
import { projectPoint } from './project';
import type { GalaxyStore } from './store';

export type LabelEls = { current: Map<number, HTMLElement> };

const vp = new Matrix4();
const out: [number, number] = [0, 0];

/** Shows the placed labels where they go and hides the rest (straight DOM writes). */
function showPlaced(els: Map<number, HTMLElement>, placed: PlacedLabel[]): void {
  const shown = new Map(placed.map((p) => [p.id, p]));
  for (const [id, el] of els) {
    const p = shown.get(id);
    if (!p) {
      el.style.display = 'none';
      continue;
    }
    el.style.display = '';
    el.style.transform = `translate(${Math.round(p.left)}px, ${Math.round(p.top)}px)`;
  }
}

export function useLabelPlacer(map: GalaxyMap, labelsRef: LabelEls): void {
  const size = useThree((s) => s.size);
  const last = useRef('');
  useFrame(({ camera, controls: c }) => {
    const controls = c as OrbitControlsImpl | null;
    const cam = camera as PerspectiveCamera;
    cam.updateMatrixWorld();
    vp.multiplyMatrices(cam.projectionMatrix, cam.matrixWorldInverse);
    const key = `${vp.elements.join(',')}|${size.width}|${size.height}|${labelsRef.current.size}`;
    if (key === last.current) return;
    last.current = key;
    const distance = controls ? cam.position.distanceTo(controls.target) : map.bounds.radius * 2.6;
    const cands: LabelCandidate[] = [];
    for (const c of map.clusters) {
      if (!projectPoint(vp.elements, c.x, c.y, c.z, size.width, size.height, out)) continue;
      cands.push({
        id: c.id,
        size: c.size,
        x: out[0],
        y: out[1],
        width: estimateWidth(c.label),
        height: 20,
      });
    }
    const placed = placeLabels(cands, {
      width: size.width,
      height: size.height,
      budget: labelBudget(8, map.bounds.radius * 2.6, distance),
    });
    showPlaced(labelsRef.current, placed);
  });
}

export function ClusterLabels({
  map,
  labelsRef,
  store,
}: {
  map: GalaxyMap;
  labelsRef: LabelEls;
  store: GalaxyStore;
}) {
  return (
    <div className="galaxy-labels" aria-label="Clusters">
      {map.clusters.map((c) => (
        <button
          key={c.id}
          type="button"
          className="galaxy-label"
          style={{ display: 'none', maxWidth: estimateWidth(c.label) + 8 }}
          ref={(el) => {
            if (el) labelsRef.current.set(c.id, el);
            else labelsRef.current.delete(c.id);
          }}
          onClick={() => store.flyToCluster(c.id)}
          title={`${c.label} · ${c.size} features`}
        >
          {c.label}
        </button>
      ))}
    </div>
  );
}
