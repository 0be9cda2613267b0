/**
 * The feature card for the hovered star, or else the chosen one: label and its source,
 * stats, histogram, top examples, logit lens, nearest features (click: select and fly),
 * rename and notes, and "Turn it" (the add-dial action: the feature joins the dial list). Its
 * links run actions too: a nearest feature select-feature, the cluster badge fly-to-cluster,
 * a bridge's match (BridgeMatches) and a link of its chain through the layers (LayerChain)
 * open-in-sae.
 */
import { rememberRange } from '../steer/calibration';
import { useDials } from '../steer/useDials';
import type { FeatureCard } from '../../../preload/contract';
import { runAction } from '../actions/registry';
import { useFeatureCard } from '../galaxy/useFeatureCard';
import { useGalaxy } from '../galaxy/useGalaxy';
import { BridgeMatches } from './BridgeMatches';
import { LayerChain } from './LayerChain';
import { EffectStrip } from './EffectStrip';
import { Explanations } from './Explanations';
import { Histogram } from './Histogram';
import { LogitLens } from './LogitLens';
import { RenameForm } from './RenameForm';
import { TopExamples } from './TopExamples';
import './card.css';
import { percent } from './percent';

interface CardProps {
  card: FeatureCard;
  packId: string;
  saeId: string;
  pinned: boolean;
}

/** Where a label came from, in words. */
const SOURCE_WORDS: Record<string, string> = {
  metadata: 'from metadata',
  'top-tokens': 'from its tokens',
  'top-examples': 'from its top examples',
  visual: 'from its visual effect',
  user: 'named by you',
  neuronpedia: 'imported',
  none: 'no label',
};

