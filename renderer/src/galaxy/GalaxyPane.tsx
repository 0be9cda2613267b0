/**
 * The galaxy area for one pack: picks the SAE, asks index.status, offers to build the
 * index when there is none, and otherwise loads index.map into the store and shows the
 * galaxy. `fallback` (the pack's facts, with a status note) shows while there is no map.
 */
import { useEffect, useState, type ReactNode } from 'react';
import type { PackSummary } from '../../../preload/contract';
import { useCall } from '../api/useCall';
import { getClient } from '../api/client';
import { BuildIndex } from './BuildIndex';
import { clearFeatureCards } from './featureCache';
import { GalaxyView } from './GalaxyView';
import { decodeMap } from './mapData';
import { galaxyStore } from './store';
import { useGalaxy } from './useGalaxy';

export function GalaxyPane({
  pack,
  fallback,
}: {
  pack: PackSummary;
  fallback: (note: ReactNode) => ReactNode;
}) {
  const [chosenSae, setSaeId] = useState<string | null>(null);
  const saeId = pack.saes.find((s) => s.id === chosenSae)?.id ?? pack.saes[0]?.id ?? null;
  const status = useCall('index.status', { packId: pack.id, saeId: saeId ?? '-' });
  const [mapError, setMapError] = useState<string | null>(null);
  const loadedFor = useGalaxy((s) => (s.map ? `${s.packId}/${s.saeId}` : null));
  const built = status.result?.ok === true && status.result.value.built;

  useEffect(() => {
    if (!built || !saeId) return;
    let live = true;
    void getClient()
      .call('index.map', { packId: pack.id, saeId })
      .then((r) => {
        if (!live) return;
        if (!r.ok) return setMapError(r.error.message);
        try {
          clearFeatureCards();
          galaxyStore.load(pack.id, saeId, decodeMap(r.value));
          setMapError(null);
        } catch (e) {
          setMapError(`the map could not be read: ${(e as Error).message}`);
        }
      });
    return () => {
      live = false;
      galaxyStore.unload();
    };
  }, [built, pack.id, saeId]);

  const saePicker =
    pack.saes.length > 1 ? (
      <select
        className="galaxy-sae"
        aria-label="SAE"
        value={saeId ?? ''}
        onChange={(e) => setSaeId(e.target.value)}
      >
        {pack.saes.map((s) => (
          <option key={s.id} value={s.id}>
            {s.hook} · {s.dSae ?? '?'} features
          </option>
        ))}
      </select>
    ) : null;

  if (built && loadedFor === `${pack.id}/${saeId}`) {
    return (
      <div className="galaxy-pane">
        <GalaxyView />
        {saePicker}
      </div>
    );
  }

  let note: ReactNode = null;
  if (!saeId)
    note = <p className="empty-note">This pack has no SAE, so there are no features to map.</p>;
  else if (!status.result) note = <p className="empty-note">Looking for the feature index…</p>;
  else if (!status.result.ok)
    note = (
      <p className="error-text">The feature index cannot be read: {status.result.error.message}</p>
    );
  else if (!built)
    note = (
      <BuildIndex
        packId={pack.id}
        saeId={saeId}
        onBuilt={status.reload}
        autoStart={pack.location === 'bundled'}
      />
    );
  else if (mapError) note = <p className="error-text">The map cannot be loaded: {mapError}</p>;
  else note = <p className="empty-note">Loading the map…</p>;

  return (
    <>
      {fallback(note)}
      {saePicker}
    </>
  );
}
