/**
 * "Build the bridge": bridge.build as a job between the main SAE (side a) and the other one,
 * with a progress bar and cancel; a cancelled build resumes when started again, and a refusal
 * (two SAEs the bridge cannot compare) is shown as the server words it.
 */
import { useState } from 'react';
import { getClient } from '../api/client';
import { useJob } from '../api/useJob';
import { ProgressBar } from '../components/ProgressBar';
import type { SaeRef } from './bridgeView';

export function BuildBridge({
  main,
  other,
  what,
  onBuilt,
}: {
  main: SaeRef;
  other: SaeRef;
  /** The two SAEs in words, for the lead line. */
  what: string;
  onBuilt: () => void;
}) {
  const job = useJob();
  const [error, setError] = useState<string | null>(null);

  const start = async (): Promise<void> => {
    setError(null);
    const r = await job.run('bridge', (jobId) =>
      getClient().call('bridge.build', { a: main, b: other, jobId }),
    );
    if (r.ok) onBuilt();
    else
      setError(
        r.error.code === 'cancelled'
          ? 'Cancelled. Building again resumes where it stopped.'
          : `The bridge could not be built: ${r.error.message}`,
      );
  };

  return (
    <div className="bridge-build" data-testid="build-bridge">
      <p>
        No bridge between {what} yet. A bridge matches each feature to its best features on the
        other side: by decoder direction on one stream, else by how their activations move together
        over shared examples.
      </p>
      {job.jobId ? (
        <div className="row">
          <ProgressBar progress={job.progress} />
          <button type="button" onClick={job.cancel}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" className="primary" onClick={() => void start()}>
          Build the bridge
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
