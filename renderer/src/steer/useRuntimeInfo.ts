import { useEffect, useState } from 'react';
import type { RuntimeInfo } from '../../../preload/contract';
import { getClient } from '../api/client';

/** Loads a pack into the inference worker and returns what it can do (or why it cannot). */
export function useRuntimeInfo(packId: string | null): {
  info: RuntimeInfo | null;
  error: string | null;
} {
  const [state, setState] = useState<{
    id: string | null;
    info: RuntimeInfo | null;
    error: string | null;
  }>({
    id: null,
    info: null,
    error: null,
  });
  useEffect(() => {
    if (!packId) return;
    let live = true;
    void getClient()
      .call('runtime.open', { packId })
      .then((r) => {
        if (live)
          setState({
            id: packId,
            info: r.ok ? r.value : null,
            error: r.ok ? null : r.error.message,
          });
      });
    return () => {
      live = false;
    };
  }, [packId]);
  return state.id === packId
    ? { info: state.info, error: state.error }
    : { info: null, error: null };
}
