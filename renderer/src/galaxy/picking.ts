/**
 * Picking on the CPU, without drawing anything: the pointer's ray is walked through the
 * PointGrid, and only the points in cells within the widest star's reach of the ray are
 * projected and tested with the star shader's own size rule (the disc under the pointer,
 * the nearest star winning, as the depth test would). Without a grid yet (the worker builds
 * it), every drawn point is tested. No allocation per pick.
 */
import { Matrix4, Vector3, type PerspectiveCamera } from 'three';
import type { PointGrid } from './pointGrid';
import { STATE } from './store';

/** What picking needs to know about the stars. */
export interface PickSource {
  positions: Float32Array;
  /** World size per point (the aSize attribute). */
  sizes: Float32Array;
  /** The store's state bytes (selected, dimmed, active, highlight). */
  state: Uint8Array;
  /** The hovered point (drawn bigger), or −1. */
  hovered: number;
  anySelected: boolean;
  anyActive: boolean;
  /** Whether point i is drawn now (level of detail). */
  drawn(i: number): boolean;
}

/** The star's diameter in CSS pixels: the vertex shader's starSize() without the pixel ratio. */
export function starPixels(
  size: number,
  depth: number,
  scale: number,
  state: Uint8Array,
  i: number,
  hovered: boolean,
): number {
  let px = Math.min(18, Math.max(2, (size * scale) / Math.max(depth, 1e-4)));
  if ((state[i * 4 + STATE.selected] as number) > 127) px = Math.max(px * 1.35, 7);
  const b = (state[i * 4 + STATE.active] as number) / 255;
  if (b > 0) px *= 1 + 0.6 * b;
  if (hovered) px = Math.max(px * 1.6, 12);
  return px;
}

export class CpuPicker {
  private readonly vp = new Matrix4();
  private readonly origin = new Vector3();
  private readonly dir = new Vector3();
  private stamp = new Uint32Array(0);
  private tick = 0;
  private best = -1;
  private bestDepth = Infinity;
  /** Points tested by the last pick (for the bench). */
  lastTested = 0;

  /**
   * The star under (x, y) in CSS pixels of a width × height canvas, or null. `scale` is CSS
   * pixels per world unit at distance 1 (the shader's uScale).
   */
  pick(
    src: PickSource,
    grid: PointGrid | undefined,
    camera: PerspectiveCamera,
    x: number,
    y: number,
    width: number,
    height: number,
    scale: number,
  ): number | null {
    camera.updateMatrixWorld();
    this.vp.multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse);
    this.best = -1;
    this.bestDepth = Infinity;
    this.lastTested = 0;
    const n = src.sizes.length; // (not the positions': their floats may not be decoded yet)
    if (!grid || grid.items.length !== n) {
      this.test(src, src.positions, null, 0, n, x, y, width, height, scale);
      return this.best < 0 ? null : this.best;
    }
    // Selected and lit stars may be drawn bigger; the hovered star is tested on its own.
    const maxPx = 18 * (src.anySelected ? 1.35 : 1) * (src.anyActive ? 1.6 : 1);
    const reach = maxPx / 2 / scale; // world units per unit of distance
    if (src.hovered >= 0 && src.hovered < n)
      this.test(src, src.positions, null, src.hovered, src.hovered + 1, x, y, width, height, scale);

