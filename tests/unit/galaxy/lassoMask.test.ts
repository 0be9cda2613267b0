/**
 * The mask lasso against an independent reference: every point projected with projectPoint
 * and tested with the plain even-odd pointInPolygon. Random shapes (self-crossing included),
 * points exactly on vertices and edges, horizontal edges, repeated vertices, zero-area and
 * sub-pixel polygons, polygons reaching off the canvas, points behind the camera, and one
 * MaskLasso reused across all calls (its buffers kept).
 */
import { Matrix4, PerspectiveCamera } from 'three';
import { describe, expect, it } from 'vitest';
import { MaskLasso } from '../../../renderer/src/galaxy/lassoMask';
import { PointGrid } from '../../../renderer/src/galaxy/pointGrid';
import { pointInPolygon, projectPoint } from '../../../renderer/src/galaxy/project';

function reference(
  positions: Float32Array,
  m: ArrayLike<number>,
  w: number,
  h: number,
  poly: number[],
): number[] {
  const out: [number, number] = [0, 0];
  const want: number[] = [];
  for (let i = 0; i < positions.length / 3; i++) {
    const [x = 0, y = 0, z = 0] = positions.subarray(i * 3, i * 3 + 3);
    if (!projectPoint(m, x, y, z, w, h, out)) continue;
    if (poly.length >= 6 && pointInPolygon(out[0], out[1], poly)) want.push(i);
  }
  return want;
}

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

const lasso = new MaskLasso();
const hits = new Uint32Array(70_000);

const grids = new WeakMap<Float32Array, PointGrid>();

/** The mask lasso's answer, checked to be the same without and with a grid (small cells). */
function resolve(
  positions: Float32Array,
  m: ArrayLike<number>,
  w: number,
  h: number,
  poly: number[],
): number[] {
  const q = { matrix: m, width: w, height: h, polygon: poly };
  const plain = Array.from(hits.subarray(0, lasso.resolve(positions, q, hits)));
  let grid = grids.get(positions);
  if (!grid) grids.set(positions, (grid = new PointGrid(positions, 8)));
  const gridded = Array.from(hits.subarray(0, lasso.resolve(positions, q, hits, grid)));
  expect(gridded).toEqual(plain);
  return plain;
}

/**
 * A matrix under which point (a / 512 − 1, 1 − b / 512, 0) lands exactly on pixel (a, b) of a
 * 1024 × 1024 canvas, so integer polygons pass exactly through points.
 */
const FLAT = new Matrix4().toArray();
function gridPoints(cells: number[][]): Float32Array {
  const p = new Float32Array(cells.length * 3);
  cells.forEach(([a = 0, b = 0], i) => {
    p[i * 3] = a / 512 - 1;
    p[i * 3 + 1] = 1 - b / 512;
  });
  return p;
}

