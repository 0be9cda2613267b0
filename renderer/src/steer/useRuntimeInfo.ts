import { useEffect, useState } from 'react';
import type { RuntimeInfo } from '../../../preload/contract';
import { getClient } from '../api/client';
import { firstViewSettled } from '../api/firstView';

/**
 * Loads a pack into the inference worker and returns what it can do (or why it cannot), once
 * the first view has settled (loading a model competes with the galaxy's first frame).
 */
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
    void firstViewSettled()
      .then(() => (live ? getClient().call('runtime.open', { packId }) : null))
      .then((r) => {
        if (!r) return;
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
