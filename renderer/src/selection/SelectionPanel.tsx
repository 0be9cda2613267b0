/**
 * The selection panel, over the galaxy's right side: a lasso, a cluster, a search or "more
 * like these" opens it. It lists the selection's features ranked by their activation on the
 * current input (computed in the inference worker), each with its title, a mini effect and a
 * weight for the composite dial, and acts on them: turn the top N into dials or into one
 * composite dial, save and name the selection, export it (JSON/CSV), reopen a saved one.
 * Its list folds away ("Hide list"): in the bridge view, where the left galaxy is half as wide,
 * it opens folded, at the pane's foot, so the galaxy that was just lassoed stays in view.
 */
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { RuntimeInfo, SavedSelection } from '../../../preload/contract';
import { runAction } from '../actions/registry';
import { getClient } from '../api/client';
import { bridgeView } from '../bridge/bridgeView';
import type { RunInput } from '../steer/inputs';
import { MoreLikeThese } from './MoreLikeThese';
import { selectionInputOf } from './selectionInput';
import { selectionStore, type OpenSelection } from './selectionStore';
import { useSelectionTitles } from './useSelectionTitles';
import './selection.css';
import { formatCount, formatFeatures } from '../../../preload/contract/counts';

/** Rows the list shows at first, and after "show more". */
const SHOWN = 40;
const SHOWN_MORE = 200;

const ORIGIN_WORDS: Record<OpenSelection['origin'], string> = {
  lasso: 'Lasso',
  cluster: 'Cluster',
  search: 'Search results',
  like: 'More like these',
};

interface Props {
  packId: string | null;
  info: RuntimeInfo | null;
  input: RunInput | null;
}

export function SelectionPanel({ packId, info, input }: Props) {
  const sel = useSyncExternalStore(selectionStore.subscribe, selectionStore.get);
  const liking = useSyncExternalStore(selectionStore.subscribe, selectionStore.isLiking);
  // a selection of another pack does not carry over
  useEffect(() => {
    const s = selectionStore.get();
    if (s && s.packId !== packId) selectionStore.close();
  }, [packId]);
  if (!packId || !info) return null;
  if (liking) return <MoreLikeThese info={info} />;
  if (!sel || sel.packId !== packId) {
    return (
      <div className="selection-launch">
        <SavedPicker packId={packId} />
        <button type="button" onClick={() => void runAction('show-more-like', { on: true })}>
          More like these…
        </button>
      </div>
    );
  }
  // a fresh view (its name field, its list length) for each selection opened
  return (
    <SelectionView
      key={`${sel.origin}:${sel.features.length}:${sel.features[0] ?? ''}:${sel.features.at(-1) ?? ''}`}
      sel={sel}
      input={input}
    />
  );
}

type Ranking =
  | { state: 'ranking' }
  | { state: 'ready'; active: number; total: number }
  | { state: 'error'; message: string };

