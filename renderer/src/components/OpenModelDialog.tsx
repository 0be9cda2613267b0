/**
 * "Open model…": a Hugging Face model folder, its SAELens SAE folders (several) and optionally a
 * Neuronpedia export of their dashboards. Inspect (models.inspect) shows what the folders hold
 * in a compact table, with every problem in words; Open (models.open, a job with a progress bar)
 * makes the library entry — the folders named in place, nothing copied — fills its index and
 * switches to it. Folders dropped on it fill the fields (desktop app). Enter inspects (then opens what was inspected); Escape cancels or closes.
 */
import { useState } from 'react';
import type { InspectedSae, ModelInspection, PackSummary } from '../../../preload/contract';
import { describeHooks } from '../../../preload/contract/modelNames';
import { getClient } from '../api/client';
import { useJob } from '../api/useJob';
import { Dialog, PathField } from './Dialog';
import { ProgressBar } from './ProgressBar';
import { useFolderDrop } from './useFolderDrop';
import { formatCount, formatFeatures } from '../../../preload/contract/counts';

interface Props {
  onClose: () => void;
  onOpened: (pack: PackSummary) => void;
}

const mb = (n: number): string =>
  n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MB` : `${(n / 1024 ** 3).toFixed(2)} GB`;

interface Folders {
  dir: string;
  saes: string[];
  neuronpedia: string;
}

const request = (f: Folders) => ({
  dir: f.dir.trim(),
  saes: f.saes.map((s) => s.trim()).filter(Boolean),
  ...(f.neuronpedia.trim() ? { neuronpedia: f.neuronpedia.trim() } : {}),
});

function SaeRow({ sae }: { sae: InspectedSae }) {
  return (
    <tr data-testid="inspected-sae" className={sae.problem ? 'bad' : undefined}>
      <th scope="row">SAE</th>
      <td>
        <span className="path">{sae.id}</span> · {sae.architecture ?? '?'} ·{' '}
        {formatFeatures(sae.dSae)} · d_in {sae.dIn ?? '?'}
        {sae.problem && (
          <span className="error-text" role="alert">
            {' '}
            — {sae.problem.message}
          </span>
        )}
      </td>
    </tr>
  );
}

function Inspection({ found }: { found: ModelInspection }) {
  const np = found.neuronpedia;
  return (
    <table className="inspection" data-testid="model-inspection">
      <tbody>
        <tr>
          <th scope="row">Model</th>
          <td>
            {found.architecture} · {found.layers} layers · d_model {found.dModel} · {found.heads}{' '}
            heads{found.kvHeads !== found.heads ? ` (${found.kvHeads} key/value)` : ''} · vocabulary{' '}
            {formatCount(found.vocab)} · context {found.context}
          </td>
        </tr>
        <tr>
          <th scope="row">Files</th>
          <td>
            <span className="path">{found.graph}</span>
            {found.externalFiles > 0 &&
              ` + ${found.externalFiles} data file${found.externalFiles === 1 ? '' : 's'}`}{' '}
            · <span className="path">{found.tokenizer}</span> · {mb(found.sizeBytes)}, used in place
          </td>
        </tr>
        <tr>
          <th scope="row">Hooks</th>
          <td className="path">{describeHooks(found.hooks)}</td>
        </tr>
        {found.saes.map((s) => (
          <SaeRow key={s.dir} sae={s} />
        ))}
        {np ? (
          <tr className={np.problem ? 'bad' : undefined}>
            <th scope="row">Dashboards</th>
            <td>
              Neuronpedia {np.modelId ?? '?'}/{np.sourceId ?? '?'} · {formatCount(np.features)}{' '}
              features{np.saeId ? ` → ${np.saeId}` : ''}
              {np.problem && <span className="error-text"> — {np.problem.message}</span>}
            </td>
          </tr>
        ) : (
          found.examples && (
            <tr>
              <th scope="row">Index</th>
              <td>
                built here over <span className="path">{found.examples}</span>
              </td>
            </tr>
          )
        )}
      </tbody>
    </table>
  );
}

export function OpenModelDialog({ onClose, onOpened }: Props) {
  const [folders, setFolders] = useState<Folders>({ dir: '', saes: [''], neuronpedia: '' });
  const [found, setFound] = useState<{ for: string; value: ModelInspection } | null>(null);
  const [inspecting, setInspecting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const job = useJob();
  const busy = job.jobId !== null || inspecting;
  const key = JSON.stringify(request(folders));
  const current = found && found.for === key ? found.value : null;

  const set = (patch: Partial<Folders>): void => setFolders((f) => ({ ...f, ...patch }));
  // Dropped folders: the first is the model folder while that is empty, the rest are SAEs.
  const drop = useFolderDrop((paths) =>
    setFolders((f) => {
      const [first, ...rest] = paths;
      const dir = f.dir.trim() || first || '';
      const saes = f.dir.trim() ? paths : rest;
      const all = [...f.saes.filter((x) => x.trim()), ...saes].slice(0, 64);
      return { ...f, dir, saes: all.length > 0 ? all : [''] };
    }),
  );
  const setSae = (i: number, v: string): void =>
    setFolders((f) => ({ ...f, saes: f.saes.map((s, j) => (j === i ? v : s)) }));

  const inspect = async (): Promise<void> => {
    if (!folders.dir.trim()) return;
    setError(null);
    setInspecting(true);
    try {
      const r = await getClient().call('models.inspect', request(folders));
      if (r.ok) setFound({ for: key, value: r.value });
      else {
        setFound(null);
        setError(r.error.message);
      }
    } finally {
      setInspecting(false);
    }
  };

  const open = async (): Promise<void> => {
    setError(null);
    const r = await job.run('open-model', (jobId) =>
      getClient().call('models.open', { ...request(folders), jobId }),
    );
    if (r.ok) onOpened(r.value.pack);
    else setError(r.error.message);
  };

  /** Enter: inspect what is typed, or open what was inspected. */
  const enter = (): void => {
    if (busy) return;
    if (current?.ready) void open();
    else void inspect();
  };

  const cancel = (): void => {
    if (job.jobId) job.cancel();
    else onClose();
  };

  const browse = (title: string) => ({ use: 'model' as const, kind: 'dir' as const, title });
  return (
    <Dialog title="Open a model" onEscape={cancel} wide>
      <div className="drop-zone" data-testid="open-model-drop" {...drop.handlers}>
        <p className="muted">
          A Hugging Face export (<span className="path">config.json</span>,{' '}
          <span className="path">tokenizer.json</span>,{' '}
          <span className="path">onnx/decoder_model.onnx</span>) with SAELens SAE folders. The files
          stay where they are: the library only names them. Drop folders here to fill the fields.
        </p>
        <div className="field-label">Model folder</div>
        <PathField
          label="Model folder"
          placeholder="/path/to/gpt2 (config.json, tokenizer.json, onnx/)"
          value={folders.dir}
          disabled={busy}
          onChange={(v) => set({ dir: v })}
          browse={browse('Choose a Hugging Face model folder')}
          onEnter={enter}
        />
        <div className="field-label">SAE folders</div>
        {folders.saes.map((s, i) => (
          <div className="sae-field" key={i}>
            <PathField
              label={`SAE folder ${i + 1}`}
              placeholder="/path/to/sae (cfg.json, sae_weights.safetensors)"
              value={s}
              disabled={busy}
              focus={i > 0}
              onChange={(v) => setSae(i, v)}
              browse={browse('Choose an SAE folder')}
              onEnter={enter}
            />
            {folders.saes.length > 1 && (
              <button
                type="button"
                aria-label={`Remove SAE folder ${i + 1}`}
                disabled={busy}
                onClick={() => set({ saes: folders.saes.filter((_, j) => j !== i) })}
              >
                ×
              </button>
            )}
          </div>
        ))}
        <div>
          <button
            type="button"
            disabled={busy || folders.saes.length >= 64}
            onClick={() => set({ saes: [...folders.saes, ''] })}
          >
            Add SAE folder
          </button>
        </div>
        <div className="field-label">Neuronpedia export (optional)</div>
        <PathField
          label="Neuronpedia export"
          placeholder="/path/to/export (features/, activations/, explanations/)"
          value={folders.neuronpedia}
          disabled={busy}
          focus={false}
          onChange={(v) => set({ neuronpedia: v })}
          browse={browse('Choose a Neuronpedia export folder')}
          onEnter={enter}
        />
        {current && <Inspection found={current} />}
        {current &&
          current.problems.map((p) => (
            <p key={p.code} className="error-text" role="alert">
              {p.message}
            </p>
          ))}
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
            disabled={!folders.dir.trim() || busy}
            onClick={() => void inspect()}
          >
            {inspecting ? 'Inspecting…' : 'Inspect'}
          </button>
          <button
            type="button"
            className="primary"
            disabled={!current?.ready || busy}
            onClick={() => void open()}
          >
            Open
          </button>
        </div>
      </div>
    </Dialog>
  );
}
