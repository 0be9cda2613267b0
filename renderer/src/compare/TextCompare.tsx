/**
 * Text before and after: an inline word diff, or side by side, with the changed-word count.
 * While a run streams (`streaming`), before and after are the tokens so far and grow.
 */
import { diffWords } from 'diff';
import { useMemo, useState, type ReactNode } from 'react';

export function wordChanges(before: string, after: string) {
  const parts = diffWords(before, after);
  const count = (p: { value: string }) => p.value.split(/\s+/).filter(Boolean).length;
  const added = parts.filter((p) => p.added).reduce((s, p) => s + count(p), 0);
  const removed = parts.filter((p) => p.removed).reduce((s, p) => s + count(p), 0);
  return { parts, added, removed };
}

export function TextCompare({
  prompt,
  before,
  after,
  streaming = false,
  tools,
}: {
  prompt: string;
  before: string;
  after: string;
  streaming?: boolean;
  /** buttons shown at the end of the header (Export…) */
  tools?: ReactNode;
}) {
  const [mode, setMode] = useState<'inline' | 'side'>('inline');
  const diff = useMemo(() => wordChanges(before, after), [before, after]);
  return (
    <div className="compare-view" data-streaming={streaming ? 'true' : 'false'}>
      <div className="compare-head">
        <div className="segmented" role="group" aria-label="Compare mode">
          <button type="button" aria-pressed={mode === 'inline'} onClick={() => setMode('inline')}>
            Inline diff
          </button>
          <button type="button" aria-pressed={mode === 'side'} onClick={() => setMode('side')}>
            Side by side
          </button>
        </div>
        <span className="muted" data-testid="changed-words">
          {streaming && 'Generating… '}
          {diff.added + diff.removed === 0
            ? 'no words changed'
            : `${diff.added} words added, ${diff.removed} removed`}
        </span>
        {tools}
      </div>
      {mode === 'inline' ? (
        <p className="text-out" data-testid="text-diff">
          <span className="prompt-text">{prompt}</span>
          {diff.parts.map((p, i) => (
            <span key={i} className={p.added ? 'diff-add' : p.removed ? 'diff-del' : undefined}>
              {p.value}
            </span>
          ))}
        </p>
      ) : (
        <div className="side-by-side">
          <div>
            <div className="section-title">Before</div>
            <p className="text-out" data-testid="text-before">
              <span className="prompt-text">{prompt}</span>
              {before}
            </p>
          </div>
          <div>
            <div className="section-title">After</div>
            <p className="text-out" data-testid="text-after">
              <span className="prompt-text">{prompt}</span>
              {after}
            </p>
          </div>
        </div>
      )}
    </div>
  );
}
