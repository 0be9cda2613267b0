/**
 * The bridge view's second pane, beside the galaxy: a header (the other SAE — this pack's
 * other SAEs and every other pack's — the bridge's filters and figures, close), then the other
 * SAE's galaxy (the same GalaxyView on a store of its own). What is missing is offered in
 * place: the other SAE's index (BuildIndex), then the bridge (BuildBridge). A bridge built in
 * either order is used; a new one is built with the main SAE as side a. The header says what the
 * bridge matches by; where the pair has two bridges, or can be built another way, "Match by"
 * switches between them (offering to build the one not built). Escape in the header closes the
 * view.
 */
import { useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { PackSummary } from '../../../preload/contract';
import { BRIDGE_BEST_STATUS } from '../../../preload/contract/bridgeStatus';
import { runAction } from '../actions/registry';
import { getClient } from '../api/client';
import { useCall } from '../api/useCall';
import { BuildIndex } from '../galaxy/BuildIndex';
import { fetchMap } from '../galaxy/fetchMap';
import { GalaxyView } from '../galaxy/GalaxyView';
import { useGalaxy } from '../galaxy/useGalaxy';
import { formatFeatures } from '../../../preload/contract/counts';
import { BridgeFilters } from './BridgeFilters';
import { BuildBridge } from './BuildBridge';
import { bridgeView, type BridgeRef, type SaeRef } from './bridgeView';
import './bridge.css';
import { MatchBy } from './MatchBy';
import { orderedMethods, scoreName, type BridgeMethodName } from './scoreName';

interface Choice {
  ref: SaeRef;
  pack: PackSummary;
  hook: string;
  dSae: number | null;
}

const same = (x: SaeRef | null, y: SaeRef | null): boolean =>
  x !== null && y !== null && x.packId === y.packId && x.saeId === y.saeId;

const keyOf = (r: SaeRef): string => `${r.packId}#${r.saeId}`;

/** Reads the view's fields in a component; re-renders when they change. */
function useBridgeView<T>(read: () => T): T {
  return useSyncExternalStore(bridgeView.subscribe, read);
}

interface Lookup {
  /** The built bridge (by the method asked, when one is) and the main SAE's side of it. */
  found: { ref: BridgeRef; side: 'a' | 'b' } | null;
  /** The pair's built bridges' methods, in either order, and the methods it can be built by. */
  built: BridgeMethodName[];
  methods: BridgeMethodName[];
}

/** The pair's bridges, in either order, and the one to show (by `method`, when given). */
async function findBridge(
  main: SaeRef,
  other: SaeRef,
  method: BridgeMethodName | null,
): Promise<Lookup> {
  const out: Lookup = { found: null, built: [], methods: [] };
  for (const [ref, side] of [
    [{ a: main, b: other }, 'a'],
    [{ a: other, b: main }, 'b'],
  ] as const) {
    const s = await getClient().call('bridge.status', { ...ref, ...(method ? { method } : {}) });
    if (!s.ok) continue;
    out.built = orderedMethods(out.built, s.value.builtMethods);
    if (side === 'a') out.methods = s.value.methods;
    if (s.value.built && !out.found) out.found = { ref, side };
  }
  return out;
}

export function BridgePane({ main }: { main: SaeRef }) {
  const packs = useCall('packs.list', {});
  const chosen = useBridgeView(() => bridgeView.other);
  const filter = useBridgeView(() => bridgeView.filter);
  const attached = useBridgeView(() => bridgeView.ref);
  const method = useBridgeView(() => bridgeView.method);
  const wanted = useBridgeView(() => bridgeView.wanted);
  const sharedAt = useBridgeView(() => bridgeView.sharedAt);

  const choices = useMemo<Choice[]>(() => {
    const list = packs.result?.ok ? packs.result.value.packs : [];
    // this pack's other SAEs first, then every other pack's
    const ordered = [
      ...list.filter((p) => p.id === main.packId),
      ...list.filter((p) => p.id !== main.packId),
    ];
    return ordered.flatMap((pack) =>
      pack.saes
        .map((s) => ({
          ref: { packId: pack.id, saeId: s.id },
          pack,
          hook: s.hook,
          dSae: s.dSae ?? null,
        }))
        .filter((c) => !same(c.ref, main)),
    );
  }, [packs.result, main]);
  const other = choices.find((c) => same(c.ref, chosen)) ?? null;

  // nothing chosen yet (or the choice is gone): this pack's next SAE, else the first other
  useEffect(() => {
    if (!packs.result?.ok || other) return;
    void runAction('choose-bridge-sae', { other: choices[0]?.ref ?? null });
  }, [packs.result, other, choices]);

  // the other SAE's index, then its map in the view's second store
  const otherRef = other?.ref ?? null;
  const status = useCall('index.status', otherRef ?? { packId: '-', saeId: '-' });
  const indexBuilt = otherRef !== null && status.result?.ok === true && status.result.value.built;
  const [mapError, setMapError] = useState<string | null>(null);
  const loadedFor = useGalaxy(
    (s) => (s.map && s.packId && s.saeId ? keyOf({ packId: s.packId, saeId: s.saeId }) : null),
    bridgeView.otherStore,
  );
  useEffect(() => {
    if (!indexBuilt || !otherRef) return;
    let live = true;
    void fetchMap(otherRef.packId, otherRef.saeId, null).then((r) => {
      if (!live) return;
      if (!r.ok) return setMapError(r.error.message);
      setMapError(null);
      bridgeView.otherStore.load(otherRef.packId, otherRef.saeId, r.value);
    });
    return () => {
      live = false;
      bridgeView.otherStore.unload();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- keyed by the ref's value
  }, [indexBuilt, otherRef && keyOf(otherRef)]);

  // the bridge between the two, in either order, by the method chosen
  const [bridge, setBridge] = useState<{
    key: string;
    built: boolean;
    error: string | null;
    lookup: Lookup;
  }>();
  const [generation, setGeneration] = useState(0);
  const pairKey = otherRef ? `${keyOf(main)}|${keyOf(otherRef)}` : '';
  useEffect(() => {
    if (!otherRef) return;
    let live = true;
    const key = `${pairKey}|${wanted ?? ''}`;
    void findBridge(main, otherRef, wanted).then(async (lookup) => {
      if (!live) return;
      const found = lookup.found;
      if (!found) return setBridge({ key, built: false, error: null, lookup });
      const error = await bridgeView.attach(found.ref, found.side, wanted);
      if (live) setBridge({ key, built: true, error, lookup });
    });
    return () => {
      live = false;
      bridgeView.detach();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- keyed by the pair's value
  }, [pairKey, wanted, generation]);
  const bridgeState = bridge?.key === `${pairKey}|${wanted ?? ''}` ? bridge : null;
  const lookup = bridgeState?.lookup;

  const describe = (c: Choice): string =>
    `${c.pack.id === main.packId ? '' : `${c.pack.name} · `}${c.hook} · ${formatFeatures(c.dSae)}`;
  const mainSae = packs.result?.ok
    ? packs.result.value.packs
        .find((p) => p.id === main.packId)
        ?.saes.find((s) => s.id === main.saeId)
    : undefined;
  const what = other ? `${mainSae?.hook ?? main.saeId} and ${describe(other)}` : '';
  const shares = attached && bridgeView.bestMain ? sharedShare() : null;

  let body: ReactNode = null;
  if (!packs.result) body = <p className="empty-note">Looking for SAEs…</p>;
  else if (!other)
    body = (
      <p className="empty-note">
        There is no other SAE to bridge to: open another model or add an SAE.
      </p>
    );
  else if (!status.result) body = <p className="empty-note">Looking for its feature index…</p>;
  else if (!status.result.ok)
    body = (
      <p className="error-text">Its feature index cannot be read: {status.result.error.message}</p>
    );
  else if (!indexBuilt)
    body = (
      <div className="bridge-build">
        <p>The SAE at {other.hook} has no feature index yet: build it to see its galaxy.</p>
        <BuildIndex
          packId={other.ref.packId}
          saeId={other.ref.saeId}
          onBuilt={() => status.reload()}
        />
      </div>
    );
  else if (mapError) body = <p className="error-text">The map cannot be loaded: {mapError}</p>;
  else if (loadedFor !== keyOf(other.ref)) body = <p className="empty-note">Loading the map…</p>;

  return (
    <section
      className="bridge-pane"
      aria-label="Bridge: the other SAE’s galaxy"
      data-testid="bridge-pane"
      data-bridge={attached ? 'built' : bridgeState ? 'none' : 'looking'}
    >
      <div
        className="bridge-head"
        onKeyDown={(e) => {
          if (e.key !== 'Escape') return;
          e.stopPropagation();
          void runAction('close-bridge');
        }}
      >
        <select
          aria-label="Bridge to SAE"
          value={other ? keyOf(other.ref) : ''}
          onChange={(e) => {
            const c = choices.find((x) => keyOf(x.ref) === e.target.value);
            void runAction('choose-bridge-sae', { other: c?.ref ?? null });
          }}
        >
          {choices.map((c) => (
            <option key={keyOf(c.ref)} value={keyOf(c.ref)}>
              {describe(c)}
            </option>
          ))}
        </select>
        {attached && <BridgeFilters filter={filter} score={scoreName(method)} />}
        {shares && (
          <span
            className="bridge-figures"
            data-testid="bridge-figures"
            title={`shared: best match ${scoreName(method)} ≥ ${sharedAt}`}
          >
            <span className="bridge-key shared" /> shared {shares.main} here, {shares.other} there
          </span>
        )}
        {lookup && (
          <MatchBy
            shown={attached ? method : null}
            wanted={wanted}
            built={lookup.built}
            methods={lookup.methods}
          />
        )}
        <button
          type="button"
          className="bridge-close"
          aria-label="Close the bridge view"
          title="Close the bridge view (B, or Escape here)"
          onClick={() => void runAction('close-bridge')}
        >
          ×
        </button>
      </div>
      <div className="bridge-body">
        {body ?? (
          <GalaxyView store={bridgeView.otherStore} sceneRef={bridgeView.scenes.other} secondary />
        )}
        {other && indexBuilt && bridgeState && !bridgeState.built && (
          <BuildBridge
            key={`${pairKey}|${wanted ?? ''}`}
            main={main}
            other={other.ref}
            what={what}
            methods={bridgeState.lookup.methods}
            initial={wanted}
            another={bridgeState.lookup.built.length > 0}
            onBuilt={(m) => {
              void runAction('set-bridge-method', { method: m });
              setGeneration((g) => g + 1);
            }}
          />
        )}
        {bridgeState?.error && (
          <p className="error-text" role="alert">
            The bridge cannot be read: {bridgeState.error}
          </p>
        )}
      </div>
    </section>
  );
}

/** Shares of each side's features whose best match is shared, in percent words. */
function sharedShare(): { main: string; other: string } | null {
  const m = bridgeView.bestMain;
  const o = bridgeView.bestOther;
  if (!m || !o) return null;
  const pct = (s: typeof m): string => {
    let shared = 0;
    for (let f = 0; f < s.status.length; f++)
      if (s.status[f] === BRIDGE_BEST_STATUS.shared) shared++;
    return `${Math.round((100 * shared) / Math.max(1, s.status.length))}%`;
  };
  return { main: pct(m), other: pct(o) };
}
