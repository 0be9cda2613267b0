/**
 * A worker that speaks the real protocol with a trivial engine, so the client's plumbing
 * (routing, lanes, cancellation, crash recovery) is tested without loading models.
 * op 'text.generate' with input {steps, ms} streams `steps` tokens, one every `ms`, and
 * stops when cancelled; op 'open' with input {crash: true} exits the worker.
 */
import { parentPort } from 'node:worker_threads';
import type { WorkerRequest, WorkerResponse } from '../../../../main/runtime/worker/protocol';

const cancelled = new Set<number>();
const send = (m: WorkerResponse): void => parentPort?.postMessage(m);

parentPort?.on('message', (req: WorkerRequest) => {
  if (req.type === 'cancel') {
    cancelled.add(req.id);
    return;
  }
  if (req.type === 'unload') return send({ type: 'done', id: req.id, value: null });
  const input = req.input as { steps?: number; ms?: number; crash?: boolean };
  if (input.crash) process.exit(3);
  const steps = input.steps ?? 1;
  let i = 0;
  const tick = (): void => {
    if (cancelled.has(req.id))
      return send({
        type: 'error',
        id: req.id,
        code: 'cancelled',
        message: `request ${req.id} cancelled at step ${i}`,
      });
    if (i === steps)
      return send({ type: 'done', id: req.id, value: { packDir: req.packDir, steps } });
    send({ type: 'token', id: req.id, row: 'after', index: i, tokenId: i, text: `t${i}` });
    i += 1;
    setTimeout(tick, input.ms ?? 1);
  };
  tick();
});
