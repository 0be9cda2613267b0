/**
 * A uniform 3D grid over the map's points, built once per map (a counting sort, no per-query
 * allocation): the lasso culls or takes whole cells by their projected boxes, and the hover
 * pick tests only the points in cells along the pointer's ray. Every point lies inside the
 * closed box of its cell (checked against the lattice in float64, not just floor()). Pure.
 */
export interface PointGridParts {
  nx: number;
  ny: number;
  nz: number;
  xs: Float64Array;
  ys: Float64Array;
  zs: Float64Array;
  start: Uint32Array;
  items: Uint32Array;
  sorted: Float32Array;
}

export class PointGrid implements PointGridParts {
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  /** Lattice coordinates per axis (n + 1 each): cell i spans [xs[i], xs[i + 1]]. */
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  readonly zs: Float64Array;
  /** Cell c holds items[start[c] .. start[c + 1]); c = (iz·ny + iy)·nx + ix. */
  readonly start: Uint32Array;
  readonly items: Uint32Array;
  /** Positions in `items` order (xyz of items[k] at 3k), so a cell's points are read in a row. */
  readonly sorted: Float32Array;

  /** A grid over `positions`, or one rebuilt from another's parts (sent by a worker). */
  constructor(positions: Float32Array | PointGridParts, perCell = 32, maxDim = 64) {
    if (!(positions instanceof Float32Array)) {
      ({
        nx: this.nx,
        ny: this.ny,
        nz: this.nz,
        xs: this.xs,
        ys: this.ys,
        zs: this.zs,
        start: this.start,
        items: this.items,
        sorted: this.sorted,
      } = positions);
      return;
    }
    const n = Math.floor(positions.length / 3);
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < n * 3; i += 3) {
      for (let d = 0; d < 3; d++) {
        const v = positions[i + d] as number;
        if (v < (lo[d] as number)) lo[d] = v;
        if (v > (hi[d] as number)) hi[d] = v;
      }
    }
    if (n === 0) {
      lo.fill(0);
      hi.fill(0);
    }
    const ext = lo.map((l, d) => (hi[d] as number) - l);
    const vol = ext.reduce((a, e) => a * Math.max(e, 1e-9), 1);
    const size = Math.cbrt(vol / Math.max(1, n / perCell));
    const dims = ext.map((e) =>
      Math.max(1, Math.min(maxDim, Math.ceil(e / Math.max(size, 1e-12)))),
    );
    [this.nx, this.ny, this.nz] = dims as [number, number, number];
    const lattice = (d: number): Float64Array => {
      const k = dims[d] as number;
      const a = new Float64Array(k + 1);
      for (let i = 0; i <= k; i++) a[i] = (lo[d] as number) + ((ext[d] as number) * i) / k;
      a[k] = hi[d] as number;
      return a;
    };
    this.xs = lattice(0);
    this.ys = lattice(1);
    this.zs = lattice(2);
    const cells = this.nx * this.ny * this.nz;
    this.start = new Uint32Array(cells + 1);
    this.items = new Uint32Array(n);
    const cellOf = new Uint32Array(n);
    const axis = (v: number, a: Float64Array, k: number, l: number, e: number): number => {
      let i = e > 0 ? Math.floor(((v - l) / e) * k) : 0;
      if (i < 0) i = 0;
      if (i > k - 1) i = k - 1;
      while (i > 0 && v < (a[i] as number)) i--;
      while (i < k - 1 && v > (a[i + 1] as number)) i++;
      return i;
    };
    const [lx = 0, ly = 0, lz = 0] = lo;
    const [ex = 0, ey = 0, ez = 0] = ext;
    for (let i = 0; i < n; i++) {
      const ix = axis(positions[i * 3] as number, this.xs, this.nx, lx, ex);
      const iy = axis(positions[i * 3 + 1] as number, this.ys, this.ny, ly, ey);
      const iz = axis(positions[i * 3 + 2] as number, this.zs, this.nz, lz, ez);
      const c = (iz * this.ny + iy) * this.nx + ix;
      cellOf[i] = c;
      this.start[c + 1] = (this.start[c + 1] as number) + 1;
    }
    for (let c = 0; c < cells; c++)
      this.start[c + 1] = (this.start[c + 1] as number) + (this.start[c] as number);
    const fill = this.start.slice(0, cells);
    for (let i = 0; i < n; i++) {
      const c = cellOf[i] as number;
      this.items[fill[c] as number] = i;
      fill[c] = (fill[c] as number) + 1;
    }
    this.sorted = new Float32Array(n * 3);
    for (let k = 0; k < n; k++) {
      const i = (this.items[k] as number) * 3;
      this.sorted[k * 3] = positions[i] as number;
      this.sorted[k * 3 + 1] = positions[i + 1] as number;
      this.sorted[k * 3 + 2] = positions[i + 2] as number;
    }
  }

  get cells(): number {
    return this.nx * this.ny * this.nz;
  }

  /** Copies of the arrays (for sending to the page, transferred). */
  copyParts(): PointGridParts {
    return {
      nx: this.nx,
      ny: this.ny,
      nz: this.nz,
      xs: this.xs.slice(),
      ys: this.ys.slice(),
      zs: this.zs.slice(),
      start: this.start.slice(),
      items: this.items.slice(),
      sorted: this.sorted.slice(),
    };
  }
}

/** The grid of each map, once the lasso worker has built it (picking uses it). */
const grids = new WeakMap<object, PointGrid>();

export function gridFor(map: object): PointGrid | undefined {
  return grids.get(map);
}

export function setGridFor(map: object, grid: PointGrid): void {
  grids.set(map, grid);
}
