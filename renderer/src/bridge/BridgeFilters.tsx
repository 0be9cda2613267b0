/**
 * The bridge's filters, in its header: all matches, only shared or only specific ones, and the
 * score range kept. Links, the other side's highlights and what a lasso carries across follow
 * them, and both galaxies dim the features whose best match is left out.
 */
import type { BridgeFilter } from './links';
import { runAction } from '../actions/registry';

const number = (v: string, fallback: number): number => {
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) ? n : fallback;
};

export function BridgeFilters({ filter, score }: { filter: BridgeFilter; score: string }) {
  return (
    <div className="bridge-filters" role="group" aria-label="Bridge filters">
      <select
        aria-label="Which matches"
        value={filter.show}
        onChange={(e) =>
          void runAction('set-bridge-filter', { show: e.target.value as BridgeFilter['show'] })
        }
      >
        <option value="all">all matches</option>
        <option value="shared">only shared</option>
        <option value="specific">only specific</option>
      </select>
      <label>
        {score}
        <input
          type="number"
          aria-label="Lowest score"
          step={0.05}
          min={-1}
          max={1}
          value={filter.min}
          onChange={(e) => void runAction('set-bridge-filter', { min: number(e.target.value, -1) })}
        />
        to
        <input
          type="number"
          aria-label="Highest score"
          step={0.05}
          min={-1}
          max={1}
          value={filter.max}
          onChange={(e) => void runAction('set-bridge-filter', { max: number(e.target.value, 1) })}
        />
      </label>
    </div>
  );
}
