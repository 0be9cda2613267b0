/**
 * "Build the bridge": bridge.build as a job between the main SAE (side a) and the other one,
 * with a progress bar and cancel; a cancelled build resumes when started again, and a refusal
 * (two SAEs the bridge cannot compare) is shown as the server words it. Where the pair can be
 * bridged more than one way (two text models with one tokenizer: by activations or by effect on
 * the next tokens), "Match by" chooses, each way said in one plain sentence.
 */
import { useId, useState } from 'react';
import { getClient } from '../api/client';
import { useJob } from '../api/useJob';
import { ProgressBar } from '../components/ProgressBar';
import type { SaeRef } from './bridgeView';
import { methodSentence, methodWords, type BridgeMethodName } from './scoreName';

export function BuildBridge({
  main,
  other,
  what,
  methods,
  initial,
  another,
  onBuilt,
}: {
  main: SaeRef;
  other: SaeRef;
  /** The two SAEs in words, for the lead line. */
  what: string;
  /** The methods the pair can be built by (bridge.status); [] when unknown: the default. */
  methods: BridgeMethodName[];
  /** The method chosen first, when the person asked for one. */
  initial: BridgeMethodName | null;
  /** Whether a bridge by another method is built already. */
  another: boolean;
  onBuilt: (method: BridgeMethodName | null) => void;
}) {
  const job = useJob();
  const labelId = useId();
  const [error, setError] = useState<string | null>(null);
  const [method, setMethod] = useState<BridgeMethodName | null>(
    initial && methods.includes(initial) ? initial : (methods[0] ?? null),
  );

  const start = async (): Promise<void> => {
    setError(null);
    const r = await job.run('bridge', (jobId) =>
      getClient().call('bridge.build', {
        a: main,
        b: other,
        ...(method ? { method } : {}),
        jobId,
      }),
    );
    if (r.ok) onBuilt(r.value.method);
    else
      setError(
        r.error.code === 'cancelled'
          ? 'Cancelled. Building again resumes where it stopped.'
          : `The bridge could not be built: ${r.error.message}`,
      );
  };

  return (
    <div className="bridge-build" data-testid="build-bridge">
      <p>
        {another ? 'No bridge by this method' : 'No bridge'} between {what} yet.{' '}
        {methods.length > 1 ? (
          <span id={labelId}>Match features by:</span>
        ) : (
          'A bridge matches each feature to its best features on the other side: by decoder direction on one stream, else by how their activations move together over shared examples.'
        )}
      </p>
      {methods.length > 1 && (
        <div className="bridge-methods" role="radiogroup" aria-labelledby={labelId}>
          {methods.map((m) => (
            <label key={m}>
              <input
                type="radio"
                name="bridge-method"
                value={m}
                checked={method === m}
                disabled={job.jobId !== null}
                onChange={() => setMethod(m)}
              />
              <span>
                <strong>{methodWords(m)}</strong>
                <small>{methodSentence(m)}</small>
              </span>
            </label>
          ))}
        </div>
      )}
      {job.jobId ? (
        <div className="row">
          <ProgressBar progress={job.progress} />
          <button type="button" onClick={job.cancel}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" className="primary" onClick={() => void start()}>
          Build the bridge
        </button>
      )}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
