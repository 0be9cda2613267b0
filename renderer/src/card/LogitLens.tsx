/** Logit lens: the tokens the feature's decoder direction promotes and suppresses. */
import type { FeatureCard } from '../../../preload/contract';

type Lens = NonNullable<FeatureCard['logitLens']>;

function Column({ rows, kind }: { rows: Lens['top']; kind: 'up' | 'down' }) {
  return (
    <ol className={`card-lens ${kind}`}>
      {rows.map((r, i) => (
        <li key={i}>
          <span className="mono tokchip">{JSON.stringify(r.token).slice(1, -1)}</span>
          <span className="mono muted">{r.value.toFixed(2)}</span>
        </li>
      ))}
    </ol>
  );
}

export function LogitLens({ lens }: { lens: Lens }) {
  return (
    <div className="card-lens-grid">
      <div>
        <div className="card-sub">promotes</div>
        <Column rows={lens.top} kind="up" />
      </div>
      <div>
        <div className="card-sub">suppresses</div>
        <Column rows={lens.bottom} kind="down" />
      </div>
    </div>
  );
}
