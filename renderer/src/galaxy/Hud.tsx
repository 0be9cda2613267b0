/**
 * The galaxy's toolbar: orbit or lasso, reset, fly to the selection, the counts, and at its
 * right end `extra` (the SAE and examples pickers); it wraps rather than overlap. Its buttons
 * run the galaxy's actions (keys.ts).
 */
import type { ReactNode } from 'react';
import { runAction } from '../actions/registry';
import type { Tool } from './keys';
import type { GalaxyStore } from './store';
import { useGalaxy } from './useGalaxy';
import { formatCount } from '../../../preload/contract/counts';

export function Hud({ store, tool, extra }: { store: GalaxyStore; tool: Tool; extra?: ReactNode }) {
  const count = useGalaxy((s) => s.count, store);
  const selected = useGalaxy((s) => s.selectionCount, store);
  const active = useGalaxy((s) => s.activeCount, store);
  return (
    <div className="galaxy-hud" role="toolbar" aria-label="Galaxy tools">
      <button
        type="button"
        aria-pressed={tool === 'orbit'}
        onClick={() => void runAction('set-galaxy-tool', { tool: 'orbit' })}
        title="Orbit, zoom and pan"
      >
        Orbit
      </button>
      <button
        type="button"
        aria-pressed={tool === 'lasso'}
        onClick={() => void runAction('set-galaxy-tool', { tool: 'lasso' })}
        title="Lasso (L): Shift adds, Alt subtracts"
      >
        Lasso
      </button>
      <button type="button" onClick={() => void runAction('reset-view')} title="Reset the view (R)">
        Reset
      </button>
      <button
        type="button"
        disabled={selected === 0}
        onClick={() => void runAction('fly-to-selection')}
        title="Fly to the selection (F)"
      >
        Fly to selection
      </button>
      <span className="galaxy-count" data-testid="galaxy-count">
        {formatCount(count)} features · <strong data-testid="selection-count">{selected}</strong>{' '}
        selected
      </span>
      {selected > 0 && (
        <button
          type="button"
          onClick={() => void runAction('clear-selection')}
          title="Clear the selection (Escape)"
        >
          Clear
        </button>
      )}
      {active > 0 && (
        <span className="galaxy-count" data-testid="active-count">
          · {active} active
          <button type="button" className="link" onClick={() => void runAction('clear-active')}>
            clear
          </button>
        </span>
      )}
      {extra}
    </div>
  );
}
