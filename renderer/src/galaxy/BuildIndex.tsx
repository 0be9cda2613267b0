/**
 * "Build the index": index.build as a job, with a progress bar and cancel. With `autoStart`
 * (a pack that came with the app and has no index yet) the build starts by itself the first
 * time the pack is shown in a session; after a cancel or an error it waits for the button.
 */
import { useEffect, useRef, useState } from 'react';
import { getClient } from '../api/client';
import { useJob } from '../api/useJob';
import { ProgressBar } from '../components/ProgressBar';
import { corpusRef } from './featureCache';

/** Packs and SAEs whose build this session already started by itself. */
const autoStarted = new Set<string>();

export function BuildIndex({
  packId,
  saeId,
  corpus = null,
  onBuilt,
  autoStart = false,
}: {
  packId: string;
  saeId: string;
  /** A folder of the person's own examples to build over; null: the pack's own. */
  corpus?: string | null;
  /** After a build: the folder's files that could not be used, "file: why". */
  onBuilt: (skipped: string[]) => void;
  autoStart?: boolean;
}) {
  const job = useJob();
  const [error, setError] = useState<string | null>(null);
  const startRef = useRef<() => Promise<void>>(async () => {});

  const start = async (): Promise<void> => {
    setError(null);
    const r = await job.run('index', (jobId) =>
      getClient().call('index.build', { packId, saeId, ...corpusRef(corpus), jobId }),
    );
    if (r.ok) onBuilt(r.value.skipped ?? []);
    else
      setError(
        r.error.code === 'cancelled'
          ? 'Cancelled. Building again resumes where it stopped.'
          : r.error.message,
      );
  };

  useEffect(() => {
    startRef.current = start;
  });
  useEffect(() => {
    const key = `${packId}#${saeId}`;
    if (!autoStart || autoStarted.has(key)) return;
    autoStarted.add(key);
    void startRef.current();
  }, [autoStart, packId, saeId]);

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
          {corpus ? 'Build the index over this folder' : 'Build the index'}
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
