/**
 * CPU picking over the grid against a brute-force reference written here (three's
 * Vector3.project, the shader's size rule restated): the same star for pointers all over the
 * screen, from near and far, with selected and lit stars and the level of detail hiding
 * points. And the level-of-detail order: a permutation with the brightest last.
 */
import { PerspectiveCamera, Vector3 } from 'three';
import { describe, expect, it } from 'vitest';
import { importanceOrder, lodCount, rankOf } from '../../../renderer/src/galaxy/lod';
import { CpuPicker, type PickSource } from '../../../renderer/src/galaxy/picking';
import { PointGrid } from '../../../renderer/src/galaxy/pointGrid';

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

const W = 640;
const H = 400;

function reference(
  src: PickSource,
  cam: PerspectiveCamera,
  x: number,
  y: number,
  scale: number,
): number | null {
  const v = new Vector3();
  const view = new Vector3();
  let best: number | null = null;
  let bestZ = Infinity;
  const n = src.positions.length / 3;
  for (let i = 0; i < n; i++) {
    if (!src.drawn(i)) continue;
    v.fromArray(src.positions, i * 3);
    view.copy(v).applyMatrix4(cam.matrixWorldInverse);
    const depth = -view.z;
    v.project(cam);
    if (depth <= 0 || v.z < -1 || v.z > 1) continue;
    const sx = (v.x * 0.5 + 0.5) * W;
    const sy = (0.5 - v.y * 0.5) * H;
    let px = Math.min(18, Math.max(2, ((src.sizes[i] ?? 0) * scale) / depth));
    if ((src.state[i * 4] ?? 0) > 127) px = Math.max(px * 1.35, 7);
    const b = (src.state[i * 4 + 2] ?? 0) / 255;
    if (b > 0) px *= 1 + 0.6 * b;
    if (i === src.hovered) px = Math.max(px * 1.6, 12);
    if (Math.hypot(sx - x, sy - y) > px / 2) continue;
    if (v.z < bestZ) {
      bestZ = v.z;
      best = i;
    }
  }
  return best;
}

describe('CpuPicker', () => {
  it('finds the same star as brute force, near and far, with states and level of detail', () => {
    const rand = rng(5);
    const n = 6000;
    const positions = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const c = i % 7;
      for (let d = 0; d < 3; d++)
        positions[i * 3 + d] = Math.sin(c * 3.1 + d) * 4 + (rand() - 0.5) * 3;
    }
    const sizes = new Float32Array(n).map(() => 0.02 + rand() * 0.08);
    const state = new Uint8Array(n * 4);
    for (let i = 0; i < n; i += 37) state[i * 4] = 255; // selected
    for (let i = 5; i < n; i += 53) state[i * 4 + 2] = 40 + (i % 200); // lit
    const order = importanceOrder(Float32Array.from(sizes));
    const rank = rankOf(order);
    let drawCount = n;
    const src: PickSource = {
      positions,
      sizes,
      state,
      hovered: 17,
      anySelected: true,
      anyActive: true,
      drawn: (i) =>
        (rank[i] ?? 0) >= n - drawCount || (state[i * 4] ?? 0) > 127 || (state[i * 4 + 2] ?? 0) > 0,
    };
    const grid = new PointGrid(positions, 8);
    const picker = new CpuPicker();
    let hits = 0;
    let checks = 0;
    for (const [dist, count] of [
      [22, n],
      [9, n],
      [3, Math.floor(n / 3)],
      [40, 500],
    ] as const) {
      drawCount = count;
      const cam = new PerspectiveCamera(50, W / H, 0.05, 200);
      cam.position.set(dist * 0.3, dist * 0.2, dist);
      cam.lookAt(0.5, 0, 0);
      cam.updateMatrixWorld();
      const scale = H / (2 * Math.tan((25 * Math.PI) / 180));
      for (let k = 0; k < 150; k++) {
        // Half the pointers right on a star, half anywhere.
        let x = rand() * W;
        let y = rand() * H;
        if (k % 2 === 0) {
          const i = Math.floor(rand() * n);
          const v = new Vector3().fromArray(positions, i * 3).project(cam);
          x = (v.x * 0.5 + 0.5) * W + (rand() - 0.5) * 3;
          y = (0.5 - v.y * 0.5) * H + (rand() - 0.5) * 3;
        }
        const want = reference(src, cam, x, y, scale);
        expect(picker.pick(src, grid, cam, x, y, W, H, scale)).toBe(want);
        expect(picker.pick(src, undefined, cam, x, y, W, H, scale)).toBe(want);
        checks++;
        if (want !== null) hits++;
      }
    }
    expect(hits).toBeGreaterThan(checks / 4);
  });
});

describe('level of detail', () => {
  it('orders every point once, the brightest last, and draws more as the camera nears', () => {
    const rand = rng(2);
    const density = new Float32Array(10_000).map(() => 10 ** (-6 + 6 * rand()));
    const order = importanceOrder(density);
    expect(new Set(order).size).toBe(density.length);
    const tail = Array.from(order.subarray(order.length - 100), (i) => density[i] ?? 0);
    const sortedDesc = [...density].sort((a, b) => b - a);
    expect(Math.min(...tail)).toBeGreaterThanOrEqual(sortedDesc[200] ?? 0);
    expect(tail).toEqual([...tail].sort((a, b) => a - b));
    const rank = rankOf(order);
    expect(rank[order[123] ?? 0]).toBe(123);
    expect(lodCount(1e6, 10, 10, 1e6, 0.05)).toBe(50_000);
    expect(lodCount(1e6, 5, 10, 1e6, 0.05)).toBe(200_000);
    expect(lodCount(1e6, 1, 10, 1e6, 0.05)).toBe(1e6);
    expect(lodCount(3000, 10, 10, 1e6, 0.05)).toBe(3000);
  });
});
