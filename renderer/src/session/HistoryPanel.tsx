/**
 * The session's steps, newest first, with undo, redo, export (step as PNG or text, session
 * as a JSON recipe), import, and presets. Every button runs a named action.
 */
import { useEffect, useState } from 'react';
import type { CallOutput, Step } from '../../../preload/contract';
import { mod, registerActions, runAction } from '../actions/registry';
import { getClient } from '../api/client';
import { dialStore } from '../steer/store';
import { base64Bytes, download } from './download';
import type { SessionDetail } from './sessionView';

interface Props {
  packId: string;
  detail: SessionDetail | null;
  onDetail: (d: SessionDetail) => void;
  onError: (message: string) => void;
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

export function HistoryPanel({ packId, detail, onDetail, onError }: Props) {
  const [presets, setPresets] = useState<CallOutput<'presets.list'>>([]);
  const [presetName, setPresetName] = useState('');
  const sessionId = detail?.session.id ?? null;
  const head = detail?.steps.find((s) => s.id === detail.session.headStepId) ?? null;

  useEffect(() => {
    let live = true;
    void getClient()
      .call('presets.list', { packId })
      .then((r) => live && r.ok && setPresets(r.value));
    return () => {
      live = false;
    };
  }, [packId]);

  useEffect(() => {
    const move = (call: 'sessions.undo' | 'sessions.redo') => async () => {
      if (!sessionId) return;
      const r = await getClient().call(call, { sessionId });
      if (r.ok) onDetail(r.value);
      else onError(r.error.message);
    };
    return registerActions([
      {
        name: 'undo',
        label: 'Undo',
        shortcut: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'z',
        perform: move('sessions.undo'),
      },
      {
        name: 'redo',
        label: 'Redo',
        shortcut: (e) =>
          mod(e) && ((e.shiftKey && e.key.toLowerCase() === 'z') || e.key.toLowerCase() === 'y'),
        perform: move('sessions.redo'),
      },
      {
        name: 'reset-dials',
        label: 'Reset dials',
        shortcut: (e) => e.key === 'Escape' && e.shiftKey,
        perform: () => dialStore.restore([]),
      },
      {
        name: 'export-recipe',
        label: 'Export recipe',
        perform: async () => {
          if (!sessionId) return;
          const r = await getClient().call('sessions.exportRecipe', { sessionId });
          if (r.ok)
            download(
              `${r.value.name.replace(/[^\w.-]+/g, '_')}.orrery.json`,
              JSON.stringify(r.value, null, 2),
              'application/json',
            );
          else onError(r.error.message);
        },
      },
      {
        name: 'export-step',
        label: 'Export step',
        enabled: () => head !== null,
        perform: async () => {
          if (!head) return;
          const out = head.output as {
            afterBlob?: string;
            afterPng?: string;
            after?: { text?: string };
            before?: { text?: string };
          };
          if (typeof out.afterBlob === 'string') {
            // the step keeps its PNG as a blob, by hash
            const r = await getClient().call('blobs.get', { hash: out.afterBlob });
            if (r.ok) download(`orrery-step-${head.id}.png`, r.value.bytes.slice(), 'image/png');
            else onError(r.error.message);
          } else if (typeof out.afterPng === 'string')
            // a step saved before outputs were blobs
            download(`orrery-step-${head.id}.png`, base64Bytes(out.afterPng), 'image/png');
          else if (head.kind !== 'text') onError('this step has no saved image; run it again');
          else {
            const prompt = String((head.input as { prompt?: unknown }).prompt ?? '');
            const text = `${prompt}${out.after?.text ?? ''}\n\n-- before --\n${prompt}${out.before?.text ?? ''}\n`;
            download(`orrery-step-${head.id}.txt`, text, 'text/plain');
          }
        },
      },
    ]);
  }, [sessionId, head, onDetail, onError]);

  const importRecipe = async (file: File): Promise<void> => {
    let recipe: unknown;
    try {
      recipe = JSON.parse(await file.text());
    } catch {
      onError(`${file.name} is not JSON`);
      return;
    }
    const r = await getClient().call('sessions.importRecipe', { recipe });
    if (r.ok) onDetail(r.value);
    else onError(`${file.name}: ${r.error.message}`);
  };

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
          disabled={!head}
          title="Undo (Ctrl+Z)"
        >
          Undo
        </button>
        <button type="button" onClick={() => void runAction('redo')} title="Redo (Ctrl+Shift+Z)">
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
            onChange={(e) => e.target.files?.[0] && void importRecipe(e.target.files[0])}
          />
        </label>
      </div>
      <ol className="steps" aria-label="Steps">
        {steps.map((s) => (
          <li key={s.id} className={s.id === head?.id ? 'current' : undefined}>
            <button
              type="button"
              className="link"
              onClick={async () => {
                if (!sessionId) return;
                const r = await getClient().call('sessions.checkout', { sessionId, stepId: s.id });
                if (r.ok) onDetail(r.value);
              }}
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
            onClick={() => dialStore.restore(p.dials)}
            title="Apply this preset"
          >
            {p.name}
          </button>
        ))}
      </div>
    </div>
  );
}
