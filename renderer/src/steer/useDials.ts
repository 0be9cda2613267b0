import { useSyncExternalStore } from 'react';
import { dialStore, type DialState } from './store';

export function useDials(): readonly DialState[] {
  return useSyncExternalStore(dialStore.subscribe, dialStore.get);
}
