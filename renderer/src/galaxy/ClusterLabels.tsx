/**
 * Cluster labels: DOM buttons over the canvas (clickable: fly to the cluster and open its
 * features in the selection panel), hidden until
 * labelPlacer.ts (with the canvas) places them by zoom level. React renders the buttons once
 * per map. No three here, so the page can show this before the 3D code has loaded.
 */
import { runAction } from '../actions/registry';
import { estimateWidth } from './labels';
import type { GalaxyMap } from './mapData';
import type { GalaxyStore } from './store';

export type LabelEls = { current: Map<number, HTMLElement> };

export function ClusterLabels({
  map,
  labelsRef,
  store,
}: {
  map: GalaxyMap;
  labelsRef: LabelEls;
  store: GalaxyStore;
}) {
  return (
    <div className="galaxy-labels" aria-label="Clusters">
      {map.clusters.map((c) => (
        <button
          key={c.id}
          type="button"
          className="galaxy-label"
          style={{ display: 'none', maxWidth: estimateWidth(c.label) }}
          ref={(el) => {
            if (el) labelsRef.current.set(c.id, el);
            else labelsRef.current.delete(c.id);
          }}
          onClick={() => {
            void runAction('fly-to-cluster', { cluster: c.id });
            // its features open as a selection, ranked on the current input
            void runAction('open-selection', {
              features: store.clusterFeatures(c.id),
              origin: 'cluster',
              note: `Cluster “${c.label}”`,
            });
          }}
          title={`${c.label} · ${c.size} features`}
        >
          {c.label}
        </button>
      ))}
    </div>
  );
}
