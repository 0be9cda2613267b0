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

/** A label's width estimate in CSS pixels (no DOM measuring; 7 px per character at 12 px). */
export function estimateWidth(text: string, charPx = 6.6): number {
  return Math.ceil(text.length * charPx) + 12;
}
