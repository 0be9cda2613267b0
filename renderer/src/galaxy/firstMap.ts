/**
 * The map a start shows, asked for as the page's scripts start (issue 19's cold start): the
 * pack and SAE whose map the last start showed first, remembered here, asked for over the
 * HTTP door (or IPC) while the app renders, opens its socket and reads the pack list.
 * GalaxyPane takes the reply when it shows the same pack and SAE; a reply no one takes is
 * dropped.
 */
import type { Result } from '../../../preload/contract';
import { fetchMap } from './fetchMap';
import type { GalaxyMap } from './mapData';
import { rememberedPack } from '../selectedPack';

const KEY = 'orrery.firstMap';

export const mapKey = (packId: string, saeId: string, corpus: string | null): string =>
  `${packId}/${saeId}/${corpus ?? ''}`;

let early: { key: string; reply: Promise<Result<GalaxyMap>> } | null = null;
let remembered = false;

/**
 * Asks for the map the last start showed first, if one is remembered and the page will show
 * its pack again (the pack last shown; a map of another is never asked for).
 */
export function askFirstMap(): void {
  let hint: { packId?: unknown; saeId?: unknown } | null;
  try {
    hint = JSON.parse(localStorage.getItem(KEY) ?? 'null') as typeof hint;
  } catch {
    return;
  }
  if (typeof hint?.packId !== 'string' || typeof hint.saeId !== 'string') return;
  if (rememberedPack() !== hint.packId) return;
  early = {
    key: mapKey(hint.packId, hint.saeId, null),
    reply: fetchMap(hint.packId, hint.saeId, null),
  };
}

/** The early reply for `key`, once; null when none was asked for it. */
export function takeFirstMap(key: string): Promise<Result<GalaxyMap>> | null {
  if (early?.key !== key) return null;
  const { reply } = early;
  early = null;
  return reply;
}

/** Remembers the first map this page showed (the next start asks for it early). */
export function rememberFirstMap(packId: string, saeId: string, corpus: string | null): void {
  if (remembered) return;
  remembered = true;
  if (corpus === null) localStorage.setItem(KEY, JSON.stringify({ packId, saeId }));
}
