/**
 * "Through the layers" on a feature card: for a pack with SAEs at several hooks of one model,
 * the feature's chain of best matches layer by layer (bridge.chain, through the bridges built
 * between consecutive SAEs), each link with its title, its layer's hook and the score that led
 * to it; a link opens that feature in its SAE's galaxy (open-in-sae). Where the walk stopped
 * for want of a bridge, one line says which to build. Shows nothing for a pack whose SAEs are
 * not at several layers.
 */
import { useEffect, useState } from 'react';
import type { CallOutput } from '../../../preload/contract';
import { runAction } from '../actions/registry';
import { getClient } from '../api/client';

type Chain = CallOutput<'bridge.chain'>;

export function LayerChain({
  packId,
  saeId,
  feature,
}: {
  packId: string;
  saeId: string;
  feature: number;
}) {
  const [chain, setChain] = useState<{ key: string; value: Chain | null } | null>(null);
  const key = `${packId}/${saeId}#${feature}`;

  useEffect(() => {
    let live = true;
    void getClient()
      .call('bridge.chain', { packId, saeId, feature })
      .then((r) => {
        if (live) setChain({ key: `${packId}/${saeId}#${feature}`, value: r.ok ? r.value : null });
      });
    return () => {
      live = false;
    };
  }, [packId, saeId, feature]);

  const c = chain?.key === key ? chain.value : null;
  if (!c || c.saes.length < 2) return null;
  const missing = c.stops.filter((s) => s.why === 'no bridge');
  return (
    <>
      <div className="card-sub">through the layers</div>
      <ol className="card-nearest" data-testid="layer-chain">
        {c.links.map((l) => (
          <li key={l.saeId} data-testid="chain-link" data-sae={l.saeId} data-feature={l.feature}>
            <span className="mono muted">{l.hook}</span>{' '}
            {l.saeId === saeId && l.score === null ? (
              <strong>{l.label ?? `feature ${l.feature}`} (this one)</strong>
            ) : (
              <button
                type="button"
                className="link"
                title={`Open feature ${l.feature} in the galaxy of ${l.hook}`}
                onClick={() =>
                  void runAction('open-in-sae', { saeId: l.saeId, feature: l.feature })
                }
              >
                {l.label ?? `feature ${l.feature}`}
              </button>
            )}
            {l.score !== null && (
              <span className="mono muted">
                {' '}
                {l.score.toFixed(2)}
                {l.status === 'specific' ? ' (weak)' : ''}
              </span>
            )}
          </li>
        ))}
      </ol>
      {missing.length > 0 && (
        <p className="muted">
          {missing.map((s) => `build the bridge ${s.saeId} ↔ ${s.toward}`).join('; ')} to follow it
          further.
        </p>
      )}
    </>
  );
}
