/**
 * Cluster labels without overlap: greedy by cluster size in screen space. The biggest
 * clusters claim their rectangles first; a label that would overlap one already placed is
 * skipped. Zoomed out, the budget shrinks, so fewer labels show. Pure.
 */

export interface LabelCandidate {
  id: number;
  size: number;
  /** Anchor in CSS pixels (the label is centred on it). */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedLabel {
  id: number;
  left: number;
  top: number;
}

function overlaps(
  a: PlacedLabel & { w: number; h: number },
  b: PlacedLabel & { w: number; h: number },
  pad: number,
): boolean {
  return (
    a.left < b.left + b.w + pad &&
    b.left < a.left + a.w + pad &&
    a.top < b.top + b.h + pad &&
    b.top < a.top + a.h + pad
  );
}

export function placeLabels(
  candidates: readonly LabelCandidate[],
  opts: { width: number; height: number; budget: number; pad?: number },
): PlacedLabel[] {
  const pad = opts.pad ?? 4;
  const sorted = [...candidates].sort((a, b) => b.size - a.size || a.id - b.id);
  const placed: (PlacedLabel & { w: number; h: number })[] = [];
  for (const c of sorted) {
    if (placed.length >= opts.budget) break;
    const box = {
      id: c.id,
      left: c.x - c.width / 2,
      top: c.y - c.height / 2,
      w: c.width,
      h: c.height,
    };
    if (
      box.left < 0 ||
      box.top < 0 ||
      box.left + box.w > opts.width ||
      box.top + box.h > opts.height
    )
      continue;
    if (placed.some((p) => overlaps(p, box, pad))) continue;
    placed.push(box);
  }
  return placed.map(({ id, left, top }) => ({ id, left, top }));
}

/**
 * How many labels the zoom allows: `base` at the reset distance, more closer in, fewer
 * farther out (never under 1 when there is a cluster).
 */
export function labelBudget(base: number, resetDistance: number, distance: number): number {
  const zoom = resetDistance / Math.max(distance, 1e-6);
  return Math.max(1, Math.round(base * Math.min(3, zoom * zoom)));
}

/**
 * A label's width in CSS pixels, generous so the text fits (no DOM measuring): 7.4 px per
 * character at 12 px (wide sans fonts included) plus padding and border. The button is
 * capped at this width, so it never covers more than the box the placement reserved.
 */
export function estimateWidth(text: string, charPx = 7.4): number {
  return Math.ceil(text.length * charPx) + 18;
}

/**
 * The cluster hierarchy for labels: each cluster's parent is the nearest bigger cluster, and
 * its separation is the world distance to it (Infinity for the biggest). A label shows once
 * its separation spans `minSeparationPx` on screen, so zoomed out only the big, well
 * separated clusters are named, and their neighbours appear as the camera flies in.
 */
export function clusterSeparation(
  clusters: readonly { x: number; y: number; z: number; size: number; id: number }[],
): Float64Array {
  const sep = new Float64Array(clusters.length).fill(Infinity);
  clusters.forEach((c, i) => {
    for (const o of clusters) {
      if (o === c) continue;
      const bigger = o.size > c.size || (o.size === c.size && o.id < c.id);
      if (!bigger) continue;
      const d = Math.hypot(o.x - c.x, o.y - c.y, o.z - c.z);
      if (d < (sep[i] as number)) sep[i] = d;
    }
  });
  return sep;
}

/**
 * Label placement without allocation per frame: candidates in a fixed size order, boxes in
 * typed arrays; reserved rectangles (the toolbar, panels) are never covered; no two placed
 * labels overlap. `placed` holds the cluster indices placed, `left`/`top` their boxes.
 */
export class LabelLayout {
  readonly placed: Int32Array;
  readonly left: Float64Array;
  readonly top: Float64Array;
  count = 0;
  private readonly order: Int32Array;
  private readonly sep: Float64Array;
  private readonly boxes: Float64Array;

  constructor(
    private readonly clusters: readonly {
      x: number;
      y: number;
      z: number;
      size: number;
      id: number;
    }[],
    private readonly widths: readonly number[],
    private readonly height: number,
  ) {
    const k = clusters.length;
    this.placed = new Int32Array(k);
    this.left = new Float64Array(k);
    this.top = new Float64Array(k);
    this.boxes = new Float64Array(k * 4);
    this.sep = clusterSeparation(clusters);
    this.order = Int32Array.from(
      clusters
        .map((c, i) => ({ i, size: c.size, id: c.id }))
        .sort((a, b) => b.size - a.size || a.id - b.id)
        .map((c) => c.i),
    );
  }

  /**
   * Places labels for a view: `m` projection × view (column-major), a width × height canvas
   * in CSS px, `scale` CSS px per world unit at distance 1; `reserved` holds `reservedCount`
   * rectangles as left, top, right, bottom.
   */
  place(
    m: ArrayLike<number>,
    width: number,
    height: number,
    scale: number,
    reserved: Float64Array,
    reservedCount: number,
    opts: { minSeparationPx?: number; pad?: number; max?: number } = {},
  ): number {
    const minSep = opts.minSeparationPx ?? 110;
    const pad = opts.pad ?? 4;
    const max = opts.max ?? 24;
    const h = this.height;
    const b = this.boxes;
    let count = 0;
    for (let o = 0; o < this.order.length && count < max; o++) {
      const i = this.order[o] as number;
      const c = this.clusters[i];
      if (!c) continue;
      const cw =
        (m[3] as number) * c.x +
        (m[7] as number) * c.y +
        (m[11] as number) * c.z +
        (m[15] as number);
      if (cw <= 0) continue;
      const cz =
        (m[2] as number) * c.x +
        (m[6] as number) * c.y +
        (m[10] as number) * c.z +
        (m[14] as number);
      if (cz < -cw || cz > cw) continue;
      if (((this.sep[i] as number) * scale) / cw < minSep) continue;
      const sx =
        ((((m[0] as number) * c.x +
          (m[4] as number) * c.y +
          (m[8] as number) * c.z +
          (m[12] as number)) /
          cw) *
          0.5 +
          0.5) *
        width;
      const sy =
        (0.5 -
          (((m[1] as number) * c.x +
            (m[5] as number) * c.y +
            (m[9] as number) * c.z +
            (m[13] as number)) /
            cw) *
            0.5) *
        height;
      const w = this.widths[i] ?? 80;
      const l = sx - w / 2;
      const t = sy - h / 2;
      if (l < 0 || t < 0 || l + w > width || t + h > height) continue;
      let clear = true;
      for (let r = 0; r < reservedCount && clear; r++) {
        const q = r * 4;
        if (
          l < (reserved[q + 2] as number) + pad &&
          (reserved[q] as number) < l + w + pad &&
          t < (reserved[q + 3] as number) + pad &&
          (reserved[q + 1] as number) < t + h + pad
        )
          clear = false;
      }
      for (let p = 0; p < count && clear; p++) {
        const q = p * 4;
        if (
          l < (b[q + 2] as number) + pad &&
          (b[q] as number) < l + w + pad &&
          t < (b[q + 3] as number) + pad &&
          (b[q + 1] as number) < t + h + pad
        )
          clear = false;
      }
      if (!clear) continue;
      b[count * 4] = l;
      b[count * 4 + 1] = t;
      b[count * 4 + 2] = l + w;
      b[count * 4 + 3] = t + h;
      this.placed[count] = i;
      this.left[count] = l;
      this.top[count] = t;
      count++;
    }
    this.count = count;
    return count;
  }
}
