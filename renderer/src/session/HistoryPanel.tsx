/**
 * The session's steps, newest first, with undo, redo, export (step as PNG or text, session
 * as a JSON recipe), import, and presets. Every button runs a named action (registered by the
 * app: session/sessionActions.ts, actions/appActions.ts), so they work without this panel.
 */
import { useEffect, useState } from 'react';
import type { CallOutput, Step } from '../../../preload/contract';
import { runAction } from '../actions/registry';
import { getClient } from '../api/client';
import { canRedo, canUndo, headOf, type SessionDetail } from './sessionView';

interface Props {
  packId: string;
  detail: SessionDetail | null;
}

function summary(step: Step): string {
  const dials =
    step.dials.map((d) => `#${d.feature} ${d.method} ${d.value.toFixed(1)}`).join(', ') ||
    'no dials';
  const i = step.input as { prompt?: unknown; text?: unknown };
  const what =
    typeof i.prompt === 'string'
      ? `“${i.prompt.slice(0, 24)}”`
      : typeof i.text === 'string'
        ? `“${i.text}”`
        : 'image';
  return `${what} · ${dials}`;
}

export function HistoryPanel({ packId, detail }: Props) {
  const [presets, setPresets] = useState<CallOutput<'presets.list'>>([]);
  const [presetName, setPresetName] = useState('');
  const sessionId = detail?.session.id ?? null;
  const head = headOf(detail);

  useEffect(() => {
    let live = true;
    void getClient()
      .call('presets.list', { packId })
      .then((r) => live && r.ok && setPresets(r.value));
    return () => {
      live = false;
    };
  }, [packId]);

  const savePreset = async (): Promise<void> => {
    const name = presetName.trim();
    if (!name) return;
    await runAction('save-preset', { name });
    setPresetName('');
    const l = await getClient().call('presets.list', { packId });
    if (l.ok) setPresets(l.value);
  };

  const steps = [...(detail?.steps ?? [])].reverse();
  return (
    <div className="history" data-testid="history">
      <div className="history-bar">
        <button
          type="button"
          onClick={() => void runAction('undo')}
          disabled={!canUndo(detail)}
          title="Undo (Ctrl+Z)"
        >
          Undo
        </button>
        <button
          type="button"
          onClick={() => void runAction('redo')}
          disabled={!canRedo(detail)}
          title="Redo (Ctrl+Shift+Z)"
        >
          Redo
        </button>
        <button type="button" onClick={() => void runAction('export-step')} disabled={!head}>
          Export step
        </button>
        <button type="button" onClick={() => void runAction('export-recipe')} disabled={!sessionId}>
          Export recipe
        </button>
        <label className="file-pick">
          Import recipe…
          <input
            type="file"
            accept=".json,application/json"
            aria-label="Import recipe"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) void runAction('import-recipe', { file });
              e.target.value = '';
            }}
          />
        </label>
      </div>
      <ol className="steps" aria-label="Steps">
        {steps.map((s) => (
          <li key={s.id} className={s.id === head?.id ? 'current' : undefined}>
            <button
              type="button"
              className="link"
              onClick={() => void runAction('checkout-step', { stepId: s.id })}
            >
              <span className="mono">{s.id}</span> {summary(s)}
            </button>
          </li>
        ))}
        {steps.length === 0 && <li className="muted">Runs appear here as steps.</li>}
      </ol>
      <div className="presets">
        <input
          aria-label="Preset name"
          placeholder="name these dials"
          value={presetName}
          maxLength={200}
          onChange={(e) => setPresetName(e.target.value)}
        />
        <button type="button" onClick={() => void savePreset()} disabled={!presetName.trim()}>
          Save preset
        </button>
        {presets.map((p) => (
          <button
            key={p.name}
            type="button"
            className="chip"
            onClick={() => void runAction('apply-preset', { dials: p.dials })}
            title="Apply this preset"
          >
            {p.name}
          </button>
        ))}
      </div>
    </div>
  );
}
