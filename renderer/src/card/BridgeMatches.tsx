/**
 * "Across SAEs" on a feature card: for each other SAE of the same pack with a built bridge to
 * this one (bridge.status, either order), the feature's best matches there with their scores and
 * whether it is shared or specific (bridge.matches), the best one with its title there. A match
 * opens that feature in the other SAE's galaxy (the open-in-sae action). Shows nothing while no
 * bridge is built.
 */
import { useEffect, useMemo, useState } from 'react';
import type { CallOutput } from '../../../preload/contract';
import { runAction } from '../actions/registry';
import { getClient } from '../api/client';
import { methodTitle, scoreName } from '../bridge/scoreName';

interface Found {
  ref: { a: { packId: string; saeId: string }; b: { packId: string; saeId: string } };
  /** This SAE's side of the bridge. */
  side: 'a' | 'b';
  /** The method of the bridge bridge.status read (the pair's default one when built). */
  method: CallOutput<'bridge.status'>['method'];
  other: { saeId: string; hook: string };
}

/** A feature's matches, and the title of the best one (from the other SAE's index). */
type Matches = CallOutput<'bridge.matches'> & { bestTitle: string | null };

const SHOWN = 5;

/** The built bridges between (packId, saeId) and the pack's other SAEs. */
async function findBridges(packId: string, saeId: string): Promise<Found[]> {
  const client = getClient();
  const packs = await client.call('packs.list', {});
  if (!packs.ok) return [];
  const pack = packs.value.packs.find((p) => p.id === packId);
  const out: Found[] = [];
  for (const o of pack?.saes ?? []) {
    if (o.id === saeId) continue;
    const me = { packId, saeId };
    const other = { packId, saeId: o.id };
    for (const [ref, side] of [
      [{ a: me, b: other }, 'a'],
      [{ a: other, b: me }, 'b'],
    ] as const) {
      const s = await client.call('bridge.status', ref);
      if (s.ok && s.value.built) {
        out.push({ ref, side, method: s.value.method, other: { saeId: o.id, hook: o.hook } });
        break;
      }
    }
  }
  return out;
}

export function BridgeMatches({
  packId,
  saeId,
  feature,
}: {
  packId: string;
  saeId: string;
  feature: number;
}) {
  const [found, setFound] = useState<{ key: string; list: Found[] } | null>(null);
  const [matches, setMatches] = useState<{ key: string; list: (Matches | null)[] } | null>(null);
  const key = `${packId}/${saeId}`;

  useEffect(() => {
    let live = true;
    void findBridges(packId, saeId).then((list) => {
      if (live) setFound({ key: `${packId}/${saeId}`, list });
    });
    return () => {
      live = false;
    };
  }, [packId, saeId]);

  const bridges = useMemo(() => (found?.key === key ? found.list : []), [found, key]);
  const mKey = `${key}#${feature}`;
  useEffect(() => {
    if (bridges.length === 0) return;
    let live = true;
    void Promise.all(
      bridges.map(async (f) => {
        const by = f.method ? { method: f.method } : {};
        const r = await getClient().call('bridge.matches', {
          ...f.ref,
          ...by,
          side: f.side,
          feature,
        });
        if (!r.ok) return null;
        const best = r.value.matches[0]?.feature;
        const card =
          best === undefined
            ? null
            : await getClient().call('index.feature', {
                packId,
                saeId: f.other.saeId,
                feature: best,
              });
        return { ...r.value, bestTitle: card?.ok ? card.value.label : null };
      }),
    ).then((list) => {
      if (live) setMatches({ key: `${packId}/${saeId}#${feature}`, list });
    });
    return () => {
      live = false;
    };
  }, [bridges, packId, saeId, feature]);

  if (bridges.length === 0 || matches?.key !== mKey) return null;
  return (
    <>
      <div className="card-sub">across SAEs</div>
      {bridges.map((f, i) => {
        const m = matches.list[i];
        if (!m) return null;
        return (
          <div key={f.other.saeId} className="card-bridge" data-testid="bridge-matches">
            <p className="muted">
              at {f.other.hook}:{' '}
              <strong data-testid="bridge-status">
                {m.status === 'shared'
                  ? 'shared'
                  : m.status === 'specific'
                    ? 'specific to this SAE'
                    : 'never fired on the corpus'}
              </strong>{' '}
              <span title={`${methodTitle(m.method)}; shared from ${m.sharedAt}`}>
                ({scoreName(m.method)} ≥ {m.sharedAt} is shared)
              </span>
            </p>
            <ul className="card-nearest">
              {m.matches.slice(0, SHOWN).map((x, rank) => (
                <li key={x.feature}>
                  <button
                    type="button"
                    className="link"
                    title={`Open feature ${x.feature} in the galaxy of ${f.other.hook}`}
                    data-testid="bridge-match"
                    data-feature={x.feature}
                    onClick={() =>
                      void runAction('open-in-sae', { saeId: f.other.saeId, feature: x.feature })
                    }
                  >
                    feature {x.feature}
                    {rank === 0 && m.bestTitle ? ` · ${m.bestTitle}` : ''}
                  </button>
                  <span className="mono muted">{x.score.toFixed(2)}</span>
                </li>
              ))}
            </ul>
          </div>
        );
      })}
    </>
  );
}
