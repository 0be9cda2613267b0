/**
 * Feature cards from index.feature, cached per pack, SAE and feature (hover asks often).
 * A rename replaces the cached card; a rebuild or a label import clears them all.
 */
import type { FeatureCard, Result } from '../../../preload/contract';
import { getClient } from '../api/client';

const cache = new Map<string, Promise<Result<FeatureCard>>>();
const listeners = new Set<() => void>();
/** How many times the cards were cleared: a card asked for before a clear may be stale. */
let generation = 0;
export const cardsGeneration = (): number => generation;

const key = (packId: string, saeId: string, feature: number, corpus: string | null): string =>
  `${packId}\u0000${saeId}\u0000${feature}\u0000${corpus ?? ''}`;

/** The corpus part of an index.* input: absent for the pack's own examples. */
export const corpusRef = (corpus: string | null): { corpus?: string } => (corpus ? { corpus } : {});

export function getFeatureCard(
  packId: string,
  saeId: string,
  feature: number,
  corpus: string | null = null,
): Promise<Result<FeatureCard>> {
  const k = key(packId, saeId, feature, corpus);
  let p = cache.get(k);
  if (!p) {
    p = getClient().call('index.feature', { packId, saeId, feature, ...corpusRef(corpus) });
    cache.set(k, p);
    // Failures are not cached: the backend may come up later.
    void p.then((r) => {
      if (!r.ok) cache.delete(k);
    });
  }
  return p;
}

/** Stores a card the server returned (after a rename) and tells the readers. */
export function putFeatureCard(
  packId: string,
  saeId: string,
  card: FeatureCard,
  corpus: string | null = null,
): void {
  cache.set(key(packId, saeId, card.feature, corpus), Promise.resolve({ ok: true, value: card }));
  for (const l of [...listeners]) l();
}

export function onCardsChanged(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** Forgets every card (after a rebuild or a label import) and tells the readers to ask again. */
export function clearFeatureCards(): void {
  cache.clear();
  generation += 1;
  for (const l of [...listeners]) l();
}
