/**
 * An anti-aliased scanline rasterizer for glyph outlines: exact-area coverage by signed-area
 * accumulation (the method of font-rs / stb_truetype's v2 rasterizer). Curves are flattened
 * to lines; each line adds its signed area and cover to a per-pixel accumulation buffer, and
 * a running sum along each row gives the coverage. Coverage is |winding area| clamped to 1,
 * which equals the nonzero rule wherever contours do not overlap with the same direction
 * (and saturates to full ink where they do).
 */
import type { PathCommand } from 'opentype.js';

export interface Raster {
  width: number;
  height: number;
  /** [height, width] coverage 0…1. */
  data: Float32Array;
}

/** Straight lines of a path, in pixels (y down). */
type Line = [x0: number, y0: number, x1: number, y1: number];

/** Curves to lines: `tolerance` is the largest distance (px) from a chord to the curve. */
export function flatten(commands: readonly PathCommand[], tolerance = 0.05): Line[] {
  const lines: Line[] = [];
  let sx = 0;
  let sy = 0;
  let cx = 0;
  let cy = 0;
  let open = false;
  const close = () => {
    if (open && (cx !== sx || cy !== sy)) lines.push([cx, cy, sx, sy]);
    open = false;
  };
  for (const c of commands) {
    switch (c.type) {
      case 'M':
        close();
        sx = cx = c.x;
        sy = cy = c.y;
        open = true;
        break;
      case 'L':
        if (c.x !== cx || c.y !== cy) lines.push([cx, cy, c.x, c.y]);
        cx = c.x;
        cy = c.y;
        break;
      case 'Q': {
        // deviation of a quadratic from its chord ≤ |p0 − 2p1 + p2| / 4; split into n pieces
        const dd = Math.hypot(cx - 2 * c.x1 + c.x, cy - 2 * c.y1 + c.y) / 4;
        const n = Math.max(1, Math.ceil(Math.sqrt(dd / tolerance)));
        let px = cx;
        let py = cy;
        for (let i = 1; i <= n; i++) {
          const t = i / n;
          const u = 1 - t;
          const x = u * u * cx + 2 * u * t * c.x1 + t * t * c.x;
          const y = u * u * cy + 2 * u * t * c.y1 + t * t * c.y;
          lines.push([px, py, x, y]);
          px = x;
          py = y;
        }
        cx = c.x;
        cy = c.y;
        break;
      }
      case 'C': {
        const d1 = Math.hypot(cx - 2 * c.x1 + c.x2, cy - 2 * c.y1 + c.y2);
        const d2 = Math.hypot(c.x1 - 2 * c.x2 + c.x, c.y1 - 2 * c.y2 + c.y);
        const dd = (3 / 4) * Math.max(d1, d2);
        const n = Math.max(1, Math.ceil(Math.sqrt(dd / tolerance)));
        let px = cx;
        let py = cy;
        for (let i = 1; i <= n; i++) {
          const t = i / n;
          const u = 1 - t;
          const x = u * u * u * cx + 3 * u * u * t * c.x1 + 3 * u * t * t * c.x2 + t * t * t * c.x;
          const y = u * u * u * cy + 3 * u * u * t * c.y1 + 3 * u * t * t * c.y2 + t * t * t * c.y;
          lines.push([px, py, x, y]);
          px = x;
          py = y;
        }
        cx = c.x;
        cy = c.y;
        break;
      }
      case 'Z':
        close();
        cx = sx;
        cy = sy;
        break;
    }
  }
  close();
  return lines;
}

/**
 * Rasterizes lines into a width × height coverage map. Points are in pixels, (0, 0) the
 * top-left corner of the top-left pixel; parts outside the map are clipped (horizontally by
 * clamping x, which keeps the winding right).
 */
export function rasterize(lines: readonly Line[], width: number, height: number): Raster {
  const stride = width + 2;
  const acc = new Float32Array(stride * height);
  const maxX = width; // x is clamped to [0, width]
  for (const [ax, ay, bx, by] of lines) {
    if (Math.abs(ay - by) < 1e-9) continue;
    const dir = ay < by ? 1 : -1;
    const [x0p, y0p, x1p, y1p] = ay < by ? [ax, ay, bx, by] : [bx, by, ax, ay];
    const dxdy = (x1p - x0p) / (y1p - y0p);
    let x = x0p;
    if (y0p < 0) x -= y0p * dxdy;
    const yStart = Math.max(0, Math.floor(y0p));
    const yEnd = Math.min(height, Math.ceil(y1p));
    for (let y = yStart; y < yEnd; y++) {
      const row = y * stride;
      const dy = Math.min(y + 1, y1p) - Math.max(y, y0p);
      const xnext = x + dxdy * dy;
      const d = dy * dir;
      const xa = clamp(Math.min(x, xnext), 0, maxX);
      const xb = clamp(Math.max(x, xnext), 0, maxX);
      const x0floor = Math.floor(xa);
      const x0i = x0floor;
      const x1ceil = Math.ceil(xb);
      const x1i = x1ceil;
      if (x1i <= x0i + 1) {
        const xmf = 0.5 * (xa + xb) - x0floor;
        acc[row + x0i] = (acc[row + x0i] ?? 0) + d - d * xmf;
        acc[row + x0i + 1] = (acc[row + x0i + 1] ?? 0) + d * xmf;
      } else {
        const s = 1 / (xb - xa);
        const x0f = xa - x0floor;
        const a0 = 0.5 * s * (1 - x0f) * (1 - x0f);
        const x1f = xb - x1ceil + 1;
        const am = 0.5 * s * x1f * x1f;
        acc[row + x0i] = (acc[row + x0i] ?? 0) + d * a0;
        if (x1i === x0i + 2) {
          acc[row + x0i + 1] = (acc[row + x0i + 1] ?? 0) + d * (1 - a0 - am);
        } else {
          const a1 = s * (1.5 - x0f);
          acc[row + x0i + 1] = (acc[row + x0i + 1] ?? 0) + d * (a1 - a0);
          for (let xi = x0i + 2; xi < x1i - 1; xi++) acc[row + xi] = (acc[row + xi] ?? 0) + d * s;
          const a2 = a1 + (x1i - x0i - 3) * s;
          acc[row + x1i - 1] = (acc[row + x1i - 1] ?? 0) + d * (1 - a2 - am);
        }
        acc[row + x1i] = (acc[row + x1i] ?? 0) + d * am;
      }
      x = xnext;
    }
  }
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    let sum = 0;
    for (let x = 0; x < width; x++) {
      sum += acc[y * stride + x] ?? 0;
      data[y * width + x] = Math.min(1, Math.abs(sum));
    }
  }
  return { width, height, data };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
