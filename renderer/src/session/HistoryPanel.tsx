/**
 * The session's history as a tree (historyTree.ts), oldest first, the current step marked and
 * kept in view; undo and redo (enabled only when there is a step to go to), export (the step
 * as PNG or text, the session as a JSON recipe), import, and presets. Every button runs a
 * named action (registered by the app: session/sessionActions.ts, actions/appActions.ts), so
 * they work without this panel.
 */
import { useEffect, useMemo, useRef } from 'react';
import { runAction } from '../actions/registry';
import { historyRows } from './historyTree';
import { PresetsBar } from './PresetsBar';
import { canRedo, canUndo, headOf, type SessionDetail } from './sessionView';
import { StepRow } from './StepRow';
import './history.css';

interface Props {
  packId: string;
  detail: SessionDetail | null;
}

export function HistoryPanel({ packId, detail }: Props) {
  const sessionId = detail?.session.id ?? null;
  const head = headOf(detail);
  const rows = useMemo(
    () => (detail ? historyRows(detail.steps, detail.session.headStepId) : []),
    [detail],
  );
  const list = useRef<HTMLOListElement>(null);
  // the current step stays in view (after a run, an undo, a chosen step)
  useEffect(() => {
    list.current
      ?.querySelector('[data-current]')
      ?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [head?.id, rows.length]);

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
      <ol className="history-tree" aria-label="Steps" ref={list}>
        {rows.map((r) => (
          <StepRow key={r.step.id} row={r} />
        ))}
        {rows.length === 0 && <li className="muted">Runs appear here as steps.</li>}
      </ol>
      <PresetsBar packId={packId} />
    </div>
  );
}
