/**
 * Cluster label placement by zoom level, run in useFrame (labels.ts LabelLayout: a cluster is
 * named once its distance to the nearest bigger cluster spans enough pixels, so flying in
 * reveals the smaller ones), never overlapping each other or the toolbar and panels. Nothing
 * is allocated per frame: the view is compared number by number, the layout works in typed
 * arrays, and an element's transform is written only when its place changes. Lives with the
 * canvas (it needs three); ClusterLabels.tsx renders the buttons.
 */
import { useFrame, useThree } from '@react-three/fiber';
import { useMemo } from 'react';
import { MathUtils, Matrix4, type PerspectiveCamera } from 'three';
import { estimateWidth, LabelLayout } from './labels';
import type { GalaxyMap } from './mapData';
import type { LabelEls } from './ClusterLabels';

const vp = new Matrix4();
/** DOM layers over the canvas that labels keep clear of. */
const RESERVED = '.galaxy-hud > *, .galaxy-filters, .galaxy-sae, .selection-launch > *';
/** How often the reserved rectangles are measured (they move only with layout). */
const MEASURE_MS = 500;

/** Places the labels of one map; keeps every buffer between frames. */
class LabelPlacer {
  private readonly layout: LabelLayout;
  private readonly last = new Float64Array(19).fill(NaN);
  private readonly reserved = new Float64Array(4 * 16);
  private reservedCount = 0;
  private measuredAt = -Infinity;
  /** Per cluster index: shown now, the last written position, placed this time. */
  private readonly shown: Uint8Array;
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  private readonly stamp: Uint8Array;

  constructor(private readonly map: GalaxyMap) {
    const k = map.clusters.length;
    this.layout = new LabelLayout(
      map.clusters,
      map.clusters.map((c) => estimateWidth(c.label)),
      20,
    );
    this.shown = new Uint8Array(k);
    this.x = new Float64Array(k).fill(NaN);
    this.y = new Float64Array(k).fill(NaN);
    this.stamp = new Uint8Array(k);
  }

  /** The reserved rectangles relative to the labels layer (left, top, right, bottom). */
  private measure(layer: HTMLElement | null): void {
    this.reservedCount = 0;
    // the selection's launcher lies over the galaxy from outside it, in the page's grid
    const host = layer?.ownerDocument;
    if (!layer || !host) return;
    const base = layer.getBoundingClientRect();
    for (const el of host.querySelectorAll(RESERVED)) {
      if (this.reservedCount * 4 >= this.reserved.length) break;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const q = this.reservedCount++ * 4;
      this.reserved[q] = r.left - base.left;
      this.reserved[q + 1] = r.top - base.top;
      this.reserved[q + 2] = r.right - base.left;
      this.reserved[q + 3] = r.bottom - base.top;
    }
  }

  frame(
    cam: PerspectiveCamera,
    width: number,
    height: number,
    els: Map<number, HTMLElement>,
  ): void {
    cam.updateMatrixWorld();
    vp.multiplyMatrices(cam.projectionMatrix, cam.matrixWorldInverse);
    const e = vp.elements;
    const last = this.last;
    const now = performance.now();
    const remeasure = now - this.measuredAt > MEASURE_MS;
    let same = !remeasure;
    for (let i = 0; i < 16 && same; i++) same = last[i] === e[i];
    same &&= last[16] === width && last[17] === height && last[18] === els.size;
    if (same) return;
    for (let i = 0; i < 16; i++) last[i] = e[i] as number;
    last[16] = width;
    last[17] = height;
    last[18] = els.size;
    if (remeasure) {
      const first = els.values().next();
      this.measure(first.done ? null : first.value.parentElement);
      this.measuredAt = now;
    }
    const scale = height / (2 * Math.tan(MathUtils.degToRad(cam.fov) / 2));
    const layout = this.layout;
    const n = layout.place(e, width, height, scale, this.reserved, this.reservedCount);
    const clusters = this.map.clusters;
    this.stamp.fill(0);
    for (let k = 0; k < n; k++) {
      const i = layout.placed[k] as number;
      this.stamp[i] = 1;
      const el = els.get(clusters[i]?.id ?? -1);
      if (!el) continue;
      const x = Math.round(layout.left[k] as number);
      const y = Math.round(layout.top[k] as number);
      if (!this.shown[i]) {
        el.style.display = '';
        this.shown[i] = 1;
      }
      if (this.x[i] !== x || this.y[i] !== y) {
        el.style.transform = `translate(${x}px, ${y}px)`;
        this.x[i] = x;
        this.y[i] = y;
      }
    }
    for (let i = 0; i < this.shown.length; i++) {
      if (this.shown[i] && !this.stamp[i]) {
        const el = els.get(clusters[i]?.id ?? -1);
        if (el) el.style.display = 'none';
        this.shown[i] = 0;
      }
    }
  }
}

export function useLabelPlacer(map: GalaxyMap, labelsRef: LabelEls): void {
  const size = useThree((s) => s.size);
  const placer = useMemo(() => new LabelPlacer(map), [map]);
  useFrame(({ camera }) => {
    placer.frame(camera as PerspectiveCamera, size.width, size.height, labelsRef.current);
  });
}