function SelectionView({ sel, input }: { sel: OpenSelection; input: RunInput | null }) {
  const ranked = useSyncExternalStore(selectionStore.subscribe, selectionStore.getRanked);
  const [shown, setShown] = useState(SHOWN);
  const [topN, setTopN] = useState('8');
  const [name, setName] = useState(sel.name ?? '');
  const [status, setStatus] = useState<string | null>(null);
  const bridged = useSyncExternalStore(bridgeView.subscribe, () => bridgeView.open);
  // null: as the view has it (folded in the bridge view), until the person chooses
  const [listChoice, setListChoice] = useState<boolean | null>(null);
  const listShown = listChoice ?? !bridged;
  const selInput = useMemo(() => selectionInputOf(input), [input]);
  const inputKey = JSON.stringify(selInput);
  const featuresKey = sel.features.join(',');
  const requestKey = `${sel.packId}\u0000${sel.saeId}\u0000${featuresKey}\u0000${inputKey}`;
  // the reply for the request it answered: anything older reads as "ranking"
  const [reply, setReply] = useState<{ key: string; ranking: Ranking } | null>(null);

  // rank the selection on the current input (again when either changes)
  useEffect(() => {
    let live = true;
    if (!selInput) return;
    void getClient()
      .call('selection.activations', {
        packId: sel.packId,
        saeId: sel.saeId,
        input: selInput,
        features: sel.features.slice(0, 100_000),
        limit: SHOWN_MORE,
      })
      .then((r) => {
        if (!live) return;
        if (r.ok) selectionStore.setRanked(r.value.ranked);
        setReply({
          key: requestKey,
          ranking: r.ok
            ? { state: 'ready', active: r.value.active, total: r.value.total }
            : { state: 'error', message: r.error.message },
        });
      });
    return () => {
      live = false;
    };
    // requestKey stands for the selection and the input
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [requestKey]);
  const ranking: Ranking = !selInput
    ? { state: 'error', message: 'There is no input to rank the features on.' }
    : reply?.key === requestKey
      ? reply.ranking
      : { state: 'ranking' };

  const rows = ranked.slice(0, shown);
  const titles = useSelectionTitles(
    sel.packId,
    sel.saeId,
    rows.map((r) => r.feature),
  );
  const titleRecord = Object.fromEntries([...titles].map(([f, t]) => [f, t.title]));
  const n = Math.max(1, Math.min(4096, Math.floor(Number(topN)) || 1));
  const strongest = rows[0]?.max ?? 0;
  /** Runs an action (`run` names it and its payload), then says `done` or what went wrong. */
  const act = (run: () => Promise<boolean>, done?: string): void => {
    setStatus(null);
    run().then(
      () => done && setStatus(done),
      (e: unknown) => setStatus(e instanceof Error ? e.message : String(e)),
    );
  };

  return (
    <section
      className={listShown ? 'selection-panel' : 'selection-panel folded'}
      aria-label="Selection"
      data-testid="selection-panel"
      data-state={ranking.state}
      data-origin={sel.origin}
    >
      <header className="selection-head">
        <h2>
          {sel.name ?? ORIGIN_WORDS[sel.origin]}{' '}
          <span className="muted">· {formatFeatures(sel.features.length)}</span>
        </h2>
        <button
          type="button"
          className="link"
          onClick={() => act(() => runAction('show-more-like', { on: true }))}
        >
          More like these…
        </button>
        <button
          type="button"
          className="link"
          aria-expanded={listShown}
          aria-controls="selection-list"
          onClick={() => setListChoice(!listShown)}
        >
          {listShown ? 'Hide list' : 'Show list'}
        </button>
        <button
          type="button"
          aria-label="Close the selection"
          onClick={() => act(() => runAction('close-selection'))}
        >
          ×
        </button>
      </header>
      {listShown && sel.note && <p className="muted selection-note">{sel.note}</p>}
      {listShown && (
        <p className="muted selection-note" role="status">
          {ranking.state === 'ranking' && 'Ranking by activation on the current input…'}
          {ranking.state === 'ready' &&
            `Ranked by activation on the current input: ${formatCount(ranking.active)} of ${formatCount(ranking.total)} active.`}
          {ranking.state === 'error' && <span className="error-text">{ranking.message}</span>}
        </p>
      )}
      {/* hidden rather than left out while folded: "Show list" names it (aria-controls) */}
      <ol
        id="selection-list"
        className="selection-list"
        aria-label="Features by activation on the current input"
        hidden={!listShown}
      >
        {rows.map((r, i) => {
          const t = titles.get(r.feature);
          return (
            <li
              key={r.feature}
              data-feature={r.feature}
              data-max={r.max}
              className={r.max > 0 ? '' : 'inactive'}
            >
              <span className="mono muted rank">{i + 1}</span>
              <button
                type="button"
                className="link selection-title"
                title={t?.title ?? `feature ${r.feature}`}
                onClick={() => act(() => runAction('select-feature', { feature: r.feature }))}
              >
                <span className="mono">#{r.feature}</span> {t?.title ?? ''}
              </button>
              <span className="selection-effect" title={t?.effect || undefined}>
                {t?.swatch && (
                  <span
                    className="swatch"
                    style={{ background: t.swatch.hex }}
                    title={`toward ${t.swatch.name}`}
                  />
                )}
                <span className="muted">{t?.effect ?? ''}</span>
              </span>
              <span
                className="selection-bar"
                title={`strongest ${r.max.toFixed(3)}, mean ${r.mean.toFixed(3)}`}
              >
                <span style={{ width: `${strongest > 0 ? (100 * r.max) / strongest : 0}%` }} />
              </span>
              <span className="mono selection-value">{r.max.toFixed(2)}</span>
              <input
                className="selection-weight"
                type="number"
                step="0.1"
                aria-label={`Weight of feature ${r.feature} in the composite dial`}
                value={sel.weights.get(r.feature) ?? 1}
                onChange={(e) => selectionStore.setWeight(r.feature, Number(e.target.value))}
              />
            </li>
          );
        })}
      </ol>
      {listShown && ranked.length > shown && (
        <button type="button" className="link" onClick={() => setShown(SHOWN_MORE)}>
          Show {Math.min(SHOWN_MORE, ranked.length) - shown} more
        </button>
      )}
      <div className="selection-actions">
        <label className="muted">
          Top{' '}
          <input
            type="number"
            min={1}
            max={4096}
            aria-label="How many of the top features"
            value={topN}
            onChange={(e) => setTopN(e.target.value)}
          />
        </label>
        <button
          type="button"
          onClick={() =>
            act(
              () => runAction('selection-to-dials', { n, titles: titleRecord }),
              `${n} dials added.`,
            )
          }
        >
          Turn into dials
        </button>
        <button
          type="button"
          onClick={() =>
            act(
              () => runAction('selection-to-composite', { n }),
              'One dial added from the selection.',
            )
          }
        >
          One dial from the selection
        </button>
      </div>
      {listShown && (
        <form
          className="selection-actions"
          onSubmit={(e) => {
            e.preventDefault();
            act(() => runAction('save-selection', { name }), `Saved as “${name.trim()}”.`);
          }}
        >
          <input
            aria-label="Selection name"
            placeholder="Name this selection"
            value={name}
            maxLength={200}
            onChange={(e) => setName(e.target.value)}
          />
          <button type="submit" disabled={!name.trim()}>
            Save selection
          </button>
          <button
            type="button"
            onClick={() =>
              act(() => runAction('export-selection', { format: 'json', titles: titleRecord }))
            }
          >
            JSON
          </button>
          <button
            type="button"
            onClick={() =>
              act(() => runAction('export-selection', { format: 'csv', titles: titleRecord }))
            }
          >
            CSV
          </button>
        </form>
      )}
      {status && (
        <p className="muted selection-note" role="status" data-testid="selection-status">
          {status}
        </p>
      )}
      {listShown && <SavedList packId={sel.packId} />}
    </section>
  );
}

function SavedList({ packId }: { packId: string }) {
  const saved = useSaved(packId);
  if (saved.length === 0) return null;
  return (
    <div className="selection-saved">
      <div className="section-title">Saved selections</div>
      <ul aria-label="Saved selections">
        {saved.map((s) => (
          <li key={s.name} data-name={s.name}>
            <button
              type="button"
              className="link"
              onClick={() => void runAction('open-saved-selection', s)}
            >
              {s.name}
            </button>
            <span className="muted"> · {formatFeatures(s.features.length)}</span>
            <button
              type="button"
              aria-label={`Delete the saved selection ${s.name}`}
              onClick={() => void runAction('remove-saved-selection', { name: s.name })}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The saved selections of the pack, as a picker that opens one (while none is open). */
function SavedPicker({ packId }: { packId: string }) {
  const saved = useSaved(packId);
  if (saved.length === 0) return null;
  return (
    <select
      aria-label="Open a saved selection"
      value=""
      onChange={(e) => {
        const s = saved.find((x) => x.name === e.target.value);
        if (s) void runAction('open-saved-selection', s);
      }}
    >
      <option value="">Saved selections ({saved.length})</option>
      {saved.map((s) => (
        <option key={s.name} value={s.name}>
          {s.name}
        </option>
      ))}
    </select>
  );
}

function useSaved(packId: string): SavedSelection[] {
  const version = useSyncExternalStore(selectionStore.subscribe, selectionStore.savedVersion);
  const [saved, setSaved] = useState<SavedSelection[]>([]);
  useEffect(() => {
    let live = true;
    let retry: ReturnType<typeof setTimeout> | undefined;
    // a list asked while the server is still starting its sessions database may fail: ask again
    // a few times rather than hide the person's saved selections until the next save
    const ask = (tries: number): void => {
      void getClient()
        .call('selection.list', { packId })
        .then((r) => {
          if (!live) return;
          if (r.ok) setSaved(r.value);
          else if (tries > 0) retry = setTimeout(() => ask(tries - 1), 1000);
        });
    };
    ask(5);
    return () => {
      live = false;
      clearTimeout(retry);
    };
  }, [packId, version]);
  return saved;
}
