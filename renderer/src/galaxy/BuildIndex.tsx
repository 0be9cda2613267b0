/** "Build the index": index.build as a job, with a progress bar and cancel. */
import { useEffect, useState } from 'react';
import type { Progress } from '../../../preload/contract';
import { getClient } from '../api/client';

export function BuildIndex({
  packId,
  saeId,
  onBuilt,
}: {
  packId: string;
  saeId: string;
  onBuilt: () => void;
}) {
  const [jobId, setJobId] = useState<string | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!jobId) return;
    return getClient().on('job.progress', (p) => {
      if (p.jobId === jobId) setProgress(p);
    });
  }, [jobId]);

  const start = async (): Promise<void> => {
    const id = `index-${Date.now().toString(36)}`;
    setError(null);
    setProgress(null);
    setJobId(id);
    const r = await getClient().call('index.build', { packId, saeId, jobId: id });
    setJobId(null);
    if (r.ok) onBuilt();
    else
      setError(
        r.error.code === 'cancelled'
          ? 'Cancelled. Building again resumes where it stopped.'
          : r.error.message,
      );
  };

  const pct = progress && progress.total > 0 ? (100 * progress.done) / progress.total : 0;
  return (
    <div className="galaxy-build" data-testid="build-index">
      {jobId ? (
        <>
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
          <button type="button" onClick={() => void getClient().call('jobs.cancel', { jobId })}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" className="primary" onClick={() => void start()}>
          Build the index
        </button>
      )}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
