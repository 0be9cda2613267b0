/**
 * The library's command-line tools (open, add-sae): a long call run as a job of the app, its
 * progress drawn as one line redrawn in place, Ctrl-C cancelling it.
 */
import type { Progress, Result } from '../../preload/contract';
import type { OrreryApp } from '../app/compose';
import { progressLine } from '../cli/terminal';

export function bar(p: Progress, started: number): string {
  const stage = p.stage.length > 44 ? `${p.stage.slice(0, 43)}…` : p.stage.padEnd(44);
  return progressLine(stage, p.done, p.total, started);
}

/** Dispatches `call` as job `jobId` with a progress line; Ctrl-C cancels the job. */
export async function dispatchJob(
  app: OrreryApp,
  call: string,
  input: Record<string, unknown>,
  jobId: string,
): Promise<Result<unknown>> {
  const started = performance.now();
  const off = app.events.subscribe((m) => {
    if (m.event === 'job.progress' && m.payload.jobId === jobId)
      process.stdout.write(bar(m.payload, started));
  });
  process.once('SIGINT', () => {
    void app.dispatcher.dispatch('jobs.cancel', { jobId });
  });
  try {
    return await app.dispatcher.dispatch(call, { ...input, jobId });
  } finally {
    off();
    process.stdout.write('\n');
  }
}
