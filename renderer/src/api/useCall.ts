/**
 * Runs one API call and keeps its latest Result; `reload` runs it again. `after`: the call
 * waits for it first (firstViewSettled, for a call the first view does not need).
 */
import { useCallback, useEffect, useState } from 'react';
import type { CallInput, CallName, CallOutput, Result } from '../../../preload/contract';
import { getClient } from './client';

export function useCall<K extends CallName>(
  name: K,
  input: CallInput<K>,
  after?: () => Promise<void>,
): { result: Result<CallOutput<K>> | null; reload: () => void } {
  const [result, setResult] = useState<Result<CallOutput<K>> | null>(null);
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify(input);
  useEffect(() => {
    let live = true;
    const call = (): void =>
      void getClient()
        .call(name, JSON.parse(key) as CallInput<K>)
        .then((r) => {
          if (live) setResult(r);
        });
    if (after)
      void after().then(() => {
        if (live) call();
      });
    else call();
    return () => {
      live = false;
    };
  }, [name, key, generation, after]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { result, reload };
}
