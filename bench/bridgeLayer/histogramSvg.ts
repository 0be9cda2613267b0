/**
 * A stacked bar histogram as a standalone SVG (no dependencies), for the bridge figures: bins
 * on [0, 1] along x, one colour per series, counts on a linear y axis, labelled ticks and a
 * legend. Also the same histogram as monospace text for notes and FIGURES.md.
 */

export interface HistogramSeries {
  name: string;
  colour: string;
  /** [bins] counts */
  counts: number[];
}

export interface HistogramFigure {
  title: string;
  xLabel: string;
  /** labels under x = 0, 0.5 and 1 */
  xTicks: [string, string, string];
  series: HistogramSeries[];
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Values in [0, 1] counted into `bins` equal bins (1 falls in the last). */
export function binCounts(values: readonly number[], bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(v * bins)));
    counts[b] = (counts[b] as number) + 1;
  }
  return counts;
}

export function histogramSvg(f: HistogramFigure): string {
  const W = 760;
  const H = 360;
  const left = 60;
  const right = 20;
  const top = 50;
  const bottom = 60;
  const bins = f.series[0]?.counts.length ?? 0;
  const totals = Array.from({ length: bins }, (_, b) =>
    f.series.reduce((t, s) => t + (s.counts[b] ?? 0), 0),
  );
  const max = Math.max(1, ...totals);
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const bw = plotW / Math.max(1, bins);
  const y = (v: number): number => top + plotH - (v / max) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(f.title)}</text>`,
  ];
  for (let b = 0; b < bins; b++) {
    let base = 0;
    for (const s of f.series) {
      const c = s.counts[b] ?? 0;
      if (c > 0)
        out.push(
          `<rect x="${(left + b * bw + 0.5).toFixed(1)}" y="${y(base + c).toFixed(1)}" width="${Math.max(0.5, bw - 1).toFixed(1)}" height="${(y(base) - y(base + c)).toFixed(1)}" fill="${s.colour}"/>`,
        );
      base += c;
    }
  }
  out.push(
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`,
  );
  const step = 10 ** Math.floor(Math.log10(max));
  const tick = max / step >= 5 ? step : step / 2 >= 1 ? step / 2 : step;
  for (let v = 0; v <= max; v += tick)
    out.push(
      `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`,
      `<line x1="${left - 3}" y1="${y(v).toFixed(1)}" x2="${left}" y2="${y(v).toFixed(1)}" stroke="#333"/>`,
    );
  f.xTicks.forEach((label, i) => {
    const x = left + (plotW * i) / 2;
    out.push(
      `<text x="${x}" y="${top + plotH + 18}" text-anchor="${i === 0 ? 'start' : i === 2 ? 'end' : 'middle'}">${esc(label)}</text>`,
    );
  });
  out.push(
    `<text x="${left + plotW / 2}" y="${H - 14}" text-anchor="middle">${esc(f.xLabel)}</text>`,
  );
  f.series.forEach((s, i) => {
    const x = left + 12 + i * 250;
    out.push(
      `<rect x="${x}" y="${top - 14}" width="12" height="12" fill="${s.colour}"/>`,
      `<text x="${x + 18}" y="${top - 4}">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The histogram as text: one line per bin, a bar of '#' per series' share of the largest bin. */
export function histogramText(f: HistogramFigure, width = 50): string {
  const bins = f.series[0]?.counts.length ?? 0;
  const totals = Array.from({ length: bins }, (_, b) =>
    f.series.reduce((t, s) => t + (s.counts[b] ?? 0), 0),
  );
  const max = Math.max(1, ...totals);
  const marks = ['#', '=', '+', '.'];
  const lines = [
    `${f.title}  (${f.series.map((s, i) => `${marks[i % marks.length]} ${s.name}`).join(', ')})`,
  ];
  for (let b = 0; b < bins; b++) {
    const lo = (b / bins).toFixed(3);
    const hi = ((b + 1) / bins).toFixed(3);
    let bar = '';
    for (const [i, s] of f.series.entries())
      bar += (marks[i % marks.length] as string).repeat(
        Math.round(((s.counts[b] ?? 0) / max) * width),
      );
    lines.push(`${lo}–${hi} ${String(totals[b]).padStart(5)} ${bar}`);
  }
  lines.push(`x: ${f.xLabel} (0 = ${f.xTicks[0]}, 1 = ${f.xTicks[2]})`);
  return lines.join('\n');
}
