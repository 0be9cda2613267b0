/**
 * The star field as plain three.js objects: one THREE.Points (one draw call) with the star
 * material, its ID-pass picker, and the per-frame uniforms. React holds one per map and calls
 * its methods; nothing here re-renders anything.
 */
import { MathUtils, Points, type PerspectiveCamera, type WebGLRenderer } from 'three';
import { makeStarGeometry, uploadState } from './geometry';
import type { GalaxyMap } from './mapData';
import { Picker } from './picking';
import { makeStarMaterial } from './shaders';
import type { GalaxyStore } from './store';

export class StarField {
  readonly points: Points;
  private readonly material = makeStarMaterial();
  private readonly picker: Picker;

  constructor(map: GalaxyMap, state: Uint8Array) {
    const geometry = makeStarGeometry(map, state);
    this.points = new Points(geometry, this.material);
    this.points.frustumCulled = false;
    this.picker = new Picker(geometry, this.material.uniforms);
  }

  /** Takes the store's changes: the dirty state range, the hovered point, "anything active". */
  sync(store: GalaxyStore): void {
    const range = store.takeDirty();
    if (range) uploadState(this.points.geometry, range);
    this.material.uniforms.uHover.value = store.hoveredPoint;
    this.material.uniforms.uAnyActive.value = store.activeCount > 0 ? 1 : 0;
  }

  /** Per frame: star sizes follow the viewport height and the field of view. */
  frame(camera: PerspectiveCamera, heightCss: number, pixelRatio: number): void {
    const u = this.material.uniforms;
    u.uScale.value = heightCss / (2 * Math.tan(MathUtils.degToRad(camera.fov) / 2));
    u.uPixelRatio.value = pixelRatio;
  }

  pick(
    gl: WebGLRenderer,
    camera: PerspectiveCamera,
    x: number,
    y: number,
    w: number,
    h: number,
  ): number | null {
    return this.picker.pick(gl, camera, x, y, w, h);
  }

  dispose(): void {
    this.picker.dispose();
    this.points.geometry.dispose();
    this.material.dispose();
  }
}
