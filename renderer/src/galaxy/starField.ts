/**
 * The star field as plain three.js objects: two draw calls over one set of attributes. Pass 0
 * draws the tail of the level-of-detail order (lod.ts: the brightest stars and a random
 * sample of the rest, more as the camera flies in, all of them close up); pass 1 draws the
 * emphasised stars (selected, lit, highlighted) on top, whatever the level of detail. Picking
 * is on the CPU (picking.ts) over what is drawn. React holds one per map and calls its
 * methods; nothing here re-renders anything, and nothing allocates per frame.
 */
import { Group, MathUtils, Points, type BufferAttribute, type PerspectiveCamera } from 'three';
import {
  lookSizes,
  makeEmphasisGeometry,
  makeStarGeometry,
  packLook,
  placeQuantised,
  starBase,
  uploadState,
} from './geometry';
import { importanceOrder, importanceOrderOfLevels, lodCount, rankOf } from './lod';
import type { GalaxyMap } from './mapData';
import { CpuPicker, type PickSource } from './picking';
import { gridFor } from './pointGrid';
import { makeStarMaterial } from './shaders';
import type { GalaxyStore } from './store';

/** Points drawn per CSS pixel of the viewport at the home distance (then ∝ zoom²). */
export const LOD_PER_PIXEL = 0.05;

export class StarField {
  /** Both passes; add this to the scene. */
  readonly object = new Group();
  readonly points: Points;
  readonly emphasis: Points;
  private readonly full: Points;
  private readonly material = makeStarMaterial();
  private readonly emphasisMaterial = makeStarMaterial(this.material.uniforms);
  private readonly picker = new CpuPicker();
  private readonly rank: Uint32Array;
  private readonly n: number;
  private readonly homeDistance: number;
  private state: Uint8Array;
  /** Points drawn by pass 0 (the tail of the order). */
  drawCount: number;
  /** Points drawn by pass 1. */
  emphasisCount = 0;
  /** Fraction of a CSS pixel's worth of points to draw at home (tests and bench may change it). */
  perPixel = LOD_PER_PIXEL;
  private readonly pickSource: PickSource;

  constructor(
    private readonly map: GalaxyMap,
    state: Uint8Array,
  ) {
    this.n = map.count;
    this.state = state;
    const look = packLook(map);
    const order = map.levels
      ? importanceOrderOfLevels(map.levels.density, map.levels.densityScale)
      : importanceOrder(map.density);
    this.rank = rankOf(order);
    const base = starBase(map);
    this.material.uniforms.uBase.value = base;
    const geometry = makeStarGeometry(map, state, look, order);
    this.points = new Points(geometry, this.material);
    this.points.frustumCulled = false;
    // Every point, in index order (no index buffer): what pass 0 draws when all are shown.
    this.full = new Points(makeEmphasisGeometry(geometry, 0, false), this.material);
    this.full.frustumCulled = false;
    this.full.visible = false;
    this.emphasis = new Points(makeEmphasisGeometry(geometry, this.n), this.emphasisMaterial);
    this.emphasis.frustumCulled = false;
    this.emphasis.renderOrder = 1;
    this.object.add(this.points, this.full, this.emphasis);
    placeQuantised(this.object, map);
    this.homeDistance = map.bounds.radius * 2.6;
    this.drawCount = this.n;
    const sizes = lookSizes(look, base);
    const rank = this.rank;
    const n = this.n;
    this.pickSource = {
      // read when a pick first needs them (the floats are decoded lazily: mapData.ts)
      get positions() {
        return map.positions;
      },
      sizes,
      state,
      hovered: -1,
      anySelected: false,
      anyActive: false,
      drawn: (i: number): boolean => {
        if ((rank[i] as number) >= n - this.drawCount) return true;
        const s = this.state;
        return (
          (s[i * 4] as number) > 127 ||
          (s[i * 4 + 2] as number) > 0 ||
          (s[i * 4 + 3] as number) > 127
        );
      },
    };
  }

  /** Takes the store's changes: the dirty state range, the hovered point, "anything active". */
  sync(store: GalaxyStore): void {
    this.state = store.state;
    const range = store.takeDirty();
    if (range) {
      uploadState(this.points.geometry, range);
      this.collectEmphasis();
    }
    const src = this.pickSource;
    src.state = store.state;
    src.hovered = store.hoveredPoint;
    src.anySelected = store.selectionCount > 0;
    src.anyActive = store.activeCount > 0;
    this.material.uniforms.uHover.value = store.hoveredPoint;
    this.material.uniforms.uAnyActive.value = store.activeCount > 0 ? 1 : 0;
  }

  /** The emphasised points (selected, lit, highlighted) into pass 1's index. */
  private collectEmphasis(): void {
    const index = this.emphasis.geometry.getIndex() as BufferAttribute;
    const out = index.array as Uint32Array;
    const s = this.state;
    let k = 0;
    for (let i = 0; i < this.n; i++) {
      if (
        (s[i * 4] as number) > 127 ||
        (s[i * 4 + 2] as number) > 0 ||
        (s[i * 4 + 3] as number) > 127
      )
        out[k++] = i;
    }
    this.emphasisCount = k;
    this.emphasis.geometry.setDrawRange(0, k);
    index.clearUpdateRanges();
    if (k > 0) {
      index.addUpdateRange(0, k);
      index.needsUpdate = true;
    }
  }

  /** Per frame: star sizes follow the viewport and the field of view; the level of detail the distance. */
  frame(camera: PerspectiveCamera, heightCss: number, pixelRatio: number): void {
    const u = this.material.uniforms;
    u.uScale.value = heightCss / (2 * Math.tan(MathUtils.degToRad(camera.fov) / 2));
    u.uPixelRatio.value = pixelRatio;
    const c = this.map.bounds.center;
    const p = camera.position;
    const distance = Math.hypot(p.x - c[0], p.y - c[1], p.z - c[2]);
    const pixels = heightCss * heightCss * camera.aspect;
    this.drawCount = lodCount(this.n, distance, this.homeDistance, pixels, this.perPixel);
    this.points.geometry.setDrawRange(this.n - this.drawCount, this.drawCount);
    // All of them: drawn in memory order, which reads faster than the shuffled index.
    const all = this.drawCount >= this.n;
    this.points.visible = !all;
    this.full.visible = all;
  }

  /** The drawn star under (x, y) in CSS pixels of a width × height canvas, or null. */
  pick(
    camera: PerspectiveCamera,
    x: number,
    y: number,
    width: number,
    height: number,
  ): number | null {
    const scale = this.material.uniforms.uScale.value;
    return this.picker.pick(this.pickSource, gridFor(this.map), camera, x, y, width, height, scale);
  }

  /** Points tested by the last pick. */
  get lastPickTested(): number {
    return this.picker.lastTested;
  }

  dispose(): void {
    this.points.geometry.dispose();
    this.full.geometry.dispose();
    this.emphasis.geometry.dispose();
    this.material.dispose();
    this.emphasisMaterial.dispose();
  }
}
