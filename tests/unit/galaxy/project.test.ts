import { Matrix4, PerspectiveCamera, Vector3 } from 'three';
import { describe, expect, it } from 'vitest';
import {
  BandedPolygon,
  modeFromKeys,
  pointInPolygon,
  projectPoint,
  resolveLasso,
} from '../../../renderer/src/galaxy/project';

function camera(): { m: number[]; cam: PerspectiveCamera } {
  const cam = new PerspectiveCamera(50, 800 / 600, 0.1, 100);
  cam.position.set(1, 2, 10);
  cam.lookAt(0, 0, 0);
  cam.updateMatrixWorld();
  const m = new Matrix4().multiplyMatrices(cam.projectionMatrix, cam.matrixWorldInverse);
  return { m: m.toArray(), cam };
}

describe('projectPoint', () => {
  it('agrees with three.js Vector3.project', () => {
    const { m, cam } = camera();
    const out: [number, number] = [0, 0];
    for (const [x, y, z] of [
      [0, 0, 0],
      [1.5, -2, 3],
      [-3, 1, -4],
    ] as const) {
      expect(projectPoint(m, x, y, z, 800, 600, out)).toBe(true);
      const v = new Vector3(x, y, z).project(cam);
      expect(out[0]).toBeCloseTo((v.x * 0.5 + 0.5) * 800, 6);
      expect(out[1]).toBeCloseTo((0.5 - v.y * 0.5) * 600, 6);
    }
  });

  it('rejects points behind the camera and beyond the far plane', () => {
    const { m } = camera();
    const out: [number, number] = [0, 0];
    expect(projectPoint(m, 1, 2, 20, 800, 600, out)).toBe(false);
    expect(projectPoint(m, -10, -20, -200, 800, 600, out)).toBe(false);
  });
});

describe('pointInPolygon', () => {
  const square = [0, 0, 10, 0, 10, 10, 0, 10];
  const ell = [0, 0, 10, 0, 10, 4, 4, 4, 4, 10, 0, 10];
  it('classifies points of a square and a concave L', () => {
    expect(pointInPolygon(5, 5, square)).toBe(true);
    expect(pointInPolygon(11, 5, square)).toBe(false);
    expect(pointInPolygon(2, 8, ell)).toBe(true);
    expect(pointInPolygon(8, 8, ell)).toBe(false);
    expect(pointInPolygon(8, 2, ell)).toBe(true);
  });
  it('uses the even-odd rule for a self-crossing bow tie', () => {
    const bow = [0, 0, 10, 10, 10, 0, 0, 10];
    expect(pointInPolygon(2, 5, bow)).toBe(true);
    expect(pointInPolygon(5, 2, bow)).toBe(false);
  });
});

describe('BandedPolygon', () => {
  it('answers exactly as the plain even-odd test, self-crossing shapes included', () => {
    let seed = 11;
    const rand = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let shape = 0; shape < 20; shape++) {
      const n = 3 + Math.floor(rand() * 40);
      const poly: number[] = [];
      for (let k = 0; k < n; k++) {
        // Integers half the time, so vertices and test points share rows and columns.
        const v = [rand() * 400, rand() * 300];
        poly.push(...(shape % 2 ? v.map(Math.round) : v));
      }
      const banded = new BandedPolygon(poly);
      let disagreements = 0;
      let inside = 0;
      for (let t = 0; t < 3000; t++) {
        const x = shape % 2 ? Math.round(rand() * 420 - 10) : rand() * 420 - 10;
        const y = shape % 2 ? Math.round(rand() * 320 - 10) : rand() * 320 - 10;
        const want = pointInPolygon(x, y, poly);
        if (want) inside++;
        if (banded.contains(x, y) !== want) disagreements++;
      }
      expect(disagreements).toBe(0);
      expect(inside).toBeGreaterThan(0);
    }
  });
});

describe('resolveLasso', () => {
  it('returns exactly the points whose projection is inside, ascending', () => {
    const { m } = camera();
    let seed = 7;
    const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 8 - 4;
    const n = 2000;
    const positions = new Float32Array(n * 3).map(() => rand());
    const polygon = [100, 80, 600, 120, 500, 500, 300, 300, 150, 450];
    const got = Array.from(
      resolveLasso(positions, { matrix: m, width: 800, height: 600, polygon }),
    );
    const want: number[] = [];
    const p: [number, number] = [0, 0];
    for (let i = 0; i < n; i++) {
      const v = new Vector3(positions[i * 3], positions[i * 3 + 1], positions[i * 3 + 2]);
      const c = camera().cam;
      v.project(c);
      if (v.z < -1 || v.z > 1) continue;
      p[0] = (v.x * 0.5 + 0.5) * 800;
      p[1] = (0.5 - v.y * 0.5) * 600;
      if (pointInPolygon(p[0], p[1], polygon)) want.push(i);
    }
    expect(want.length).toBeGreaterThan(50);
    expect(want.length).toBeLessThan(n);
    expect(got).toEqual(want);
  });

  it('returns nothing for a degenerate polygon', () => {
    const { m } = camera();
    expect(
      resolveLasso(new Float32Array(3), { matrix: m, width: 8, height: 6, polygon: [1, 1, 2, 2] }),
    ).toHaveLength(0);
  });

  it('maps modifier keys to modes', () => {
    expect(modeFromKeys({ shiftKey: false, altKey: false })).toBe('replace');
    expect(modeFromKeys({ shiftKey: true, altKey: false })).toBe('add');
    expect(modeFromKeys({ shiftKey: false, altKey: true })).toBe('subtract');
  });
});
