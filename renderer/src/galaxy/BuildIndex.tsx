/** "Build the index": index.build as a job, with a progress bar and cancel. */
import { useState } from 'react';
import { getClient } from '../api/client';
import { useJob } from '../api/useJob';
import { ProgressBar } from '../components/ProgressBar';

export function BuildIndex({
  packId,
  saeId,
  onBuilt,
}: {
  packId: string;
  saeId: string;
  onBuilt: () => void;
}) {
  const job = useJob();
  const [error, setError] = useState<string | null>(null);

  const start = async (): Promise<void> => {
    setError(null);
    const r = await job.run('index', (jobId) =>
      getClient().call('index.build', { packId, saeId, jobId }),
    );
    if (r.ok) onBuilt();
    else
      setError(
        r.error.code === 'cancelled'
          ? 'Cancelled. Building again resumes where it stopped.'
          : r.error.message,
      );
  };

  return (
    <div className="galaxy-build" data-testid="build-index">
      {job.jobId ? (
        <>
          <ProgressBar progress={job.progress} />
          <button type="button" onClick={job.cancel}>
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
