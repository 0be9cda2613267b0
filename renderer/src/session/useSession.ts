/**
 * The session of the open pack: the newest one is reopened (or a new one started), and its
 * steps are reloaded after every run.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CallOutput } from '../../../preload/contract';
import { getClient } from '../api/client';

export type SessionDetail = CallOutput<'sessions.get'>;

export function useSession(
  packId: string | null,
  onOpened?: (d: SessionDetail) => void,
): {
  detail: SessionDetail | null;
  setDetail: (d: SessionDetail) => void;
  refresh: () => void;
  error: string | null;
} {
  const [state, setState] = useState<{
    packId: string | null;
    detail: SessionDetail | null;
    error: string | null;
  }>({
    packId: null,
    detail: null,
    error: null,
  });
  const openedRef = useRef(onOpened);
  useEffect(() => {
    openedRef.current = onOpened;
  });
  useEffect(() => {
    if (!packId) return;
    let live = true;
    void (async () => {
      const client = getClient();
      const list = await client.call('sessions.list', { packId });
      const id = list.ok && list.value[0] ? list.value[0].id : null;
      const created = id ? null : await client.call('sessions.create', { packId });
      const sessionId = id ?? (created?.ok ? created.value.id : null);
      if (!sessionId) {
        if (live) setState({ packId, detail: null, error: 'cannot open a session for this pack' });
        return;
      }
      const d = await client.call('sessions.get', { sessionId });
      if (live && d.ok) openedRef.current?.(d.value);
      if (live)
        setState({ packId, detail: d.ok ? d.value : null, error: d.ok ? null : d.error.message });
    })();
    return () => {
      live = false;
    };
  }, [packId]);

  const sessionId = state.detail?.session.id ?? null;
  const refresh = useCallback(() => {
    if (!sessionId) return;
    void getClient()
      .call('sessions.get', { sessionId })
      .then((d) => {
        if (d.ok)
          setState((s) => (s.detail?.session.id === sessionId ? { ...s, detail: d.value } : s));
      });
  }, [sessionId]);
  const setDetail = useCallback((d: SessionDetail) => setState((s) => ({ ...s, detail: d })), []);

  return state.packId === packId
    ? { detail: state.detail, setDetail, refresh, error: state.error }
    : { detail: null, setDetail, refresh, error: null };
}
