/**
 * The galaxy area for one pack: picks the SAE and the examples (the pack's own or a folder of
 * the person's), asks index.status, offers to build the index when there is none, and
 * otherwise loads index.map into the store and shows the galaxy. `fallback` (the pack's
 * facts, with a status note) shows while there is no map. The open-in-sae action (a bridge's
 * match on a feature card) switches to another SAE of the pack and selects a feature there.
 */
import { useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { PackSummary } from '../../../preload/contract';
import { isOpenedModel } from '../../../preload/contract/modelNames';
import { registerActions, runAction } from '../actions/registry';
import { useSettleFirstView } from '../api/firstView';
import { useCall } from '../api/useCall';
import { bridgeActions } from '../bridge/bridgeActions';
import { BridgeCard } from '../bridge/BridgeCard';
import { BridgeLinks } from '../bridge/BridgeLinks';
import { BridgePane } from '../bridge/BridgePane';
import { bridgeView } from '../bridge/bridgeView';
import { installBridgeHooks } from '../bridge/testHooks';
import { AddSaeDialog } from '../components/AddSaeDialog';
import { formatFeatures } from '../../../preload/contract/counts';
import { BuildIndex } from './BuildIndex';
import { CorpusPicker } from './CorpusPicker';
import { clearFeatureCards, corpusRef } from './featureCache';
import { GalaxyView, preloadGalaxyCanvas } from './GalaxyView';
import { fetchMap } from './fetchMap';
import { mapKey, rememberFirstMap, takeFirstMap } from './firstMap';
import { galaxyStore } from './store';
import { useGalaxy } from './useGalaxy';

declare module '../actions/registry' {
  interface ActionPayloads {
    /** Show another SAE of this pack in the galaxy, then select a feature there and fly to it. */
    'open-in-sae': { saeId: string; feature: number };
  }
}

export function GalaxyPane({
  pack,
  fallback,
  onPacksChanged,
}: {
  pack: PackSummary;
  /** The pack list changed here ("Add SAE…"): read it again. */
  onPacksChanged?: () => void;
  /** `lead`: what there is no map of, in words; `note`: the status or the Build button. */
  fallback: (note: ReactNode, lead: string) => ReactNode;
}) {
  const [chosenSae, setSaeId] = useState<string | null>(null);
  const saeId = pack.saes.find((s) => s.id === chosenSae)?.id ?? pack.saes[0]?.id ?? null;
  // a feature to select once the map of its SAE is loaded
  const pendingFocus = useRef<{ saeId: string; feature: number } | null>(null);
  useEffect(
    () =>
      registerActions([
        {
          name: 'open-in-sae',
          label: 'Open a feature of another SAE',
          perform: ({ saeId: target, feature }) => {
            if (!pack.saes.some((s) => s.id === target)) return;
            if (galaxyStore.packId === pack.id && galaxyStore.saeId === target) {
              galaxyStore.focus(feature, { fly: true, select: true });
              return;
            }
            pendingFocus.current = { saeId: target, feature };
            setSaeId(target);
          },
        },
      ]),
    [pack],
  );
  const [chosenCorpus, setCorpus] = useState<{ packId: string; corpus: string | null }>({
    packId: pack.id,
    corpus: null,
  });
  const corpus = chosenCorpus.packId === pack.id ? chosenCorpus.corpus : null;
  const corpora = useCall('index.corpora', { packId: pack.id });
  const status = useCall('index.status', {
    packId: pack.id,
    saeId: saeId ?? '-',
    ...corpusRef(corpus),
  });
  const [mapError, setMapError] = useState<string | null>(null);
  const [skipped, setSkipped] = useState<string[]>([]);
  const loadedFor = useGalaxy((s) => (s.map ? `${s.packId}/${s.saeId}/${s.corpus ?? ''}` : null));
  const built = status.result?.ok === true && status.result.value.built;
  // no galaxy will draw here (no SAE, no index, an error): the first view is what shows instead
  useSettleFirstView(!saeId || (status.result !== null && !built) || mapError !== null);
  // The 3D code downloads while the index status and the map are read.
  useEffect(preloadGalaxyCanvas, []);

  // The map is asked for with the status, not after it (one round trip less at start-up), or
  // was asked for as the page started (firstMap.ts). A map that came is shown at once (it is
  // only read from a built index); otherwise once the status says the index is built, when it
  // is asked for again.
  const key = saeId ? mapKey(pack.id, saeId, corpus) : null;
  const early = useRef<{ key: string; reply: ReturnType<typeof fetchMap> } | null>(null);
  const [cameFor, setCameFor] = useState<string | null>(null);
  useEffect(() => {
    if (!saeId || !key) return;
    const reply = takeFirstMap(key) ?? fetchMap(pack.id, saeId, corpus);
    early.current = { key, reply };
    let live = true;
    void reply.then((r) => {
      if (live && r.ok) setCameFor(key);
    });
    return () => {
      live = false;
    };
  }, [pack.id, saeId, corpus, key]);
  const canLoad = built || (key !== null && cameFor === key);

  useEffect(() => {
    if (!canLoad || !saeId || !key) return;
    let live = true;
    const asked = early.current;
    early.current = null;
    const reply =
      asked?.key === key
        ? asked.reply.then((r) => (r.ok ? r : fetchMap(pack.id, saeId, corpus)))
        : fetchMap(pack.id, saeId, corpus);
    void reply.then((r) => {
      if (!live) return;
      if (!r.ok) return setMapError(r.error.message);
      try {
        clearFeatureCards();
        galaxyStore.load(pack.id, saeId, r.value, corpus);
        rememberFirstMap(pack.id, saeId, corpus);
        const p = pendingFocus.current;
        if (p?.saeId === saeId) {
          pendingFocus.current = null;
          galaxyStore.focus(p.feature, { fly: true, select: true });
        }
        setMapError(null);
      } catch (e) {
        setMapError(`the map could not be read: ${(e as Error).message}`);
      }
    });
    return () => {
      live = false;
      galaxyStore.unload();
    };
  }, [canLoad, pack.id, saeId, corpus, key]);

  // the bridge view: a second galaxy beside this one (B, or the Bridge button)
  const bridgeOpen = useSyncExternalStore(bridgeView.subscribe, () => bridgeView.open);
  useEffect(() => registerActions(bridgeActions(bridgeView, () => galaxyStore.map !== null)), []);
  useEffect(() => installBridgeHooks(bridgeView), []);

  const [addingSae, setAddingSae] = useState(false);
  const saePicker = (
    <div className="galaxy-sae">
      <button
        type="button"
        aria-pressed={bridgeOpen}
        title="Bridge to another SAE, side by side (B)"
        data-testid="bridge-toggle"
        onClick={() => void runAction('toggle-bridge')}
      >
        Bridge
      </button>
      {isOpenedModel(pack) && (
        <button type="button" onClick={() => setAddingSae(true)}>
          Add SAE…
        </button>
      )}
      {addingSae && (
        <AddSaeDialog
          pack={pack}
          onClose={() => setAddingSae(false)}
          onAdded={(grown) => {
            setAddingSae(false);
            setSaeId(grown.saes[grown.saes.length - 1]?.id ?? null);
            onPacksChanged?.();
          }}
        />
      )}
      {pack.saes.length > 1 && (
        <select aria-label="SAE" value={saeId ?? ''} onChange={(e) => setSaeId(e.target.value)}>
          {pack.saes.map((s) => (
            <option key={s.id} value={s.id}>
              {s.hook} · {formatFeatures(s.dSae)}
            </option>
          ))}
        </select>
      )}
      {saeId && (
        <CorpusPicker
          kind={pack.kind}
          corpus={corpus}
          corpora={corpora.result?.ok ? corpora.result.value.corpora.map((c) => c.path) : []}
          onChoose={(c) => {
            setSkipped([]);
            setCorpus({ packId: pack.id, corpus: c });
          }}
        />
      )}
    </div>
  );
  const skippedNote =
    skipped.length > 0 ? (
      <div className="galaxy-skipped" role="status">
        {skipped.length} file{skipped.length === 1 ? '' : 's'} of the folder could not be used:{' '}
        {skipped.slice(0, 3).join('; ')}
        {skipped.length > 3 ? '; …' : ''}
        <button type="button" aria-label="Dismiss" className="link" onClick={() => setSkipped([])}>
          ×
        </button>
      </div>
    ) : null;

  if (canLoad && loadedFor === key) {
    return (
      <div className={bridgeOpen ? 'galaxy-pane bridged' : 'galaxy-pane'}>
        <div className="galaxy-split">
          <GalaxyView tools={saePicker} sceneRef={bridgeView.scenes.main} />
          {bridgeOpen && saeId && <BridgePane main={{ packId: pack.id, saeId }} />}
        </div>
        {bridgeOpen && <BridgeLinks />}
        {bridgeOpen && <BridgeCard />}
        {skippedNote}
      </div>
    );
  }

  // what has no index: the folder's examples, an SAE of a pack with several, or the pack
  const sae = pack.saes.find((s) => s.id === saeId);
  const subject = corpus
    ? `The folder ${corpus.split(/[\\/]/).filter(Boolean).pop() ?? corpus}`
    : pack.saes.length > 1 && sae
      ? `The SAE at ${sae.hook}`
      : `${pack.name}`;
  let lead = `${subject} has no feature index yet, so there is no map of its features to show. The galaxy appears here once the index is built.`;
  if (!saeId) lead = 'This pack has no SAE, so there are no features to map.';
  else if (!status.result || (status.result.ok && built))
    lead = 'The galaxy appears here once its map is read.';
  else if (!status.result.ok) lead = `${subject}: the feature index cannot be read.`;
  else if (corpus)
    lead = `${subject} has no feature index over it yet: build one to map ${sae?.hook ?? 'the SAE'}’s features by your own examples.`;

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
        key={corpus ?? ''}
        packId={pack.id}
        saeId={saeId}
        corpus={corpus}
        onBuilt={(files) => {
          setSkipped(files);
          // the build's later stages (calibration, titles) changed the cards read so far
          clearFeatureCards();
          status.reload();
          corpora.reload();
        }}
        autoStart={pack.location === 'bundled' && corpus === null}
      />
    );
  else if (mapError) note = <p className="error-text">The map cannot be loaded: {mapError}</p>;
  else note = <p className="empty-note">Loading the map…</p>;

  return (
    <>
      {fallback(note, lead)}
      {saePicker}
    </>
  );
}
