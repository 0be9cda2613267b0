import type { Progress } from '../../../preload/contract';

/** A job's progress: a bar and what it is doing now. */
export function ProgressBar({ progress }: { progress: Progress | null }) {
  const pct = progress && progress.total > 0 ? (100 * progress.done) / progress.total : 0;
  return (
    <div>
      <div
        className="progress"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(pct)}
      >
        <div style={{ width: `${pct}%` }} />
      </div>
      <p className="empty-note">{progress?.stage ?? 'starting…'}</p>
    </div>
  );
}
