/**
 * The one door to onnxruntime-node: sessions, threads, tensors. No other file imports it
 * (lint enforces this). Callers see plain typed arrays with dims, never ort's classes.
 *
 * onnxruntime-node is loaded on first use, not with this module: loading its native library
 * holds a thread ~0.3-0.5 s (more under load), and the threads that load this module with
 * the engines' code (the API thread, the index reader) mostly never run a model; a cold start
 * had it on its critical path twice.
 */
import type * as Ort from 'onnxruntime-node';
import { onFirstUse } from '../packages';

const ort = onFirstUse<typeof Ort>('onnxruntime-node');

export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

export interface TensorLike {
  /** dims, e.g. [batch, seq, d_model] */
  dims: readonly number[];
  data: TensorData;
}

export interface SessionOptions {
  /** Threads inside one operator (ORT's intra-op pool). Default: 1 per session. */
  intraOpThreads?: number;
}

export interface IoMeta {
  name: string;
  type: string;
  /** Fixed sizes as numbers, dynamic axes by name (or -1 when unnamed). */
  shape: (number | string)[];
}

/** onnxruntime-node's version (loads it); 'unknown' where it cannot be loaded. */
export function onnxVersion(): string {
  try {
    return ort().env.versions.node ?? ort().env.versions.common ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function onnxBackends(): string[] {
  return ort()
    .listSupportedBackends()
    .map((b) => `${b.name}${b.bundled ? '' : ' (not bundled)'}`);
}

function typeOf(data: TensorData): 'float32' | 'int64' | 'int32' | 'uint8' {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  return 'uint8';
}

function ioMeta(meta: readonly Ort.InferenceSession.ValueMetadata[]): IoMeta[] {
  return meta.map((m) =>
    m.isTensor
      ? { name: m.name, type: m.type, shape: m.shape.map((d) => (typeof d === 'number' ? d : d)) }
      : { name: m.name, type: 'non-tensor', shape: [] },
  );
}

export class OnnxSession {
  private constructor(private readonly session: Ort.InferenceSession) {}

  static async create(
    model: string | Uint8Array,
    options: SessionOptions = {},
  ): Promise<OnnxSession> {
    const opts: Ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    };
    const session =
      typeof model === 'string'
        ? await ort().InferenceSession.create(model, opts)
        : await ort().InferenceSession.create(model, opts);
    return new OnnxSession(session);
  }

  get inputs(): IoMeta[] {
    return ioMeta(this.session.inputMetadata);
  }

  get outputs(): IoMeta[] {
    return ioMeta(this.session.outputMetadata);
  }

  /**
   * Runs the graph. `fetches` names the outputs wanted (default: all); ORT then skips the
   * nodes that only feed the others.
   */
  async run(
    feeds: Record<string, TensorLike>,
    fetches?: readonly string[],
  ): Promise<Record<string, TensorLike>> {
    const ortFeeds: Record<string, Ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      ortFeeds[name] = new (ort().Tensor)(typeOf(t.data), t.data, t.dims);
    }
    const results = fetches
      ? await this.session.run(ortFeeds, [...fetches])
      : await this.session.run(ortFeeds);
    const out: Record<string, TensorLike> = {};
    for (const [name, t] of Object.entries(results)) {
      out[name] = { dims: [...t.dims], data: t.data as TensorData };
    }
    return out;
  }

  /**
   * Runs the graph into outputs the caller owns: ORT writes each output given as a TensorLike
   * into its data (dims must be the output's exact shape), and allocates those given as null.
   * Only the outputs named are fetched. onnxruntime-node (1.30) still returns every fetched
   * output as a fresh copy, a preallocated one included: fetching a large output costs an
   * allocation and a copy per run whatever its buffer (the text engine fetches only the new
   * keys/values of its cache for that reason, main/runtime/text/kvCache).
   */
  async runInto(
    feeds: Record<string, TensorLike>,
    outputs: Record<string, TensorLike | null>,
  ): Promise<Record<string, TensorLike>> {
    const ortFeeds: Record<string, Ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      ortFeeds[name] = new (ort().Tensor)(typeOf(t.data), t.data, t.dims);
    }
    const fetches: Record<string, Ort.Tensor | null> = {};
    for (const [name, t] of Object.entries(outputs)) {
      fetches[name] = t ? new (ort().Tensor)(typeOf(t.data), t.data, t.dims) : null;
    }
    const results = await this.session.run(ortFeeds, fetches);
    const out: Record<string, TensorLike> = {};
    for (const [name, t] of Object.entries(results)) {
      out[name] = { dims: [...t.dims], data: t.data as TensorData };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
