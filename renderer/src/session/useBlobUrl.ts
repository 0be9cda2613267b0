/**
 * An object URL for a stored blob (a step's after-image), fetched once per hash and kept for
 * the next time the history shows it; the least recently used are let go past KEEP. Not
 * fetched while a gesture is active (a drag's step changes its after-image every tick).
 */
import { useEffect, useState } from 'react';
import { getClient } from '../api/client';
import { afterGesture } from '../steer/gesture';

const KEEP = 256;
const urls = new Map<string, Promise<string | null>>();

function urlOf(hash: string): Promise<string | null> {
  const known = urls.get(hash);
  if (known) {
    // most recently used last
    urls.delete(hash);
    urls.set(hash, known);
    return known;
  }
  const made = getClient()
    .call('blobs.get', { hash })
    .then((r) =>
      r.ok ? URL.createObjectURL(new Blob([r.value.bytes.slice()], { type: 'image/png' })) : null,
    );
  urls.set(hash, made);
  // a failed fetch is asked again next time
  void made.then((u) => u === null && urls.get(hash) === made && urls.delete(hash));
  while (urls.size > KEEP) {
    const [oldest, p] = urls.entries().next().value as [string, Promise<string | null>];
    urls.delete(oldest);
    void p.then((u) => u && URL.revokeObjectURL(u));
  }
  return made;
}

export function useBlobUrl(hash: string | undefined): string | null {
  const [shown, setShown] = useState<{ hash: string; url: string | null } | null>(null);
  useEffect(() => {
    if (!hash) return;
    let live = true;
    // during a drag the step's after-image changes with every tick: ask for the one it ends with
    const cancel = afterGesture(() => {
      void urlOf(hash).then((url) => live && setShown({ hash, url }));
    });
    return () => {
      live = false;
      cancel();
    };
  }, [hash]);
  return hash && shown?.hash === hash ? shown.url : null;
}
