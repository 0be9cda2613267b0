/** One line of progress for the library's command-line tools (open, add-sae), redrawn in place. */
import type { Progress } from '../../preload/contract';

export function bar(p: Progress, started: number): string {
  const width = 28;
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const full = Math.round(frac * width);
  const secs = (performance.now() - started) / 1000;
  const stage = p.stage.length > 44 ? `${p.stage.slice(0, 43)}…` : p.stage.padEnd(44);
  return `\r${stage} [${'#'.repeat(full)}${'-'.repeat(width - full)}] ${p.done}/${p.total} ${secs.toFixed(1)}s `;
}
