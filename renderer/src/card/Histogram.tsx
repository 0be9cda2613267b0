/**
 * The activation histogram: log-spaced bins (bin b covers
 * [2^((b + low) / perOctave), 2^((b + 1 + low) / perOctave))), as bars with the range below.
 */
import type { FeatureCard } from '../../../preload/contract';

export function binEdge(b: number, low: number, perOctave: number): number {
  return 2 ** ((b + low) / perOctave);
}

export function Histogram({ histogram }: { histogram: FeatureCard['histogram'] }) {
  const { counts, low, perOctave } = histogram;
  // Show the bins from the first to the last non-empty one.
  const first = counts.findIndex((c) => c > 0);
  if (first < 0) return null;
  let last = counts.length - 1;
  while (last > first && (counts[last] ?? 0) === 0) last--;
  const shown = counts.slice(first, last + 1);
  const w = 280;
  const h = 56;
  const top = Math.max(1, ...shown);
  const bw = w / shown.length;
  return (
    <figure className="card-hist">
      <svg
        width={w}
        height={h + 14}
        viewBox={`0 0 ${w} ${h + 14}`}
        role="img"
        aria-label="Activation histogram"
      >
        {shown.map((c, i) => {
          // Counts span decades: bar height follows log(1 + count).
          const bh = c > 0 ? Math.max(1.5, (h * Math.log1p(c)) / Math.log1p(top)) : 0;
          return (
            <rect key={i} x={i * bw + 0.5} y={h - bh} width={Math.max(1, bw - 1)} height={bh}>
              <title>{`${c} at ${binEdge(first + i, low, perOctave).toPrecision(3)}`}</title>
            </rect>
          );
        })}
        <line x1={0} x2={w} y1={h + 0.5} y2={h + 0.5} />
        <text x={0} y={h + 12}>
          {binEdge(first, low, perOctave).toPrecision(2)}
        </text>
        <text x={w} y={h + 12} textAnchor="end">
          {binEdge(last + 1, low, perOctave).toPrecision(2)}
        </text>
      </svg>
    </figure>
  );
}
