import { useState } from 'react';
import { getClient } from '../api/client';
import { useJob } from '../api/useJob';
import { Dialog, DialogActions, PathField } from './Dialog';
import { ProgressBar } from './ProgressBar';

interface Props {
  onClose: () => void;
  onImported: (id: string) => void;
}

export function ImportDialog({ onClose, onImported }: Props) {
  const [from, setFrom] = useState('');
  const job = useJob();
  const [error, setError] = useState<string | null>(null);
  const jobId = job.jobId;

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
      <PathField
        label="Pack folder"
        placeholder="/path/to/pack"
        value={from}
        disabled={jobId !== null}
        onChange={setFrom}
        browse={{
          use: 'pack',
          kind: 'dir-or-file',
          accept: ['.zip'],
          title: 'Choose a model pack',
        }}
        onEnter={() => void start()}
      />
      {jobId && <ProgressBar progress={job.progress} />}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <DialogActions
        closeLabel={jobId ? 'Cancel import' : 'Close'}
        onClose={cancel}
        actionLabel="Import"
        actionDisabled={!from.trim() || jobId !== null}
        onAction={() => void start()}
      />
    </Dialog>
  );
}
