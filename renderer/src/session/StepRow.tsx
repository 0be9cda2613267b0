/**
 * One step of the history tree: its number in the session, a thumbnail of its after-image or
 * the start of its text, its name (or what its dials did) and what it ran on. Click to go to
 * it; the pencil names it (Enter or leaving the field saves, Escape cancels, empty clears).
 */
import { memo, useState } from 'react';
import type { Step } from '../../../preload/contract';
import { runAction } from '../actions/registry';
import type { TreeRow } from './historyTree';
import { dialWords, inputWords } from './sessionView';
import { useBlobUrl } from './useBlobUrl';

function Thumb({ step }: { step: Step }) {
  const url = useBlobUrl(step.preview.afterBlob);
  if (step.kind === 'text') return null;
  return url ? (
    <img className="step-thumb" src={url} alt="" width={32} height={32} />
  ) : (
    <span className="step-thumb" aria-hidden="true" />
  );
}

function StepLine({ row }: { row: TreeRow<Step> }) {
  const { step, number, depth, branch, current, onPath } = row;
  const [editing, setEditing] = useState<string | null>(null);
  const title = step.name ?? dialWords(step);
  const detail =
    step.kind === 'text' && step.preview.text !== undefined
      ? `${inputWords(step)} → “${step.preview.text.trim()}”`
      : inputWords(step);
  const save = (): void => {
    if (editing === null) return;
    if (editing.trim() !== (step.name ?? ''))
      void runAction('rename-step', { stepId: step.id, name: editing.trim() });
    setEditing(null);
  };
  const classes = ['step', current && 'current', onPath && 'on-path', branch && 'branch-start'];
  return (
    <li
      className={classes.filter(Boolean).join(' ')}
      style={{ '--depth': depth } as React.CSSProperties}
      data-step={step.id}
      data-number={number}
      data-depth={depth}
      data-current={current || undefined}
      data-testid="history-step"
    >
      {branch && (
        <span className="step-branch" aria-hidden="true">
          ↳
        </span>
      )}
      {editing === null ? (
        <button
          type="button"
          className="step-go"
          aria-current={current ? 'step' : undefined}
          title={`Step ${number}: ${title} · ${detail}${branch ? ' (a branch)' : ''}`}
          onClick={() => void runAction('checkout-step', { stepId: step.id })}
        >
          <span className="step-num mono">{number}</span>
          <Thumb step={step} />
          <span className="step-words">
            <span className={step.name ? 'step-title named' : 'step-title'}>{title}</span>
            <span className="step-detail muted">{detail}</span>
          </span>
        </button>
      ) : (
        <input
          className="step-name-input"
          aria-label={`Name of step ${number}`}
          value={editing}
          maxLength={200}
          autoFocus
          onChange={(e) => setEditing(e.target.value)}
          onBlur={save}
          onKeyDown={(e) => {
            if (e.key === 'Enter') save();
            if (e.key === 'Escape') setEditing(null);
          }}
        />
      )}
      {editing === null && (
        <button
          type="button"
          className="step-rename"
          aria-label={`Name step ${number}`}
          title="Name this step"
          onClick={() => setEditing(step.name ?? '')}
        >
          ✎
        </button>
      )}
    </li>
  );
}

/**
 * A run re-renders the history with new rows, but the steps it did not touch keep their
 * objects (sessionView.withStep): only changed lines render again, during a drag too.
 */
export const StepRow = memo(
  StepLine,
  ({ row: a }, { row: b }) =>
    a.step === b.step &&
    a.number === b.number &&
    a.depth === b.depth &&
    a.branch === b.branch &&
    a.current === b.current &&
    a.onPath === b.onPath,
);