function Card({ card, packId, saeId, pinned }: CardProps) {
  const cluster = card.cluster;
  if (card.calibration) rememberRange(saeId, card.feature, card.calibration);
  const dialled = useDials().some((d) => d.saeId === saeId && d.feature === card.feature);
  return (
    <div className="card" data-testid="feature-card" data-feature={card.feature}>
      <div className="card-head">
        <h3 data-testid="feature-card-label">{card.label || `feature ${card.feature}`}</h3>
        <span className="mono muted">#{card.feature}</span>
      </div>
      <div className="card-meta">
        <span
          className={`badge src-${card.labelSource}`}
          title={card.labelWhy || undefined}
          data-testid="label-source"
        >
          {SOURCE_WORDS[card.labelSource] ?? card.labelSource}
        </span>
        {cluster && (
          <button
            type="button"
            className="link"
            title={
              cluster.relation === 'other'
                ? 'The cluster of nearby features on the map, named for what most of them do; this feature’s own evidence does not show it. Fly there'
                : 'The cluster of nearby features on the map; fly there'
            }
            data-testid="cluster-badge"
            data-relation={cluster.relation ?? 'mixed'}
            onClick={() => void runAction('fly-to-cluster', { cluster: cluster.id })}
          >
            {cluster.relation === 'other' ? `Near: ${cluster.label} (not this one)` : cluster.label}
          </button>
        )}
        {!pinned && <span className="muted">hovered</span>}
      </div>
      {card.labelWhy && (
        <p className="card-why" data-testid="label-why">
          {card.labelWhy}
        </p>
      )}
      <Explanations card={card} />
      {card.effect && card.effect.facts.length > 0 && (
        <p className="card-effect" data-testid="card-effect">
          {card.effect.swatch && (
            <span
              className="swatch"
              style={{ background: card.effect.swatch.hex }}
              title={`${card.effect.swatch.name} ${card.effect.swatch.hex}`}
            />
          )}
          Turned up ({card.effect.multiple}× typical): {card.effect.facts.join('; ')}
        </p>
      )}
      {card.calibration && (
        <p className="muted card-range" data-testid="card-range">
          dial range: to {card.calibration.limit.toPrecision(3)} (
          {(card.calibration.limit / card.calibration.typical).toFixed(1)}× typical),{' '}
          {card.calibration.measure === 'changed-tokens'
            ? `before greedy text from the default prompt changes ${Math.round(card.calibration.level * 100)}% of its words`
            : card.calibration.measure === 'ink-ssim'
              ? `where the letters keep SSIM ≥ ${card.calibration.level} over their ink`
              : `where the picture keeps SSIM ≥ ${card.calibration.level}`}
          {card.calibration.reached ? '' : ' (not reached: the largest strength tried)'}
        </p>
      )}
      {(card.calibration?.typical ?? card.meanActivation) > 0 && (
        <EffectStrip
          packId={packId}
          saeId={saeId}
          feature={card.feature}
          typical={card.calibration?.typical ?? card.meanActivation}
          limit={card.calibration?.limit}
        />
      )}
      {card.evidence && (
        <details className="card-evidence" data-testid="card-evidence">
          <summary>evidence</summary>
          <p>
            <span className="mono">{card.evidence.label}</span> ({card.evidence.source})
          </p>
          <p className="muted">{card.evidence.detail}</p>
        </details>
      )}
      <button
        type="button"
        className="primary"
        title="Add a dial for this feature"
        onClick={() =>
          void runAction('add-dial', {
            saeId,
            feature: card.feature,
            label: card.label,
            maxActivation: card.maxActivation,
          })
        }
        data-testid="turn-it"
      >
        {dialled ? 'Turn it (dial added)' : 'Turn it'}
      </button>
      <dl className="facts">
        <dt>fires on</dt>
        <dd>{percent(card.density)} of examples</dd>
        <dt>max · mean</dt>
        <dd>
          {card.maxActivation.toPrecision(3)} · {card.meanActivation.toPrecision(3)}
        </dd>
      </dl>
      <Histogram histogram={card.histogram} />
      {card.topTokens.length > 0 && (
        <>
          <div className="card-sub">top tokens</div>
          <p className="card-tokens">
            {card.topTokens.map((t, i) => (
              <span key={i} className="mono tokchip">
                {JSON.stringify(t).slice(1, -1)}
              </span>
            ))}
          </p>
        </>
      )}
      <div className="card-sub">top examples</div>
      <TopExamples examples={card.topExamples} />
      {card.logitLens && (
        <>
          <div className="card-sub">logit lens</div>
          <LogitLens lens={card.logitLens} />
        </>
      )}
      {card.associations.length > 0 && (
        <>
          <div className="card-sub">goes with</div>
          <ul className="card-assoc">
            {card.associations.map((a, i) => (
              <li key={i}>
                {a.key}: <strong>{a.value}</strong>{' '}
                <span
                  className="mono muted"
                  title="share of the top examples with this value · chance of that share · AUC"
                >
                  {Math.round(a.share * 100)}% · {chance(a.log10Chance)} · AUC {a.auc.toFixed(2)}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
      {card.nearest.length > 0 && (
        <>
          <div className="card-sub">nearest features</div>
          <ul className="card-nearest">
            {card.nearest.map((n) => (
              <li key={n.feature}>
                <button
                  type="button"
                  className="link"
                  onClick={() => void runAction('select-feature', { feature: n.feature })}
                >
                  {n.label || `feature ${n.feature}`}
                </button>
                <span className="mono muted">{n.cosine.toFixed(2)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
      <BridgeMatches packId={packId} saeId={saeId} feature={card.feature} />
      <LayerChain packId={packId} saeId={saeId} feature={card.feature} />
      {pinned && (
        <RenameForm
          key={`${card.feature}/${card.label}/${card.notes}`}
          packId={packId}
          saeId={saeId}
          card={card}
        />
      )}
    </div>
  );
}

export function FeatureCardPanel() {
  const hovered = useGalaxy((s) => s.hovered);
  const focused = useGalaxy((s) => s.focused);
  const packId = useGalaxy((s) => s.packId);
  const saeId = useGalaxy((s) => s.saeId);
  const corpus = useGalaxy((s) => s.corpus);
  const feature = hovered ?? focused;
  const loaded = useFeatureCard(packId, saeId, feature, corpus);
  if (!packId || !saeId || feature === null) {
    return (
      <p className="muted">Hover or pick a star in the galaxy to see what its feature does.</p>
    );
  }
  if (!loaded) return <p className="muted">Loading feature {feature}…</p>;
  if (!loaded.result.ok)
    return (
      <p className="error-text">
        Feature {feature}: {loaded.result.error.message}
      </p>
    );
  return (
    <Card
      card={loaded.result.value}
      packId={packId}
      saeId={saeId}
      pinned={hovered === null || hovered === focused}
    />
  );
}

/** "p 3e-9": the chance of an association's share of top examples. */
function chance(log10: number): string {
  if (log10 > -3) return `p ${(10 ** log10).toFixed(3)}`;
  const e = Math.floor(log10);
  return `p ${(10 ** (log10 - e)).toFixed(0)}e${e}`;
}
