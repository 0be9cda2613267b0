/**
 * "More like these": pick a few examples (the pack's own, found by name or metadata, or the
 * person's own texts or images) and optionally some to move away from; the features whose
 * mean activation separates them become a selection, and a composite dial.
 */
import { useMemo, useState } from 'react';
import type { RuntimeInfo, SelectionInput } from '../../../preload/contract';
import { runAction } from '../actions/registry';
import { uploadFile } from '../steer/inputs';

/** Matching pack examples listed at once. */
const LISTED = 30;

interface Chosen {
  key: string;
  label: string;
  input: SelectionInput;
}

type Side = 'like' | 'away';

const metaWords = (meta: Record<string, unknown>): string =>
  Object.entries(meta)
    .filter(([k, v]) => k !== 'split' && k !== 'license' && typeof v !== 'object')
    .map(([, v]) => String(v))
    .join(' · ');

export function MoreLikeThese({ info }: { info: RuntimeInfo }) {
  const [query, setQuery] = useState('');
  const [like, setLike] = useState<Chosen[]>([]);
  const [away, setAway] = useState<Chosen[]>([]);
  const [own, setOwn] = useState('');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const text = info.kind === 'text-lm';

  const matches = useMemo(() => {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    return info.examples
      .filter((e) => `${e.name} ${metaWords(e.meta)}`.toLowerCase().includes(q))
      .slice(0, LISTED);
  }, [query, info.examples]);

  const add = (side: Side, c: Chosen): void => {
    const set = side === 'like' ? setLike : setAway;
    set((list) => (list.some((x) => x.key === c.key) || list.length >= 32 ? list : [...list, c]));
  };
  const drop = (side: Side, key: string): void =>
    (side === 'like' ? setLike : setAway)((list) => list.filter((x) => x.key !== key));

  const find = (dial: boolean): void => {
    setBusy(true);
    setStatus(dial ? 'Finding the features and making the dial…' : 'Finding the features…');
    runAction('more-like-these', {
      like: like.map((c) => c.input),
      away: away.map((c) => c.input),
      dial,
      label: `More like ${like
        .map((c) => c.label)
        .slice(0, 3)
        .join(', ')}`.slice(0, 80),
    }).then(
      () => {
        setBusy(false);
        setStatus(null);
      },
      (e: unknown) => {
        setBusy(false);
        setStatus(e instanceof Error ? e.message : String(e));
      },
    );
  };

  const ownButtons = (side: Side) =>
    text ? (
      <button
        type="button"
        disabled={!own.trim()}
        onClick={() => {
          add(side, { key: `text:${own}`, label: own.slice(0, 40), input: { text: own } });
          setOwn('');
        }}
      >
        {side === 'like' ? 'Like' : 'Away'}
      </button>
    ) : (
      <label className="file-button">
        {side === 'like' ? 'Like' : 'Away'}: your image…
        <input
          type="file"
          accept="image/png,image/jpeg,image/webp,font/ttf,font/otf,font/woff,.ttf,.otf,.woff"
          aria-label={
            side === 'like'
              ? 'An image of your own to like'
              : 'An image of your own to move away from'
          }
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (!f) return;
            void uploadFile(f).then(
              (b) => add(side, { key: `blob:${b.blob}`, label: b.name, input: { source: b } }),
              (err: unknown) => setStatus(err instanceof Error ? err.message : String(err)),
            );
          }}
        />
      </label>
    );

  return (
    <section className="selection-panel" aria-label="More like these" data-testid="more-like-panel">
      <header className="selection-head">
        <h2>More like these</h2>
        <button
          type="button"
          aria-label="Close more like these"
          onClick={() => void runAction('show-more-like', { on: false })}
        >
          ×
        </button>
      </header>
      <p className="muted selection-note selection-help">
        Pick examples to move toward (and away from, if you like): the features that separate them
        become one dial.
      </p>
      <input
        type="search"
        aria-label="Find pack examples"
        placeholder={text ? 'Find examples (words, source…)' : 'Find examples (name, group…)'}
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      {matches.length > 0 && (
        <ul className="like-matches" aria-label="Matching examples">
          {matches.map((e) => {
            const c: Chosen = {
              key: `example:${e.index}`,
              label: e.name,
              input: { source: { example: e.index } },
            };
            return (
              <li key={e.index} data-example={e.index}>
                <span className="like-name" title={`${e.name} · ${metaWords(e.meta)}`}>
                  {e.name}
                  <span className="muted"> · {metaWords(e.meta)}</span>
                </span>
                <button type="button" aria-label={`Like ${e.name}`} onClick={() => add('like', c)}>
                  Like
                </button>
                <button
                  type="button"
                  aria-label={`Move away from ${e.name}`}
                  onClick={() => add('away', c)}
                >
                  Away
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <div className="selection-actions">
        {text && (
          <textarea
            aria-label="A text of your own"
            placeholder="Or a text of your own"
            rows={2}
            value={own}
            maxLength={20_000}
            onChange={(e) => setOwn(e.target.value)}
          />
        )}
        {ownButtons('like')}
        {ownButtons('away')}
      </div>
      {(['like', 'away'] as const).map((side) => {
        const list = side === 'like' ? like : away;
        return (
          <div key={side} className="like-chosen" data-testid={`chosen-${side}`}>
            <span className="section-title">{side === 'like' ? 'Like' : 'Away from'}</span>
            {list.length === 0 && (
              <span className="muted">
                {side === 'like' ? 'none yet' : 'none: compared with a sample of the pack'}
              </span>
            )}
            {list.map((c) => (
              <span key={c.key} className="chip" data-key={c.key}>
                {c.label}
                <button
                  type="button"
                  aria-label={`Remove ${c.label}`}
                  onClick={() => drop(side, c.key)}
                >
                  ×
                </button>
              </span>
            ))}
          </div>
        );
      })}
      <div className="selection-actions">
        <button type="button" disabled={busy || like.length === 0} onClick={() => find(false)}>
          Find the features
        </button>
        <button type="button" disabled={busy || like.length === 0} onClick={() => find(true)}>
          Make a dial
        </button>
      </div>
      {status && (
        <p className="muted selection-note" role="status" data-testid="more-like-status">
          {status}
        </p>
      )}
    </section>
  );
}
