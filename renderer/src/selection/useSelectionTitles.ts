/**
 * Titles and a mini effect (the colour it moves toward, or its first effect words) of the
 * features a panel shows, read together from the feature index (index.titles: one read, no
 * cards, so a list is named at once; none without an index).
 */
import { useEffect, useState } from 'react';
import { getClient } from '../api/client';
import { corpusRef } from '../galaxy/featureCache';
import { galaxyStore } from '../galaxy/store';

export interface Title {
  title: string;
  /** a colour swatch the feature moves toward (image packs), if the index measured one */
  swatch: { hex: string; name: string } | null;
  /** what turning it up does, in a word or two ("" when the index did not measure it) */
  effect: string;
}

const EMPTY: ReadonlyMap<number, Title> = new Map();

export function useSelectionTitles(
  packId: string,
  saeId: string,
  features: readonly number[],
): ReadonlyMap<number, Title> {
  const [reply, setReply] = useState<{ key: string; titles: ReadonlyMap<number, Title> } | null>(
    null,
  );
  // titles only where the galaxy shows this pack's index (a pack without one has none)
  const indexed =
    galaxyStore.packId === packId && galaxyStore.saeId === saeId && galaxyStore.map !== null;
  const key = `${packId}\u0000${saeId}\u0000${features.join(',')}`;
  useEffect(() => {
    let live = true;
    if (!indexed) return;
    const list = key.split('\u0000')[2]?.split(',').filter(Boolean).map(Number) ?? [];
    if (list.length === 0) return;
    void getClient()
      .call('index.titles', { packId, saeId, features: list, ...corpusRef(galaxyStore.corpus) })
      .then((r) => {
        if (!live || !r.ok) return;
        const titles = new Map<number, Title>();
        for (const t of r.value.titles) {
          titles.set(t.feature, {
            title: t.label,
            swatch: t.swatch,
            effect: t.words.slice(0, 2).join(', '),
          });
        }
        setReply({ key, titles });
      });
    return () => {
      live = false;
    };
    // key stands for the pack, the SAE and the features
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, indexed]);
  const titles = indexed && reply?.key === key ? reply.titles : EMPTY;
  return titles;
}
