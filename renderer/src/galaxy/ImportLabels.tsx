/**
 * Import feature labels from a Neuronpedia explanations export (index.importLabels): a file
 * path, an optional model and SAE id to pick one SAE's records out of a larger export, then
 * what was imported and what was skipped and why. Imported labels say "neuronpedia" on the
 * card; a rename still wins.
 */
import { useState } from 'react';
import type { ImportLabelsReport } from '../../../preload/contract';
import { getClient } from '../api/client';
import { useJob } from '../api/useJob';
import { Dialog, DialogActions, PathField } from '../components/Dialog';
import { ProgressBar } from '../components/ProgressBar';
import { clearFeatureCards, corpusRef } from './featureCache';
import { formatCount } from '../../../preload/contract/counts';

interface Props {
  packId: string;
  saeId: string;
  corpus: string | null;
  onClose: () => void;
}

export function ImportLabelsDialog({ packId, saeId, corpus, onClose }: Props) {
  const [from, setFrom] = useState('');
  const [modelId, setModelId] = useState('');
  const [layer, setLayer] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [report, setReport] = useState<ImportLabelsReport | null>(null);
  const job = useJob();
  const busy = job.jobId !== null;

  const start = async (): Promise<void> => {
    setError(null);
    setReport(null);
    const r = await job.run('labels', (jobId) =>
      getClient().call('index.importLabels', {
        packId,
        saeId,
        ...corpusRef(corpus),
        from: from.trim(),
        ...(modelId.trim() ? { modelId: modelId.trim() } : {}),
        ...(layer.trim() ? { layer: layer.trim() } : {}),
        jobId,
      }),
    );
    if (!r.ok) return setError(r.error.message);
    setReport(r.value);
    // Cards and hover labels read the new labels from here on.
    if (r.value.imported > 0) clearFeatureCards();
  };

  const cancel = (): void => {
    if (busy) job.cancel();
    else onClose();
  };

  return (
    <Dialog title="Import feature labels" onEscape={cancel}>
      <p className="muted">
        A Neuronpedia explanations export for SAE <span className="path">{saeId}</span>: JSON lines
        (or .jsonl.gz) or a JSON array, each record with <span className="path">index</span> and{' '}
        <span className="path">description</span>. A label you gave a feature yourself stays.
      </p>
      <PathField
        label="Explanations file"
        placeholder="/path/to/explanations.jsonl"
        value={from}
        disabled={busy}
        onChange={setFrom}
        browse={{
          use: 'labels',
          kind: 'file',
          accept: ['.jsonl', '.json', '.jsonl.gz', '.json.gz', '.gz'],
          title: 'Choose a Neuronpedia explanations export',
        }}
        onEnter={() => void start()}
      />
      <div className="row labels-filter">
        <input
          aria-label="Neuronpedia model id"
          placeholder="model id (optional), e.g. gpt2-small"
          value={modelId}
          disabled={busy}
          onChange={(e) => setModelId(e.target.value)}
        />
        <input
          aria-label="Neuronpedia SAE id"
          placeholder="SAE id (optional), e.g. 6-res-jb"
          value={layer}
          disabled={busy}
          onChange={(e) => setLayer(e.target.value)}
        />
      </div>
      {busy && <ProgressBar progress={job.progress} />}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {report && (
        <div data-testid="labels-report" role="status">
          <p>
            Imported {formatCount(report.imported)} label
            {report.imported === 1 ? '' : 's'}
            {report.skipped > 0 ? `; skipped ${formatCount(report.skipped)}` : ''}.
            {report.imported === 0 && ' No record matched this SAE: check the ids above.'}
          </p>
          {report.problems.length > 0 && (
            <ul className="muted labels-problems">
              {report.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <DialogActions
        closeLabel={busy ? 'Cancel import' : 'Close'}
        onClose={cancel}
        actionLabel="Import"
        actionDisabled={!from.trim() || busy}
        onAction={() => void start()}
      />
    </Dialog>
  );
}
