/**
 * A selection as a file: JSON (everything, to read back or share) or CSV (a row per feature,
 * for a spreadsheet). Pure: no DOM.
 */
import type { OpenSelection, RankedRow } from './selectionStore';

export interface ExportRow {
  feature: number;
  title: string;
  weight: number;
  /** activation on the input the panel ranked them on (null: not ranked there) */
  max: number | null;
  mean: number | null;
}

export function exportRows(
  sel: OpenSelection,
  ranked: readonly RankedRow[],
  titles: ReadonlyMap<number, string>,
): ExportRow[] {
  const byFeature = new Map(ranked.map((r) => [r.feature, r]));
  // ranked ones first (strongest first), then the rest in the selection's order
  const order = [...ranked.map((r) => r.feature), ...sel.features.filter((f) => !byFeature.has(f))];
  return order.map((feature) => ({
    feature,
    title: titles.get(feature) ?? '',
    weight: sel.weights.get(feature) ?? 1,
    max: byFeature.get(feature)?.max ?? null,
    mean: byFeature.get(feature)?.mean ?? null,
  }));
}

export function selectionJson(sel: OpenSelection, rows: readonly ExportRow[]): string {
  return JSON.stringify(
    {
      orrery: 'selection',
      version: 1,
      packId: sel.packId,
      saeId: sel.saeId,
      name: sel.name ?? '',
      origin: sel.origin,
      note: sel.note,
      features: rows,
    },
    null,
    2,
  );
}

/** RFC 4180: quote a field that holds a comma, a quote or a line break. */
function field(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function selectionCsv(rows: readonly ExportRow[]): string {
  const head = 'feature,title,weight,max_activation,mean_activation';
  return [
    head,
    ...rows.map((r) => [r.feature, r.title, r.weight, r.max, r.mean].map(field).join(',')),
  ]
    .join('\r\n')
    .concat('\r\n');
}

/** A file name from a selection's name (letters, digits, - and _). */
export function fileStem(sel: OpenSelection): string {
  const base = (sel.name ?? `${sel.origin}-selection`).replace(/[^A-Za-z0-9_-]+/g, '-');
  return base.replace(/^-+|-+$/g, '') || 'selection';
}
