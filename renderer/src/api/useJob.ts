/**
 * A long call run as a job: a fresh job id, its progress events, and cancel. The call
 * receives the id; `running` is true until it answers.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Progress, Result } from '../../../preload/contract';
import { getClient } from './client';

export interface Job {
  jobId: string | null;
  progress: Progress | null;
  run<T>(prefix: string, call: (jobId: string) => Promise<Result<T>>): Promise<Result<T>>;
  cancel(): void;
}

export function useJob(): Job {
  const [jobId, setJobId] = useState<string | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);

  useEffect(() => {
    if (!jobId) return;
    return getClient().on('job.progress', (p) => {
      if (p.jobId === jobId) setProgress(p);
    });
  }, [jobId]);

  const run = useCallback(async <T>(prefix: string, call: (id: string) => Promise<Result<T>>) => {
    const id = `${prefix}-${Date.now().toString(36)}`;
    setProgress(null);
    setJobId(id);
    try {
      return await call(id);
    } finally {
      setJobId(null);
    }
  }, []);

  const cancel = useCallback(() => {
    if (jobId) void getClient().call('jobs.cancel', { jobId });
  }, [jobId]);

  return { jobId, progress, run, cancel };
}
