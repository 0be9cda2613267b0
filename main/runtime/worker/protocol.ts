/**
 * The typed request union between main and the inference worker. Every request has an id;
 * the worker answers each with exactly one `done` or `error`, and may stream `token`,
 * `progress` and `frames` (a drag sweep's images) messages before it.
 */
import type { ErrorCode } from '../../../preload/contract';
import type { SweepBatch } from '../engine';

export type EngineOp =
  | 'open'
  | 'text.generate'
  | 'text.active'
  | 'image.steer'
  | 'image.sweep'
  | 'image.active'
  | 'glyph.specimen'
  | 'features.activations'
  | 'features.separate';

export type WorkerRequest =
  | {
      type: 'call';
      id: number;
      packDir: string;
      op: EngineOp;
      input: unknown;
      /** Uploaded files the input names, by hash: where their bytes are. */
      blobs?: Record<string, string>;
    }
  | { type: 'cancel'; id: number }
  | { type: 'unload'; id: number; packDir: string };

export type WorkerResponse =
  | { type: 'done'; id: number; value: unknown }
  | { type: 'error'; id: number; code: ErrorCode; message: string }
  | {
      type: 'token';
      id: number;
      row: 'before' | 'after';
      index: number;
      tokenId: number;
      text: string;
    }
  | { type: 'progress'; id: number; stage: string; done: number; total: number }
  | { type: 'frames'; id: number; batch: SweepBatch };
