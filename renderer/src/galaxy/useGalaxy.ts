/** Reads one value of the galaxy store in a component; re-renders only when it changes. */
import { useSyncExternalStore } from 'react';
import { galaxyStore, type GalaxyStore } from './store';

export function useGalaxy<T>(select: (s: GalaxyStore) => T, store: GalaxyStore = galaxyStore): T {
  return useSyncExternalStore(store.subscribe, () => select(store));
}
