/**
 * Screen-space geometry for the lasso: project points with a camera's projection × view
 * matrix (column-major, as three.js stores it) and test them against a polygon. Pure, so the
 * worker, the unit tests and the e2e test compute the same thing.
 */

export type Mat4 = ArrayLike<number>;

type M16 = [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

/**
 * Projects (x, y, z) to CSS pixels of a width × height canvas (origin top left). Returns
 * false for points behind the camera or outside the near/far planes.
 */
export function projectPoint(
  m: Mat4,
  x: number,
  y: number,
  z: number,
  width: number,
  height: number,
  out: [number, number],
): boolean {
  const e = (i: number): number => m[i] as number;
  const cx = e(0) * x + e(4) * y + e(8) * z + e(12);
  const cy = e(1) * x + e(5) * y + e(9) * z + e(13);
  const cz = e(2) * x + e(6) * y + e(10) * z + e(14);
  const cw = e(3) * x + e(7) * y + e(11) * z + e(15);
  if (cw <= 0) return false;
  const nz = cz / cw;
  if (nz < -1 || nz > 1) return false;
  out[0] = ((cx / cw) * 0.5 + 0.5) * width;
  out[1] = (0.5 - (cy / cw) * 0.5) * height;
  return true;
}

/** Even-odd rule; `poly` is flat [x0, y0, x1, y1, …], implicitly closed. */
export function pointInPolygon(px: number, py: number, poly: ArrayLike<number>): boolean {
  const n = poly.length >> 1;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = poly[i * 2] as number;
    const yi = poly[i * 2 + 1] as number;
    const xj = poly[j * 2] as number;
    const yj = poly[j * 2 + 1] as number;
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * The even-odd test made fast for many points: the polygon's edges are bucketed into
 * horizontal bands, and a point is tested only against the edges of its band. An edge
 * outside the band cannot cross the point's ray, so the answer equals pointInPolygon's.
 */
export class BandedPolygon {
  readonly minX: number;
  readonly maxX: number;
  readonly minY: number;
  readonly maxY: number;
  private readonly bandH: number;
  private readonly start: Int32Array;
  /** Per band slot, the edge's endpoints: xi, yi, xj, yj (vertex i and the one before it). */
  private readonly coords: Float64Array;
  private readonly bands: number;

  constructor(polygon: ArrayLike<number>) {
    const poly = Float64Array.from(polygon);
    const n = poly.length >> 1;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      const x = poly[i * 2] as number;
      const y = poly[i * 2 + 1] as number;
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
    }
    this.minX = minX;
    this.maxX = maxX;
    this.minY = minY;
    this.maxY = maxY;
    const bands = Math.max(1, Math.min(4096, Math.ceil((maxY - minY) / 2)));
    this.bandH = Math.max((maxY - minY) / bands, 1e-9);
    const span = (i: number): [number, number] => {
      const j = i === 0 ? n - 1 : i - 1;
      const a = poly[i * 2 + 1] as number;
      const b = poly[j * 2 + 1] as number;
      return [this.band(Math.min(a, b), bands), this.band(Math.max(a, b), bands)];
    };
    const count = new Int32Array(bands + 1);
    for (let i = 0; i < n; i++) {
      const [lo, hi] = span(i);
      for (let b = lo; b <= hi; b++) count[b + 1] = (count[b + 1] ?? 0) + 1;
    }
    for (let b = 0; b < bands; b++) count[b + 1] = (count[b + 1] ?? 0) + (count[b] ?? 0);
    this.start = count.slice();
    const fill = count.slice();
    this.bands = bands;
    this.coords = new Float64Array(4 * (count[bands] ?? 0));
    for (let i = 0; i < n; i++) {
      const [lo, hi] = span(i);
      const j = i === 0 ? n - 1 : i - 1;
      for (let b = lo; b <= hi; b++) {
        const at = fill[b] ?? 0;
        this.coords.set(
          [poly[i * 2] ?? 0, poly[i * 2 + 1] ?? 0, poly[j * 2] ?? 0, poly[j * 2 + 1] ?? 0],
          at * 4,
        );
        fill[b] = at + 1;
      }
    }
  }

  private band(y: number, bands: number): number {
    return Math.min(bands - 1, Math.max(0, Math.floor((y - this.minY) / this.bandH)));
  }

  contains(px: number, py: number): boolean {
    if (px < this.minX || px > this.maxX || py < this.minY || py > this.maxY) return false;
    const b = Math.min(this.bands - 1, Math.max(0, Math.floor((py - this.minY) / this.bandH)));
    const c = this.coords;
    let inside = false;
    for (
      let k = (this.start[b] as number) * 4, end = (this.start[b + 1] as number) * 4;
      k < end;
      k += 4
    ) {
      const xi = c[k] as number;
      const yi = c[k + 1] as number;
      const xj = c[k + 2] as number;
      const yj = c[k + 3] as number;
      if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
}

export interface LassoQuery {
  /** Projection × view, 16 numbers column-major. */
  matrix: Mat4;
  width: number;
  height: number;
  /** Flat polygon in CSS pixels of the canvas. */
  polygon: ArrayLike<number>;
}

/** Indices of the points whose projection lies inside the polygon, ascending. */
export function resolveLasso(positions: Float32Array, q: LassoQuery): Uint32Array {
  const n = positions.length / 3;
  if (q.polygon.length < 6) return new Uint32Array(0);
  const poly = new BandedPolygon(q.polygon);
  const { minX, maxX, minY, maxY } = poly;
  const m = Float64Array.from(q.matrix as ArrayLike<number>);
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15] =
    m as unknown as M16;
  const { width, height } = q;
  const hits = new Uint32Array(n);
  let found = 0;
  // projectPoint inlined (same arithmetic, same order, so the same answers).
  for (let i = 0; i < n; i++) {
    const k = i * 3;
    const x = positions[k] as number;
    const y = positions[k + 1] as number;
    const z = positions[k + 2] as number;
    const cw = m3 * x + m7 * y + m11 * z + m15;
    if (cw <= 0) continue;
    const nz = (m2 * x + m6 * y + m10 * z + m14) / cw;
    if (nz < -1 || nz > 1) continue;
    const sx = (((m0 * x + m4 * y + m8 * z + m12) / cw) * 0.5 + 0.5) * width;
    if (sx < minX || sx > maxX) continue;
    const sy = (0.5 - ((m1 * x + m5 * y + m9 * z + m13) / cw) * 0.5) * height;
    if (sy < minY || sy > maxY) continue;
    if (poly.contains(sx, sy)) hits[found++] = i;
  }
  return hits.slice(0, found);
}

export type SelectMode = 'replace' | 'add' | 'subtract';

export function modeFromKeys(e: { shiftKey: boolean; altKey: boolean }): SelectMode {
  if (e.altKey) return 'subtract';
  if (e.shiftKey) return 'add';
  return 'replace';
}

/** An arrow key's direction on screen (the keyboard's way between stars, starKeys.ts). */
export type Direction = 'left' | 'right' | 'up' | 'down';

/**
 * The point nearest (x, y) in a direction, among points on screen (xs, ys in CSS pixels; NaN
 * = not on screen), other than `from`: within 60° either side of the direction, by distance
 * with the sideways part counted twice; null when there is none.
 */
export function nearestInDirection(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  from: number,
  x: number,
  y: number,
  dir: Direction,
): number | null {
  let best: number | null = null;
  let bestScore = Infinity;
  const tan60 = Math.sqrt(3);
  for (let p = 0; p < xs.length; p++) {
    const px = xs[p] as number;
    const py = ys[p] as number;
    if (p === from || Number.isNaN(px)) continue;
    const dx = px - x;
    const dy = py - y;
    const ahead = dir === 'left' ? -dx : dir === 'right' ? dx : dir === 'up' ? -dy : dy;
    const aside = Math.abs(dir === 'left' || dir === 'right' ? dy : dx);
    if (ahead <= 0.5 || aside > ahead * tan60) continue;
    const score = ahead + 2 * aside;
    if (score < bestScore) {
      bestScore = score;
      best = p;
    }
  }
  return best;
}
