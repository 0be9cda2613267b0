/** The hovered star's label near the pointer (the card's label, fetched once and cached). */
import type { Ref } from 'react';
import type { GalaxyStore } from './store';
import { useFeatureCard } from './useFeatureCard';
import { useGalaxy } from './useGalaxy';

export function HoverLabel({ store, ref }: { store: GalaxyStore; ref: Ref<HTMLDivElement> }) {
  const hovered = useGalaxy((s) => s.hovered, store);
  const packId = useGalaxy((s) => s.packId, store);
  const saeId = useGalaxy((s) => s.saeId, store);
  const corpus = useGalaxy((s) => s.corpus, store);
  const card = useFeatureCard(packId, saeId, hovered, corpus);
  const label = card?.result.ok ? card.result.value.label : null;
  return (
    <div
      ref={ref}
      className="galaxy-hover"
      data-testid="galaxy-hover"
      data-feature={hovered ?? ''}
      style={{ visibility: hovered === null ? 'hidden' : 'visible' }}
    >
      <span className="mono">#{hovered}</span>{' '}
      {label ?? (card && !card.result.ok ? 'no card' : '…')}
    </div>
  );
}
