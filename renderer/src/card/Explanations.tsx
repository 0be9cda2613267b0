/** Explanations imported from Neuronpedia, each with the model that wrote it, and the feature's
 * Neuronpedia id (modelId/sourceId/index). */
import type { FeatureCard } from '../../../preload/contract';

export function Explanations({ card }: { card: FeatureCard }) {
  const list = card.explanations ?? [];
  const id = card.neuronpedia;
  if (list.length === 0 && !id) return null;
  return (
    <details className="card-evidence" data-testid="card-explanations" open={list.length > 1}>
      <summary>
        {list.length === 1 ? '1 explanation' : `${list.length} explanations`} from Neuronpedia
        {id && (
          <span className="mono muted">
            {' '}
            {id.modelId}/{id.sourceId}/{id.index}
          </span>
        )}
      </summary>
      <ul className="card-assoc">
        {list.map((e, i) => (
          <li key={i} data-testid="card-explanation">
            {e.description}
            {(e.explainer ?? e.method) && (
              <span className="muted"> — {[e.explainer, e.method].filter(Boolean).join(', ')}</span>
            )}
          </li>
        ))}
      </ul>
    </details>
  );
}
