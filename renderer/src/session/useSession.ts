/**
 * The session of the open pack: the newest one is reopened (or a new one started). A run's
 * reply carries the step it was saved as; `addStep` folds it in (a drag's later ticks replace
 * their step), so the session is never read back after a run.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Step } from '../../../preload/contract';
import { getClient } from '../api/client';
import { withStep, type SessionDetail } from './sessionView';

export function useSession(
  packId: string | null,
  onOpened?: (d: SessionDetail) => void,
): {
  detail: SessionDetail | null;
  setDetail: (d: SessionDetail) => void;
  addStep: (step: Step | null) => void;
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

  const addStep = useCallback((step: Step | null) => {
    if (!step) return;
    setState((s) => (s.detail ? { ...s, detail: withStep(s.detail, step) } : s));
  }, []);
  const setDetail = useCallback((d: SessionDetail) => setState((s) => ({ ...s, detail: d })), []);

  return state.packId === packId
    ? { detail: state.detail, setDetail, addStep, error: state.error }
    : { detail: null, setDetail, addStep, error: null };
}
