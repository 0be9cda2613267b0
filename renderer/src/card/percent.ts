/** A share (0…1) as a percentage with two significant digits: "0.86%", "34%", "100%". */
export function percent(d: number): string {
  if (d === 0) return '0%';
  const p = d * 100;
  if (p < 0.01) return `${p.toExponential(1)}%`;
  // toPrecision(2) writes 100 as "1.0e+2".
  return p >= 10 ? `${Math.round(p)}%` : `${p.toPrecision(2)}%`;
}
