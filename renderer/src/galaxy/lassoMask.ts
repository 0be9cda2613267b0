/**
 * The lasso at scale: the polygon is rasterised once into a screen-space mask over its
 * bounding box (each cell outside, inside, or on the boundary), then every point is projected
 * and looked up in the mask; only points in boundary cells are tested exactly (even-odd,
 * against the edges of their mask row). The answer equals pointInPolygon's for every point:
 * a cell no edge comes within `eps` of lies wholly on one side, so its centre's parity is
 * every point's parity there. All buffers are kept and grown, so a call allocates nothing
 * (the hits go into a buffer the caller passes). With a PointGrid, whole cells are decided by
 * their projected boxes (outside the mask: skipped; inside cells only: taken without
 * projecting a point), so only cells the polygon's boundary crosses cost per point.
 * Pure: no DOM, no three.
 */
import type { PointGrid } from './pointGrid';
import type { LassoQuery } from './project';

/** Mask cell values. */
const OUT = 0;
const IN = 1;
const EDGE = 2;

/** At most this many mask cells (the cell side grows for a bigger polygon). */
const MAX_CELLS = 1 << 18;

function grownF64(a: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> {
  return a.length >= n ? a : new Float64Array(Math.max(n, a.length * 2));
}
function grownI32(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  return a.length >= n ? a : new Int32Array(Math.max(n, a.length * 2));
}
function grownU8(a: Uint8Array<ArrayBuffer>, n: number): Uint8Array<ArrayBuffer> {
  return a.length >= n ? a : new Uint8Array(Math.max(n, a.length * 2));
}

export class MaskLasso {
  private mask = new Uint8Array(0);
  /** Per mask row, [rowStart[r], rowStart[r+1]) slots in `edges` (4 numbers a slot). */
  private rowStart = new Int32Array(0);
  private fill = new Int32Array(0);
  private edges = new Float64Array(0);
  private xs = new Float64Array(0);
  private poly = new Float64Array(0);
  private cols = 0;
  private rows = 0;
  private minX = 0;
  private minY = 0;
  private maxX = 0;
  private maxY = 0;
  private cell = 1;
  private inv = 1;
  private eps = 0;
  private satIn = new Int32Array(0);
  private satOut = new Int32Array(0);
  private flags = new Uint8Array(0);
  private lsx = new Float64Array(0);
  private lsy = new Float64Array(0);
  private lok = new Uint8Array(0);
  private readonly corners = new Int32Array(8);
  /** Figures of the last call, for the bench and tests. */
  lastBoundaryTests = 0;
  lastProjected = 0;

  /**
   * Writes the indices (ascending) of the points whose projection lies inside the polygon
   * into `out` (length ≥ the point count) and returns how many.
   */
  resolve(positions: Float32Array, q: LassoQuery, out: Uint32Array, grid?: PointGrid): number {
    const n = Math.floor(positions.length / 3);
    if (out.length < n) throw new Error(`lasso: the hit buffer holds ${out.length} < ${n}`);
    this.lastBoundaryTests = 0;
    this.lastProjected = 0;
    if (q.polygon.length < 6) return 0;
    if (!this.rasterise(q.polygon)) return 0;
    if (!grid || grid.items.length !== n) return this.scan(positions, q, out, null, 0, n);
    this.flags = grownU8(this.flags, n);
    const flags = this.flags;
    flags.fill(0, 0, n);
    this.buildSats();
    this.projectLattice(grid, q);
    const { nx, ny, nz, start, items } = grid;
    const { lsx, lsy, lok, minX, maxX, minY, maxY, inv, cols, eps } = this;
    const lastCol = cols - 1;
    const lastRow = this.rows - 1;
    const sx1 = nx + 1;
    const sxy = (nx + 1) * (ny + 1);
    const corners = this.corners;
    corners.set([0, 1, sx1, sx1 + 1, sxy, sxy + 1, sxy + sx1, sxy + sx1 + 1]);
    for (let iz = 0, c = 0; iz < nz; iz++) {
      for (let iy = 0; iy < ny; iy++) {
        for (let ix = 0; ix < nx; ix++, c++) {
          const a = start[c] as number;
          const b = start[c + 1] as number;
          if (a === b) continue;
          const v0 = (iz * (ny + 1) + iy) * sx1 + ix;
          let ok = true;
          let x0 = Infinity;
          let x1 = -Infinity;
          let y0 = Infinity;
          let y1 = -Infinity;
          for (let k = 0; k < 8; k++) {
            const v = v0 + (corners[k] as number);
            if (lok[v] === 0) {
              ok = false;
              break;
            }
            const x = lsx[v] as number;
            const y = lsy[v] as number;
            if (x < x0) x0 = x;
            if (x > x1) x1 = x;
            if (y < y0) y0 = y;
            if (y > y1) y1 = y;
          }
          if (ok) {
            x0 -= eps;
            x1 += eps;
            y0 -= eps;
            y1 += eps;
            if (x1 < minX || x0 > maxX || y1 < minY || y0 > maxY) continue;
            const c0 = Math.floor((Math.max(x0, minX) - minX) * inv);
            const c1 = Math.min(lastCol, Math.floor((Math.min(x1, maxX) - minX) * inv));
            const r0 = Math.floor((Math.max(y0, minY) - minY) * inv);
            const r1 = Math.min(lastRow, Math.floor((Math.min(y1, maxY) - minY) * inv));
            const area = (c1 - c0 + 1) * (r1 - r0 + 1);
            if (this.sum(this.satOut, c0, c1, r0, r1) === area) continue;
            if (
              x0 >= minX &&
              x1 <= maxX &&
              y0 >= minY &&
              y1 <= maxY &&
              this.sum(this.satIn, c0, c1, r0, r1) === area
            ) {
              for (let k = a; k < b; k++) flags[items[k] as number] = 1;
              continue;
            }
          }
          this.scan(grid.sorted, q, null, items, a, b);
        }
      }
    }
    let found = 0;
    for (let i = 0; i < n; i++) if (flags[i] !== 0) out[found++] = i;
    return found;
  }

  /**
   * Tests points one by one: slots [a, b) of `positions`, which are the points themselves,
   * or with `items` the grid's sorted positions (slot t shows point items[t]); writes hits to
   * `out` when given, else sets `flags`. Returns the hits written.
   */
  private scan(
    positions: Float32Array,
    q: LassoQuery,
    out: Uint32Array | null,
    items: Uint32Array | null,
    a: number,
    b: number,
  ): number {
    const m = q.matrix;
    const m0 = m[0] as number;
    const m1 = m[1] as number;
    const m2 = m[2] as number;
    const m3 = m[3] as number;
    const m4 = m[4] as number;
    const m5 = m[5] as number;
    const m6 = m[6] as number;
    const m7 = m[7] as number;
    const m8 = m[8] as number;
    const m9 = m[9] as number;
    const m10 = m[10] as number;
    const m11 = m[11] as number;
    const m12 = m[12] as number;
    const m13 = m[13] as number;
    const m14 = m[14] as number;
    const m15 = m[15] as number;
    const { width, height } = q;
    const { minX, maxX, minY, maxY, inv, cols, mask, flags } = this;
    const lastCol = cols - 1;
    const lastRow = this.rows - 1;
    let found = 0;
    let tests = 0;
    this.lastProjected += b - a;
    // projectPoint's arithmetic, in the same order, so the same screen positions.
    for (let t = a; t < b; t++) {
      const i = items ? (items[t] as number) : t;
      const k = t * 3;
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
      let cx = ((sx - minX) * inv) | 0;
      let cy = ((sy - minY) * inv) | 0;
      if (cx > lastCol) cx = lastCol;
      if (cy > lastRow) cy = lastRow;
      const v = mask[cy * cols + cx];
      let hit = v === IN;
      if (v === EDGE) {
        tests++;
        hit = this.exact(cy, sx, sy);
      }
      if (!hit) continue;
      if (out) out[found++] = i;
      else flags[i] = 1;
    }
    this.lastBoundaryTests += tests;
    return found;
  }

  /** Sum over mask cells [c0, c1] × [r0, r1] of a summed-area table. */
  private sum(sat: Int32Array, c0: number, c1: number, r0: number, r1: number): number {
    const w = this.cols + 1;
    return (
      (sat[(r1 + 1) * w + c1 + 1] as number) -
      (sat[r0 * w + c1 + 1] as number) -
      (sat[(r1 + 1) * w + c0] as number) +
      (sat[r0 * w + c0] as number)
    );
  }

  /** Summed-area tables of the inside cells and of the outside cells. */
  private buildSats(): void {
    const { cols, rows, mask } = this;
    const w = cols + 1;
    const size = w * (rows + 1);
    this.satIn = grownI32(this.satIn, size);
    this.satOut = grownI32(this.satOut, size);
    const si = this.satIn;
    const so = this.satOut;
    si.fill(0, 0, w);
    so.fill(0, 0, w);
    for (let r = 0; r < rows; r++) {
      let ri = 0;
      let ro = 0;
      const at = (r + 1) * w;
      si[at] = 0;
      so[at] = 0;
      for (let c = 0; c < cols; c++) {
        const v = mask[r * cols + c];
        if (v === IN) ri++;
        else if (v === OUT) ro++;
        si[at + c + 1] = (si[at - w + c + 1] as number) + ri;
        so[at + c + 1] = (so[at - w + c + 1] as number) + ro;
      }
    }
  }

  /** Projects the grid's lattice once: screen x, y and whether the vertex is in the depth range. */
  private projectLattice(grid: PointGrid, q: LassoQuery): void {
    const { xs, ys, zs, nx, ny, nz } = grid;
    const count = (nx + 1) * (ny + 1) * (nz + 1);
    this.lsx = grownF64(this.lsx, count);
    this.lsy = grownF64(this.lsy, count);
    this.lok = grownU8(this.lok, count);
    const m = q.matrix;
    const e = (i: number): number => m[i] as number;
    const { width, height } = q;
    let v = 0;
    for (let iz = 0; iz <= nz; iz++) {
      const z = zs[iz] as number;
      for (let iy = 0; iy <= ny; iy++) {
        const y = ys[iy] as number;
        for (let ix = 0; ix <= nx; ix++, v++) {
          const x = xs[ix] as number;
          const cw = e(3) * x + e(7) * y + e(11) * z + e(15);
          const cz = e(2) * x + e(6) * y + e(10) * z + e(14);
          // A margin inside the depth range, so no point of a box whose corners pass fails it.
          if (!(cw > 0) || cz <= -cw * (1 - 1e-9) || cz >= cw * (1 - 1e-9)) {
            this.lok[v] = 0;
            continue;
          }
          this.lok[v] = 1;
          this.lsx[v] = ((e(0) * x + e(4) * y + e(8) * z + e(12)) / cw) * 0.5 * width + 0.5 * width;
          this.lsy[v] = (0.5 - ((e(1) * x + e(5) * y + e(9) * z + e(13)) / cw) * 0.5) * height;
        }
      }
    }
  }

  /** Even-odd test against the edges listed for mask row `r` (pointInPolygon's formula). */
  private exact(r: number, px: number, py: number): boolean {
    const c = this.edges;
    let inside = false;
    for (
      let k = (this.rowStart[r] as number) * 4, end = (this.rowStart[r + 1] as number) * 4;
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

  /** Mask row range an edge's padded y-span touches. */
  private rowLo(y: number): number {
    return Math.max(0, Math.floor((y - this.eps - this.minY) * this.inv));
  }
  private rowHi(y: number): number {
    return Math.min(this.rows - 1, Math.floor((y + this.eps - this.minY) * this.inv));
  }

  /** Builds the mask and the per-row edge lists; false for a degenerate polygon. */
  private rasterise(polygon: ArrayLike<number>): boolean {
    const nv = polygon.length >> 1;
    this.poly = grownF64(this.poly, nv * 2);
    const p = this.poly;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < nv * 2; i += 2) {
      const x = polygon[i] as number;
      const y = polygon[i + 1] as number;
      if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
      p[i] = x;
      p[i + 1] = y;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    const bw = maxX - minX;
    const bh = maxY - minY;
    this.minX = minX;
    this.minY = minY;
    this.maxX = maxX;
    this.maxY = maxY;
    const scale = Math.max(
      1,
      bw,
      bh,
      Math.abs(minX),
      Math.abs(minY),
      Math.abs(maxX),
      Math.abs(maxY),
    );
    this.eps = 1e-6 * scale;
    this.cell = Math.max(1, Math.sqrt(((bw + 1) * (bh + 1)) / MAX_CELLS));
    this.inv = 1 / this.cell;
    this.cols = Math.floor(bw * this.inv) + 1;
    this.rows = Math.floor(bh * this.inv) + 1;
    const cols = this.cols;
    const rows = this.rows;

    // Per-row edge lists (counting sort of the edges by the rows their padded span touches).
    this.rowStart = grownI32(this.rowStart, rows + 1);
    this.fill = grownI32(this.fill, rows + 1);
    const start = this.rowStart;
    start.fill(0, 0, rows + 1);
    for (let i = 0; i < nv; i++) {
      const j = i === 0 ? nv - 1 : i - 1;
      const ya = p[i * 2 + 1] as number;
      const yb = p[j * 2 + 1] as number;
      const hi = this.rowHi(Math.max(ya, yb));
      for (let r = this.rowLo(Math.min(ya, yb)); r <= hi; r++)
        start[r + 1] = (start[r + 1] as number) + 1;
    }
    for (let r = 0; r < rows; r++) start[r + 1] = (start[r + 1] as number) + (start[r] as number);
    const total = start[rows] as number;
    this.edges = grownF64(this.edges, total * 4);
    const e = this.edges;
    const fill = this.fill;
    fill.set(start.subarray(0, rows + 1));
    for (let i = 0; i < nv; i++) {
      const j = i === 0 ? nv - 1 : i - 1;
      const xi = p[i * 2] as number;
      const yi = p[i * 2 + 1] as number;
      const xj = p[j * 2] as number;
      const yj = p[j * 2 + 1] as number;
      const hi = this.rowHi(Math.max(yi, yj));
      for (let r = this.rowLo(Math.min(yi, yj)); r <= hi; r++) {
        const at = (fill[r] as number) * 4;
        e[at] = xi;
        e[at + 1] = yi;
        e[at + 2] = xj;
        e[at + 3] = yj;
        fill[r] = (fill[r] as number) + 1;
      }
    }

    // Inside cells: per row, the crossings at the row's centre line, filled pairwise.
    this.mask = grownU8(this.mask, cols * rows);
    const mask = this.mask;
    mask.fill(OUT, 0, cols * rows);
    this.xs = grownF64(this.xs, nv + 1);
    const xs = this.xs;
    const cell = this.cell;
    for (let r = 0; r < rows; r++) {
      const yc = minY + (r + 0.5) * cell;
      let k = 0;
      for (let s = (start[r] as number) * 4, end = (start[r + 1] as number) * 4; s < end; s += 4) {
        const xi = e[s] as number;
        const yi = e[s + 1] as number;
        const xj = e[s + 2] as number;
        const yj = e[s + 3] as number;
        if (yi > yc !== yj > yc) {
          // Insertion keeps the crossings sorted.
          const x = ((xj - xi) * (yc - yi)) / (yj - yi) + xi;
          let at = k++;
          while (at > 0 && (xs[at - 1] as number) > x) {
            xs[at] = xs[at - 1] as number;
            at--;
          }
          xs[at] = x;
        }
      }
      const row = r * cols;
      for (let a = 0; a + 1 < k; a += 2) {
        // Cells whose centre lies between the two crossings.
        const c0 = Math.max(0, Math.ceil(((xs[a] as number) - minX) * this.inv - 0.5));
        const c1 = Math.min(cols - 1, Math.floor(((xs[a + 1] as number) - minX) * this.inv - 0.5));
        if (c1 >= c0) mask.fill(IN, row + c0, row + c1 + 1);
      }
    }

    // Boundary cells: every cell an edge comes within eps of (per row, the edge's x-range
    // over the row's padded y-band).
    const eps = this.eps;
    for (let i = 0; i < nv; i++) {
      const j = i === 0 ? nv - 1 : i - 1;
      const x0 = p[i * 2] as number;
      const y0 = p[i * 2 + 1] as number;
      const x1 = p[j * 2] as number;
      const y1 = p[j * 2 + 1] as number;
      const ylo = Math.min(y0, y1);
      const yhi = Math.max(y0, y1);
      const hi = this.rowHi(yhi);
      for (let r = this.rowLo(ylo); r <= hi; r++) {
        const bandLo = Math.max(ylo, minY + r * cell - eps);
        const bandHi = Math.min(yhi, minY + (r + 1) * cell + eps);
        let xa: number;
        let xb: number;
        if (y1 === y0) {
          xa = x0;
          xb = x1;
        } else {
          const t0 = (bandLo - y0) / (y1 - y0);
          const t1 = (bandHi - y0) / (y1 - y0);
          xa = x0 + (x1 - x0) * t0;
          xb = x0 + (x1 - x0) * t1;
        }
        const lo = Math.max(0, Math.floor((Math.min(xa, xb) - eps - minX) * this.inv));
        const hiC = Math.min(cols - 1, Math.floor((Math.max(xa, xb) + eps - minX) * this.inv));
        if (hiC >= lo) mask.fill(EDGE, r * cols + lo, r * cols + hiC + 1);
      }
    }
    return true;
  }
}
