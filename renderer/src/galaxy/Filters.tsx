/**
 * Filters that dim the rest of the galaxy: a density range, one cluster, a label source.
 * The map has no label sources, so that filter asks index.search for the features that
 * carry the chosen source (up to the search limit, 500). Labels from Neuronpedia are imported
 * from here too. Each change runs the set-galaxy-filter action.
 */
import { useState } from 'react';
import { runAction } from '../actions/registry';
import { getClient } from '../api/client';
import { corpusRef } from './featureCache';
import { ImportLabelsDialog } from './ImportLabels';
import type { GalaxyStore } from './store';
import { useGalaxy } from './useGalaxy';

const SOURCES = ['metadata', 'top-tokens', 'top-examples', 'user', 'neuronpedia', 'none'] as const;
type Source = (typeof SOURCES)[number];

export function Filters({ store }: { store: GalaxyStore }) {
  const filter = useGalaxy((s) => s.filter, store);
  const map = useGalaxy((s) => s.map, store);
  const [source, setSource] = useState<Source | ''>('');
  const [note, setNote] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);
  if (!map) return null;

  const chooseSource = async (value: Source | ''): Promise<void> => {
    setSource(value);
    setNote(null);
    if (!value || !store.packId || !store.saeId) {
      void runAction('set-galaxy-filter', { labelSourceKeep: null });
      return;
    }
    const r = await getClient().call('index.search', {
      packId: store.packId,
      saeId: store.saeId,
      ...corpusRef(store.corpus),
      query: '',
      limit: 500,
      labelSource: value,
    });
    if (!r.ok) return setNote(r.error.message);
    void runAction('set-galaxy-filter', {
      labelSourceKeep: new Set(r.value.hits.map((h) => h.feature)),
    });
    if (r.value.hits.length === 500) setNote('showing the first 500 features with this source');
  };

  return (
    <details
      className="galaxy-filters"
      // Clicks here are not clicks on the stars behind the panel.
      onPointerDown={(e) => e.stopPropagation()}
      onPointerUp={(e) => e.stopPropagation()}
    >
      <summary>Filters{store.isFiltered() ? ' · on' : ''}</summary>
      <label>
        density ≥
        <input
          type="number"
          aria-label="Minimum density"
          min={0}
          max={1}
          step={0.001}
          value={filter.minDensity}
          onChange={(e) =>
            void runAction('set-galaxy-filter', { minDensity: Number(e.target.value) || 0 })
          }
        />
      </label>
      <label>
        density ≤
        <input
          type="number"
          aria-label="Maximum density"
          min={0}
          max={1}
          step={0.001}
          value={filter.maxDensity}
          onChange={(e) =>
            void runAction('set-galaxy-filter', {
              maxDensity: e.target.value === '' ? 1 : Number(e.target.value),
            })
          }
        />
      </label>
      <label>
        cluster
        <select
          aria-label="Cluster filter"
          value={filter.cluster ?? ''}
          onChange={(e) =>
            void runAction('set-galaxy-filter', {
              cluster: e.target.value === '' ? null : Number(e.target.value),
            })
          }
        >
          <option value="">all</option>
          {map.clusters.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label} ({c.size})
            </option>
          ))}
        </select>
      </label>
      <label>
        label source
        <select
          aria-label="Label source filter"
          value={source}
          onChange={(e) => void chooseSource(e.target.value as Source | '')}
        >
          <option value="">any</option>
          {SOURCES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      {note && <p className="empty-note">{note}</p>}
      <button
        type="button"
        onClick={() => {
          setSource('');
          void runAction('set-galaxy-filter', {
            minDensity: 0,
            maxDensity: 1,
            cluster: null,
            labelSourceKeep: null,
          });
        }}
      >
        Clear filters
      </button>
      {store.packId && store.saeId && (
        <button type="button" onClick={() => setImporting(true)}>
          Import labels…
        </button>
      )}
      {importing && store.packId && store.saeId && (
        <ImportLabelsDialog
          packId={store.packId}
          saeId={store.saeId}
          corpus={store.corpus}
          onClose={() => {
            setImporting(false);
            // A label-source filter on "neuronpedia" now has more to show.
            if (source) void chooseSource(source);
          }}
        />
      )}
    </details>
  );
}
