/**
 * The galaxy's map from the app: index.map (typed arrays straight out of the binary frame)
 * decoded into a GalaxyMap. Marks the request, the reply in the page and the decoded map with
 * performance.mark (MAP_MARKS), which bench/mapTransfer.ts reads.
 */
import type { Result } from '../../../preload/contract';
import { getClient } from '../api/client';
import { corpusRef } from './featureCache';
import { decodeMap, MAP_MARKS, type GalaxyMap } from './mapData';

export async function fetchMap(
  packId: string,
  saeId: string,
  corpus: string | null,
): Promise<Result<GalaxyMap>> {
  performance.mark(MAP_MARKS.request);
  const r = await getClient().call('index.map', { packId, saeId, ...corpusRef(corpus) });
  if (!r.ok) return r;
  performance.mark(MAP_MARKS.reply);
  let map: GalaxyMap;
  try {
    map = decodeMap(r.value);
  } catch (e) {
    return {
      ok: false,
      error: { code: 'internal', message: `the map could not be read: ${(e as Error).message}` },
    };
  }
  performance.mark(MAP_MARKS.decoded, { detail: { count: map.count } });
  return { ok: true, value: map };
}
