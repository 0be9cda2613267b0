/** The card of one feature (null while loading), refreshed when a rename replaces it. */
import { useEffect, useState } from 'react';
import type { FeatureCard, Result } from '../../../preload/contract';
import { getFeatureCard, onCardsChanged } from './featureCache';

export function useFeatureCard(
  packId: string | null,
  saeId: string | null,
  feature: number | null,
  corpus: string | null = null,
): { key: string; result: Result<FeatureCard> } | null {
  const [loaded, setLoaded] = useState<{ key: string; result: Result<FeatureCard> } | null>(null);
  const [gen, setGen] = useState(0);
  useEffect(() => onCardsChanged(() => setGen((g) => g + 1)), []);
  const k =
    packId && saeId && feature !== null ? `${packId}/${saeId}/${feature}/${corpus ?? ''}` : '';
  useEffect(() => {
    if (!packId || !saeId || feature === null) return;
    let live = true;
    void getFeatureCard(packId, saeId, feature, corpus).then((result) => {
      if (live) setLoaded({ key: `${packId}/${saeId}/${feature}/${corpus ?? ''}`, result });
    });
    return () => {
      live = false;
    };
  }, [packId, saeId, feature, corpus, gen]);
  return loaded && loaded.key === k ? loaded : null;
}
