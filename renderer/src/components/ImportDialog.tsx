import { useEffect, useRef, useState } from 'react';
import type { Progress } from '../../../preload/contract';
import { getClient } from '../api/client';

interface Props {
  onClose: () => void;
  onImported: (id: string) => void;
}

export function ImportDialog({ onClose, onImported }: Props) {
  const [from, setFrom] = useState('');
  const [jobId, setJobId] = useState<string | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => inputRef.current?.focus(), []);
  useEffect(() => {
    if (!jobId) return;
    return getClient().on('job.progress', (p) => {
      if (p.jobId === jobId) setProgress(p);
    });
  }, [jobId]);

  const start = async (): Promise<void> => {
    const id = `import-${Date.now().toString(36)}`;
    setError(null);
    setProgress(null);
    setJobId(id);
    const r = await getClient().call('packs.import', { from: from.trim(), jobId: id });
    setJobId(null);
    if (r.ok) onImported(r.value.id);
    else setError(r.error.message);
  };

  const cancel = (): void => {
    if (jobId) void getClient().call('jobs.cancel', { jobId });
    else onClose();
  };

  return (
    <div
      className="dialog-backdrop"
      role="presentation"
      onKeyDown={(e) => e.key === 'Escape' && cancel()}
    >
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="import-title">
        <h2 id="import-title">Import a model pack</h2>
        <p className="muted">
          The folder of a pack (it holds <span className="path">manifest.json</span>) or a .zip of
          one. It is checked, then copied into your library.
        </p>
        <input
          ref={inputRef}
          aria-label="Pack folder"
          placeholder="/path/to/pack"
          value={from}
          disabled={jobId !== null}
          onChange={(e) => setFrom(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && from.trim() && void start()}
        />
        {jobId && (
          <div>
            <div
              className="progress"
              role="progressbar"
              aria-valuemin={0}
              aria-valuemax={progress?.total ?? 1}
              aria-valuenow={progress?.done ?? 0}
            >
              <div
                style={{
                  width: `${progress && progress.total > 0 ? (100 * progress.done) / progress.total : 0}%`,
                }}
              />
            </div>
            <p className="empty-note">{progress?.stage ?? 'starting…'}</p>
          </div>
        )}
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <div className="row">
          <button type="button" onClick={cancel}>
            {jobId ? 'Cancel import' : 'Close'}
          </button>
          <button
            type="button"
            className="primary"
            disabled={!from.trim() || jobId !== null}
            onClick={() => void start()}
          >
            Import
          </button>
        </div>
      </div>
    </div>
  );
}
