import { useEffect, useRef, useState } from 'react';
import { getClient } from '../api/client';
import { useJob } from '../api/useJob';
import { Dialog } from './Dialog';
import { ProgressBar } from './ProgressBar';

interface Props {
  onClose: () => void;
  onImported: (id: string) => void;
}

export function ImportDialog({ onClose, onImported }: Props) {
  const [from, setFrom] = useState('');
  const job = useJob();
  const [error, setError] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const jobId = job.jobId;

  useEffect(() => inputRef.current?.focus(), []);

  const start = async (): Promise<void> => {
    setError(null);
    const r = await job.run('import', (id) =>
      getClient().call('packs.import', { from: from.trim(), jobId: id }),
    );
    if (r.ok) onImported(r.value.id);
    else setError(r.error.message);
  };

  const cancel = (): void => {
    if (jobId) job.cancel();
    else onClose();
  };

  return (
    <Dialog title="Import a model pack" onEscape={cancel}>
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
      {jobId && <ProgressBar progress={job.progress} />}
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
    </Dialog>
  );
}
