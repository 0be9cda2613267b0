/**
 * The session of the open pack: the newest one is reopened (or a new one started) and handed
 * to `sessionState.apply`, which puts its current step back in place before any run. The page
 * reads the session from `sessionState`; a run's reply carries the step it was saved as and is
 * folded in there (`addStep`), so the session is never read back after a run.
 */
import { useEffect, useSyncExternalStore } from 'react';
import { getClient } from '../api/client';
import { firstViewSettled } from '../api/firstView';
import { sessionState } from './sessionState';
import type { SessionDetail } from './sessionView';

/** Opens the pack's session; returns it once open (null before, and for another pack's). */
export function useSession(packId: string | null): SessionDetail | null {
  useEffect(() => {
    sessionState.set(null);
    if (!packId) return;
    let live = true;
    void (async () => {
      // After the first view: the session is not drawn in it, and its worker's start would
      // compete with the map's read and the first frame (cold start).
      await firstViewSettled();
      if (!live) return;
      const client = getClient();
      const list = await client.call('sessions.list', { packId });
      const id = list.ok && list.value[0] ? list.value[0].id : null;
      const created = id ? null : await client.call('sessions.create', { packId });
      const sessionId = id ?? (created?.ok ? created.value.id : null);
      if (!live) return;
      if (!sessionId) return sessionState.say('cannot open a session for this pack', 'error');
      const d = await client.call('sessions.get', { sessionId });
      if (!live) return;
      if (d.ok) sessionState.apply(d.value);
      else sessionState.say(d.error.message, 'error');
    })();
    return () => {
      live = false;
    };
  }, [packId]);
  const detail = useSyncExternalStore(sessionState.subscribe, sessionState.get);
  return detail && detail.session.packId === packId ? detail : null;
}
