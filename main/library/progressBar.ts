/** One line of progress for the library's command-line tools (open, add-sae), redrawn in place. */
import type { Progress } from '../../preload/contract';
import { progressLine } from '../cli/terminal';

export function bar(p: Progress, started: number): string {
  const stage = p.stage.length > 44 ? `${p.stage.slice(0, 43)}…` : p.stage.padEnd(44);
  return progressLine(stage, p.done, p.total, started);
}
