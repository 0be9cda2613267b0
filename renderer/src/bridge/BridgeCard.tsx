/**
 * The bridge card: the pair of features a hovered or clicked star makes with its best match —
 * each side's title, top examples and effect strip (the feature card's own pieces), the match's
 * score between them, shared or specific. Docked under the two galaxies (never over them: a card
 * appearing under the pointer would end the hover that opened it); Escape or its × closes a
 * pinned pair.
 */
import { useSyncExternalStore } from 'react';
import { runAction } from '../actions/registry';
import { EffectStrip } from '../card/EffectStrip';
import { TopExamples } from '../card/TopExamples';
import { useFeatureCard } from '../galaxy/useFeatureCard';
import { useGalaxy } from '../galaxy/useGalaxy';
import type { GalaxyStore } from '../galaxy/store';
import { bridgeView } from './bridgeView';
import { kindOf } from './links';
import { scoreName } from './scoreName';

/** Examples shown per side: the card is a comparison, the full card is in the side panel. */
const EXAMPLES = 6;

function Side({ store, feature, role }: { store: GalaxyStore; feature: number; role: string }) {
  const packId = useGalaxy((s) => s.packId, store);
  const saeId = useGalaxy((s) => s.saeId, store);
  const loaded = useFeatureCard(packId, saeId, feature);
  const card = loaded?.result.ok ? loaded.result.value : null;
  return (
    <div className="bridge-side" data-testid={`bridge-card-${role}`} data-feature={feature}>
      <div className="bridge-side-head">
        <span className="mono muted">
          {saeId} #{feature}
        </span>
        <h3>{card ? card.label || `feature ${feature}` : loaded ? 'no card' : '…'}</h3>
      </div>
      {card && <TopExamples examples={card.topExamples.slice(0, EXAMPLES)} />}
      {card && packId && saeId && (card.calibration?.typical ?? card.meanActivation) > 0 && (
        <EffectStrip
          packId={packId}
          saeId={saeId}
          feature={feature}
          typical={card.calibration?.typical ?? card.meanActivation}
          limit={card.calibration?.limit}
        />
      )}
    </div>
  );
}

export function BridgeCard() {
  // a pair is a new object per change: read its fields as one key
  const key = useSyncExternalStore(bridgeView.subscribe, () => {
    const p = bridgeView.pair;
    return p ? `${p.main}|${p.other}|${p.score}|${p.pinned ? 1 : 0}` : '';
  });
  const method = useSyncExternalStore(bridgeView.subscribe, () => bridgeView.method);
  const pair = key ? bridgeView.pair : null;
  if (!pair)
    return (
      <section
        className="bridge-card empty-card"
        aria-label="Bridge card"
        data-testid="bridge-card"
      >
        Hover or click a star on either side to compare its feature with its best match on the
        other.
      </section>
    );
  const kind = kindOf(pair.score, bridgeView.sharedAt);
  return (
    <section
      className="bridge-card"
      aria-label="Bridge card: a feature and its best match"
      data-testid="bridge-card"
      data-main={pair.main}
      data-other={pair.other}
      onKeyDown={(e) => {
        if (e.key !== 'Escape') return;
        e.stopPropagation();
        void runAction('close-bridge-card');
      }}
    >
      <Side store={bridgeView.main} feature={pair.main} role="main" />
      <div className={`bridge-score ${kind}`} data-testid="bridge-card-score">
        <span className="mono">
          {scoreName(method, true)} {pair.score.toFixed(2)}
        </span>
        <span>{kind}</span>
        {pair.pinned && (
          <button
            type="button"
            className="link"
            aria-label="Close the bridge card"
            title="Close (Escape)"
            onClick={() => void runAction('close-bridge-card')}
          >
            ×
          </button>
        )}
      </div>
      <Side store={bridgeView.otherStore} feature={pair.other} role="other" />
    </section>
  );
}