describe('MaskLasso', () => {
  it('puts grid points exactly where the test expects them', () => {
    const out: [number, number] = [0, 0];
    expect(projectPoint(FLAT, 37 / 512 - 1, 1 - 91 / 512, 0, 1024, 1024, out)).toBe(true);
    expect(out).toEqual([37, 91]);
  });

  it('selects exactly the points inside random shapes, points on vertices and edges included', () => {
    const rand = rng(3);
    // Every integer pixel of a 200 × 160 patch (32k points).
    const cells: number[][] = [];
    for (let b = 100; b < 260; b += 1) for (let a = 100; a < 300; a += 1) cells.push([a, b]);
    const positions = gridPoints(cells);
    let checked = 0;
    for (let shape = 0; shape < 40; shape++) {
      const n = 3 + Math.floor(rand() * (shape % 3 === 0 ? 60 : 12));
      const poly: number[] = [];
      for (let k = 0; k < n; k++) {
        const x = 90 + rand() * 220;
        const y = 90 + rand() * 180;
        // Integers most of the time: vertices on points, edges through rows of points.
        poly.push(...(shape % 4 === 3 ? [x, y] : [Math.round(x), Math.round(y)]));
      }
      if (shape % 5 === 0) poly.push(poly[0] ?? 0, (poly[1] ?? 0) + 40); // a vertical edge
      if (shape % 5 === 1) poly.push(poly[0] ?? 0, poly[1] ?? 0); // a repeated vertex
      const want = reference(positions, FLAT, 1024, 1024, poly);
      const got = resolve(positions, FLAT, 1024, 1024, poly);
      expect(got).toEqual(want);
      checked += want.length;
    }
    expect(checked).toBeGreaterThan(5_000);
  });

  it('handles axis-aligned boxes, horizontal edges, slivers, zero area and sub-pixel shapes', () => {
    const cells: number[][] = [];
    for (let b = 0; b <= 20; b += 0.25) for (let a = 0; a <= 20; a += 0.25) cells.push([a, b]);
    const positions = gridPoints(cells);
    const shapes: number[][] = [
      [2, 2, 10, 2, 10, 10, 2, 10], // box: points on all four sides and corners
      [2, 2, 18, 2, 18, 3, 2, 3], // thin horizontal strip
      [5, 5, 15, 5.0000001, 10, 5], // a sliver
      [1, 1, 5, 5, 9, 9], // zero area (collinear)
      [4.1, 4.1, 4.2, 4.1, 4.15, 4.2], // smaller than a pixel
      [4, 4, 4.5, 4, 4.5, 4.5, 4, 4.5], // half-pixel box on grid points
      [0, 0, 20, 20, 20, 0, 0, 20], // bow tie
      [10, 0, 20, 10, 10, 20, 0, 10, 10, 0, 10, 10], // a diamond with a spike back
      [3, 3, 17, 3, 17, 17, 3, 17, 3, 3, 6, 6, 14, 6, 14, 14, 6, 14, 6, 6], // a frame (hole)
    ];
    for (const poly of shapes) {
      expect(resolve(positions, FLAT, 1024, 1024, poly)).toEqual(
        reference(positions, FLAT, 1024, 1024, poly),
      );
    }
    expect(resolve(positions, FLAT, 1024, 1024, [1, 1, 2, 2])).toEqual([]);
  });

  it('agrees under a perspective camera: points behind it, polygons off the canvas', () => {
    const cam = new PerspectiveCamera(50, 800 / 600, 0.5, 30);
    cam.position.set(1, 2, 6);
    cam.lookAt(0, 0, 0);
    cam.updateMatrixWorld();
    const m = new Matrix4()
      .multiplyMatrices(cam.projectionMatrix, cam.matrixWorldInverse)
      .toArray();
    const rand = rng(9);
    const positions = new Float32Array(20_000 * 3).map(() => (rand() - 0.5) * 24);
    for (let shape = 0; shape < 12; shape++) {
      const n = 3 + Math.floor(rand() * 30);
      const poly: number[] = [];
      for (let k = 0; k < n; k++) poly.push(rand() * 1200 - 200, rand() * 1000 - 200);
      const want = reference(positions, m, 800, 600, poly);
      expect(resolve(positions, m, 800, 600, poly)).toEqual(want);
    }
    // Almost the whole screen, then a tiny one: same object, same buffers.
    const big = [1, 1, 799, 1, 799, 599, 1, 599];
    const bigWant = reference(positions, m, 800, 600, big);
    expect(bigWant.length).toBeGreaterThan(1000);
    expect(resolve(positions, m, 800, 600, big)).toEqual(bigWant);
    // All in front of the camera: most inside points are taken by whole grid cells.
    const near = new Float32Array(60_000).map(() => (rand() - 0.5) * 5);
    const blob: number[] = [];
    for (let k = 0; k < 40; k++) {
      const a = (2 * Math.PI * k) / 40;
      blob.push(400 + 300 * Math.cos(a), 300 + 250 * Math.sin(a));
    }
    const nearWant = reference(near, m, 800, 600, blob);
    expect(resolve(near, m, 800, 600, blob)).toEqual(nearWant);
    expect(nearWant.length).toBeGreaterThan(10_000);
    const q = { matrix: m, width: 800, height: 600, polygon: blob };
    expect(lasso.resolve(near, q, hits, grids.get(near))).toBe(nearWant.length);
    expect(lasso.lastProjected).toBeLessThan(nearWant.length / 2);
    const tiny = [400, 300, 403, 300, 401, 302];
    expect(resolve(positions, m, 800, 600, tiny)).toEqual(reference(positions, m, 800, 600, tiny));
  });

  it('refuses a hit buffer shorter than the points', () => {
    expect(() =>
      lasso.resolve(
        new Float32Array(30),
        { matrix: FLAT, width: 8, height: 8, polygon: [0, 0, 4, 0, 0, 4] },
        new Uint32Array(3),
      ),
    ).toThrow(/hit buffer/);
  });
});
