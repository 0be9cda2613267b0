/**
 * The top bar's feature search: index.search as you type (debounced; stale replies dropped),
 * a results list whose stars are highlighted in the galaxy; choosing one (click, or arrows
 * and Enter) selects it, flies to it and opens its card. A result the pointer is on, or the
 * arrows moved to, is previewed as a hovered star is (its card shows, its star is labelled),
 * so results that read alike can be told apart before choosing. Without a map it shows `hint`.
 */
import { runAction } from '../actions/registry';
import { useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';
import type { CallOutput } from '../../../preload/contract';
import { getClient } from '../api/client';
import { corpusRef } from './featureCache';
import { clusterHex } from './palette';
import { galaxyStore } from './store';
import { useGalaxy } from './useGalaxy';

type Hit = CallOutput<'index.search'>['hits'][number];

export function SearchBox({
  inputRef,
  hint,
}: {
  inputRef: RefObject<HTMLInputElement | null>;
  hint: string;
}) {
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<Hit[] | null>(null);
  /** The query the hits answer (while a newer one is on its way, the list shows these). */
  const [hitsFor, setHitsFor] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [cursor, setCursor] = useState(0);
  const [open, setOpen] = useState(false);
  /** The person moved through the results (pointer or arrows): the cursor's hit is previewed. */
  const [previewing, setPreviewing] = useState(false);
  const packId = useGalaxy((s) => s.packId);
  const saeId = useGalaxy((s) => s.saeId);
  const corpus = useGalaxy((s) => s.corpus);
  const filter = useGalaxy((s) => s.filter);
  const seq = useRef(0);
  const q = query.trim();

  useEffect(() => {
    const mine = ++seq.current;
    if (!q || !packId || !saeId) {
      galaxyStore.setHighlights([]);
      return;
    }
    const timer = setTimeout(() => {
      void getClient()
        .call('index.search', {
          packId,
          saeId,
          ...corpusRef(corpus),
          query: q,
          limit: 50,
          ...(filter.minDensity > 0 ? { minDensity: filter.minDensity } : {}),
          ...(filter.maxDensity < 1 ? { maxDensity: filter.maxDensity } : {}),
          ...(filter.cluster !== null ? { cluster: filter.cluster } : {}),
        })
        .then((r) => {
          if (mine !== seq.current) return;
          if (!r.ok) {
            setError(r.error.message);
            setHits(null);
            return;
          }
          setError(null);
          setHits(r.value.hits);
          setHitsFor(q);
          setCursor(0);
          setPreviewing(false);
          galaxyStore.setHighlights(r.value.hits.map((h) => h.feature));
        });
    }, 120);
    return () => clearTimeout(timer);
  }, [q, packId, saeId, corpus, filter]);

  const choose = (h: Hit): void => {
    void runAction('select-feature', { feature: h.feature });
    setOpen(false);
    setPreviewing(false);
    inputRef.current?.blur();
  };

  const shown = q !== '' && open;
  const list = packId && hits && q ? hits : null;
  // only a hit of the query as typed now is previewed
  const preview = shown && previewing && hitsFor === q ? (list?.[cursor]?.feature ?? null) : null;
  // The list is wider than the field where there is room, up to the side panel (where a
  // previewed result's card shows), at most 560 px.
  const [room, setRoom] = useState<number | null>(null);
  useLayoutEffect(() => {
    if (!shown) return;
    const measure = (): void => {
      const field = inputRef.current?.getBoundingClientRect();
      if (!field) return;
      const side = document.querySelector('.side')?.getBoundingClientRect();
      const right = (side ? side.left : window.innerWidth) - 8;
      setRoom(Math.max(field.width, Math.min(560, right - field.left)));
    };
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, [shown, inputRef]);
  useEffect(() => {
    if (preview === null) return;
    galaxyStore.setHoveredPoint(galaxyStore.pointOf(preview));
    return () => {
      // unless the pointer has moved on to a star meanwhile
      if (galaxyStore.hovered === preview) galaxyStore.setHoveredPoint(null);
    };
  }, [preview]);
  return (
    <div className="search">
      <input
        ref={inputRef}
        type="search"
        aria-label="Search features"
        placeholder="Search features   ( / )"
        value={query}
        maxLength={512}
        role="combobox"
        aria-expanded={shown && list !== null}
        aria-controls="search-results"
        onFocus={() => setOpen(true)}
        onBlur={() =>
          setTimeout(() => {
            setOpen(false);
            setPreviewing(false);
          }, 150)
        }
        onChange={(e) => {
          setQuery(e.target.value);
          setOpen(true);
          setPreviewing(false);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            setQuery('');
            setHits(null);
            e.currentTarget.blur();
          } else if (list && e.key === 'ArrowDown') {
            e.preventDefault();
            setCursor((c) => Math.min(list.length - 1, c + 1));
            setPreviewing(true);
          } else if (list && e.key === 'ArrowUp') {
            e.preventDefault();
            setCursor((c) => Math.max(0, c - 1));
            setPreviewing(true);
          } else if (list && e.key === 'Enter' && list[cursor]) {
            choose(list[cursor]);
          }
        }}
      />
      {shown && !packId && (
        <div className="hint" role="status">
          {hint}
        </div>
      )}
      {shown && packId && error && (
        <div className="hint error-text" role="status">
          {error}
        </div>
      )}
      {shown && list && (
        <ul
          className="search-results"
          id="search-results"
          role="listbox"
          aria-label="Search results"
          data-testid="search-results"
          data-query={hitsFor}
          style={room ? { width: room } : undefined}
          onMouseLeave={() => setPreviewing(false)}
        >
          {list.length === 0 && <li className="muted">No feature matches “{q}”.</li>}
          {list.map((h, i) => (
            <li
              key={h.feature}
              role="option"
              aria-selected={i === cursor}
              data-feature={h.feature}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => choose(h)}
              onMouseEnter={() => {
                setCursor(i);
                setPreviewing(true);
              }}
            >
              <span className="swatch" style={{ background: clusterHex(h.cluster) }} />
              <span
                className="label"
                title={[h.label || `feature ${h.feature}`, h.why && `matched ${h.why}`]
                  .filter(Boolean)
                  .join(' · ')}
              >
                {h.label || `feature ${h.feature}`}
                {h.why && <span className="muted search-why"> · {h.why}</span>}
              </span>
              <span className="mono muted">#{h.feature}</span>
            </li>
          ))}
          {list.length > 1 && (
            <li className="search-all" onMouseDown={(e) => e.preventDefault()}>
              <button
                type="button"
                className="link"
                onClick={() => {
                  void runAction('open-selection', {
                    features: list.map((h) => h.feature),
                    origin: 'search',
                    note: `Search “${q}”`,
                  });
                  setOpen(false);
                }}
              >
                All {list.length} results as a selection
              </button>
            </li>
          )}
        </ul>
      )}
    </div>
  );
}