    camera.getWorldPosition(this.origin);
    this.dir
      .set((x / width) * 2 - 1, 1 - (y / height) * 2, 0.5)
      .unproject(camera)
      .sub(this.origin)
      .normalize();
    const { nx, ny, nz, xs, ys, zs, start, items } = grid;
    const cells = nx * ny * nz;
    if (this.stamp.length < cells) this.stamp = new Uint32Array(cells);
    if (++this.tick === 0xffffffff) {
      this.stamp.fill(0);
      this.tick = 1;
    }
    const stamp = this.stamp;
    const x0 = xs[0] as number;
    const y0 = ys[0] as number;
    const z0 = zs[0] as number;
    const x1 = xs[nx] as number;
    const y1 = ys[ny] as number;
    const z1 = zs[nz] as number;
    const cx = (x1 - x0) / nx || 1;
    const cy = (y1 - y0) / ny || 1;
    const cz = (z1 - z0) / nz || 1;
    const step =
      0.5 * Math.min(x1 - x0 || Infinity, y1 - y0 || Infinity, z1 - z0 || Infinity, cx, cy, cz);
    const o = this.origin;
    const d = this.dir;
    // From the near plane to past the far side of the grid.
    const far =
      Math.hypot(
        Math.max(Math.abs(o.x - x0), Math.abs(o.x - x1)),
        Math.max(Math.abs(o.y - y0), Math.abs(o.y - y1)),
        Math.max(Math.abs(o.z - z0), Math.abs(o.z - z1)),
      ) + step;
    for (let t = camera.near; t <= far; t += step) {
      const px = o.x + d.x * t;
      const py = o.y + d.y * t;
      const pz = o.z + d.z * t;
      const r = reach * (t + step) + step;
      if (px + r < x0 || px - r > x1 || py + r < y0 || py - r > y1 || pz + r < z0 || pz - r > z1)
        continue;
      const ix0 = Math.max(0, Math.floor((px - r - x0) / cx));
      const ix1 = Math.min(nx - 1, Math.floor((px + r - x0) / cx));
      const iy0 = Math.max(0, Math.floor((py - r - y0) / cy));
      const iy1 = Math.min(ny - 1, Math.floor((py + r - y0) / cy));
      const iz0 = Math.max(0, Math.floor((pz - r - z0) / cz));
      const iz1 = Math.min(nz - 1, Math.floor((pz + r - z0) / cz));
      for (let iz = iz0; iz <= iz1; iz++) {
        for (let iy = iy0; iy <= iy1; iy++) {
          for (let ix = ix0; ix <= ix1; ix++) {
            const c = (iz * ny + iy) * nx + ix;
            if (stamp[c] === this.tick) continue;
            stamp[c] = this.tick;
            const a = start[c] as number;
            const b = start[c + 1] as number;
            if (a < b) this.test(src, grid.sorted, items, a, b, x, y, width, height, scale);
          }
        }
      }
    }
    return this.best < 0 ? null : this.best;
  }

  /** Tests slots [a, b) of `pos` (point items[t], or t itself without items). */
  private test(
    src: PickSource,
    pos: Float32Array,
    items: Uint32Array | null,
    a: number,
    b: number,
    x: number,
    y: number,
    width: number,
    height: number,
    scale: number,
  ): void {
    const e = this.vp.elements;
    const { sizes, state, hovered } = src;
    this.lastTested += b - a;
    for (let t = a; t < b; t++) {
      const i = items ? (items[t] as number) : t;
      if (!src.drawn(i)) continue;
      const k = t * 3;
      const px = pos[k] as number;
      const py = pos[k + 1] as number;
      const pz = pos[k + 2] as number;
      const cw =
        (e[3] as number) * px + (e[7] as number) * py + (e[11] as number) * pz + (e[15] as number);
      if (cw <= 0) continue;
      const nz =
        ((e[2] as number) * px +
          (e[6] as number) * py +
          (e[10] as number) * pz +
          (e[14] as number)) /
        cw;
      if (nz < -1 || nz > 1 || nz >= this.bestDepth) continue;
      const sx =
        ((((e[0] as number) * px +
          (e[4] as number) * py +
          (e[8] as number) * pz +
          (e[12] as number)) /
          cw) *
          0.5 +
          0.5) *
        width;
      const sy =
        (0.5 -
          (((e[1] as number) * px +
            (e[5] as number) * py +
            (e[9] as number) * pz +
            (e[13] as number)) /
            cw) *
            0.5) *
        height;
      const dx = sx - x;
      const dy = sy - y;
      if (dx * dx + dy * dy > 1300) continue; // beyond the biggest possible star
      const r = starPixels(sizes[i] as number, cw, scale, state, i, i === hovered) / 2;
      if (dx * dx + dy * dy > r * r) continue;
      this.best = i;
      this.bestDepth = nz;
    }
  }
}
