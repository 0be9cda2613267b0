/**
 * The door every call goes through, whichever the transport: checks the envelope and the
 * call name, validates the input against the contract, runs the handler, and turns every
 * outcome into a Result. A bad message never throws out of here.
 */
import { type z } from 'zod';
import {
  calls,
  decodeFrame,
  fail,
  FrameError,
  isCallName,
  limits,
  ok,
  OrreryError,
  overLimit,
  RequestSchema,
  type CallName,
  type Calls,
  type CallOutput,
  type Reply,
  type Result,
} from '../../preload/contract';
import type { JobContext, JobRegistry } from './jobs';

export type Handler<K extends CallName> = (
  input: z.output<Calls[K]['input']>,
  job: JobContext,
) => Promise<CallOutput<K>> | CallOutput<K>;

export type Handlers = { [K in CallName]: Handler<K> };

export interface DispatchLog {
  slow(call: string, ms: number): void;
  error(call: string, error: unknown): void;
}

const SLOW_MS = 200;

function zodMessage(call: string, error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((i) => {
    const where = i.path.length ? i.path.join('.') : 'input';
    return `${where}: ${i.message}`;
  });
  return `${call}: ${issues.join('; ')}`;
}

export class Dispatcher {
  constructor(
    private readonly handlers: Handlers,
    private readonly jobs: JobRegistry,
    private readonly log: DispatchLog,
  ) {}

  async dispatch(callName: unknown, input: unknown): Promise<Result<unknown>> {
    if (!isCallName(callName)) {
      const shown = typeof callName === 'string' ? `"${callName.slice(0, 64)}"` : typeof callName;
      return fail('unknown_call', `there is no call named ${shown}`);
    }
    const spec = calls[callName];
    const parsed = spec.input.safeParse(input ?? {});
    if (!parsed.success) return fail('bad_input', zodMessage(callName, parsed.error));
    const value = parsed.data as { jobId?: string };
    const jobId = spec.long && typeof value.jobId === 'string' ? value.jobId : null;
    const started = performance.now();
    let job: ReturnType<JobRegistry['start']>;
    try {
      job = this.jobs.start(jobId);
    } catch (e) {
      return this.toFailure(callName, e);
    }
    try {
      const handler = this.handlers[callName] as Handler<CallName>;
      const out = await handler(parsed.data as never, job.ctx);
      return ok(out);
    } catch (e) {
      return this.toFailure(callName, e);
    } finally {
      job.finish();
      const ms = performance.now() - started;
      if (ms > SLOW_MS && jobId === null) this.log.slow(callName, ms);
    }
  }

  /**
   * For the WebSocket: a JSON text message, or a binary frame (preload/contract/binary.ts)
   * when the call carries bytes. Parse, check size and envelope, dispatch.
   */
  async handleMessage(data: string | Uint8Array): Promise<Reply> {
    const refuse = (code: 'invalid_request' | 'too_large', message: string): Reply => ({
      type: 'reply',
      id: null,
      result: fail(code, message),
    });
    let raw: unknown;
    if (typeof data === 'string') {
      const bytes = Buffer.byteLength(data);
      if (bytes > limits.messageBytes)
        return refuse('too_large', overLimit('the message', bytes, 'messageBytes'));
      try {
        raw = JSON.parse(data);
      } catch {
        return refuse('invalid_request', 'message is not valid JSON');
      }
    } else {
      try {
        raw = decodeFrame(data);
      } catch (e) {
        if (e instanceof FrameError) return refuse(e.code, e.message);
        return refuse('invalid_request', 'the binary message could not be read');
      }
    }
    const envelope = RequestSchema.safeParse(raw);
    if (!envelope.success) {
      const id =
        typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : null;
      return {
        type: 'reply',
        id,
        result: fail('invalid_request', zodMessage('message', envelope.error)),
      };
    }
    const { id, call, input } = envelope.data;
    return { type: 'reply', id, result: await this.dispatch(call, input) };
  }

  private toFailure(call: string, e: unknown): Result<never> {
    if (e instanceof OrreryError) return fail(e.code, e.message);
    this.log.error(call, e);
    const message = e instanceof Error ? e.message : String(e);
    return fail('internal', `${call} failed: ${message}`);
  }
}
