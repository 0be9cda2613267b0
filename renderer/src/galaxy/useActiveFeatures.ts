/**
 * "What is active": for the current input of the open pack, asks text.active or image.active
 * (debounced, stale replies dropped) and lights those features in the galaxy, brightest for
 * the strongest (ActiveOutput.strongest → store.setActive). Glyph packs have no such call.
 */
import { useEffect } from 'react';
import { getClient } from '../api/client';
import { firstViewSettled } from '../api/firstView';
import { galaxyStore } from './store';
import { useGalaxy } from './useGalaxy';

export type ActiveInput =
  | { kind: 'text-lm'; prompt: string }
  | { kind: 'image-vae'; source: { example: number } | { blob: string; name?: string } }
  | { kind: 'glyph-cvae' };

export function useActiveFeatures(packId: string | null, input: ActiveInput | null): void {
  const mapPack = useGalaxy((s) => s.packId);
  const saeId = useGalaxy((s) => s.saeId);
  const key = input ? JSON.stringify(input) : '';
  useEffect(() => {
    if (!packId || !saeId || mapPack !== packId || !key) return;
    const parsed = JSON.parse(key) as ActiveInput;
    let live = true;
    // after the first view (api/firstView): the call loads the pack's model
    const ask = async (): Promise<void> => {
      await firstViewSettled();
      if (!live) return;
      const client = getClient();
      const call =
        parsed.kind === 'text-lm'
          ? parsed.prompt.trim()
            ? client.call('text.active', { packId, saeId, prompt: parsed.prompt, topK: 8 })
            : null
          : parsed.kind === 'image-vae'
            ? client.call('image.active', { packId, saeId, source: parsed.source, topK: 8 })
            : null;
      if (!call) return galaxyStore.setActive([]);
      void call.then((r) => {
        if (!live || galaxyStore.packId !== packId || galaxyStore.saeId !== saeId) return;
        galaxyStore.setActive(r.ok ? r.value.strongest : []);
      });
    };
    const timer = setTimeout(() => void ask(), 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [packId, saeId, mapPack, key]);
}
