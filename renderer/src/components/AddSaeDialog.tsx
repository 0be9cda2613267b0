/**
 * "Add SAE…": more SAELens SAE folders for a model opened with "Open model…". Add
 * (models.addSae, a job with a progress bar) checks each folder against the model's hooks and
 * width, attaches it and builds its index; a refusal says why in words and changes nothing.
 * Folders dropped on the dialog fill the fields (desktop app). Enter adds; Escape cancels or
 * closes.
 */
import { useState } from 'react';
import type { PackSummary } from '../../../preload/contract';
import { getClient } from '../api/client';
import { useJob } from '../api/useJob';
import { Dialog, PathField } from './Dialog';
import { ProgressBar } from './ProgressBar';
import { useFolderDrop } from './useFolderDrop';

interface Props {
  pack: PackSummary;
  onClose: () => void;
  onAdded: (pack: PackSummary) => void;
}

export function AddSaeDialog({ pack, onClose, onAdded }: Props) {
  const [saes, setSaes] = useState<string[]>(['']);
  const [error, setError] = useState<string | null>(null);
  const job = useJob();
  const busy = job.jobId !== null;
  const given = saes.map((s) => s.trim()).filter(Boolean);
  const drop = useFolderDrop((paths) =>
    setSaes((old) => [...old.filter((s) => s.trim()), ...paths].slice(0, 64)),
  );

  const add = async (): Promise<void> => {
    if (busy || given.length === 0) return;
    setError(null);
    const r = await job.run('add-sae', (jobId) =>
      getClient().call('models.addSae', { packId: pack.id, saes: given, jobId }),
    );
    if (r.ok) onAdded(r.value.pack);
    else setError(r.error.message);
  };

  const cancel = (): void => {
    if (job.jobId) job.cancel();
    else onClose();
  };

  return (
    <Dialog title={`Add SAEs to ${pack.name}`} onEscape={cancel}>
      <div className="drop-zone" data-testid="add-sae-drop" {...drop.handlers}>
        <p className="muted">
          SAELens SAE folders (<span className="path">cfg.json</span>,{' '}
          <span className="path">sae_weights.safetensors</span>), or a folder of them, at hooks this
          model exposes. They stay where they are; each one’s index is built here.
        </p>
        {saes.map((s, i) => (
          <div className="sae-field" key={i}>
            <PathField
              label={`SAE folder ${i + 1}`}
              placeholder="/path/to/sae (cfg.json, sae_weights.safetensors)"
              value={s}
              disabled={busy}
              focus={i === 0}
              onChange={(v) => setSaes((old) => old.map((o, j) => (j === i ? v : o)))}
              browse={{ use: 'model', kind: 'dir', title: 'Choose an SAE folder' }}
              onEnter={() => void add()}
            />
            {saes.length > 1 && (
              <button
                type="button"
                aria-label={`Remove SAE folder ${i + 1}`}
                disabled={busy}
                onClick={() => setSaes((old) => old.filter((_, j) => j !== i))}
              >
                ×
              </button>
            )}
          </div>
        ))}
        <div>
          <button
            type="button"
            disabled={busy || saes.length >= 64}
            onClick={() => setSaes((old) => [...old, ''])}
          >
            Another SAE folder
          </button>
        </div>
        {drop.note && <p className="muted">{drop.note}</p>}
        {job.jobId && <ProgressBar progress={job.progress} />}
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <div className="row">
          <button type="button" onClick={cancel}>
            {job.jobId ? 'Cancel' : 'Close'}
          </button>
          <button
            type="button"
            className="primary"
            disabled={given.length === 0 || busy}
            onClick={() => void add()}
          >
            Add
          </button>
        </div>
      </div>
    </Dialog>
  );
}
