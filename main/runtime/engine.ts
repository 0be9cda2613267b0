/**
 * What a loaded pack can do, by kind. Engines live inside the inference worker
 * (main/runtime/worker): they own the pack's ONNX sessions and SAEs, and answer the
 * contract's inference calls. Inputs are the contract's parsed inputs; outputs are the
 * contract's outputs. A person's files arrive as hashes; `readBlob` reads their bytes.
 */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { OrreryError } from '../../preload/contract';
import type {
  ActiveOutput,
  ImageSweepEvent,
  ImageSweepInput,
  ImageSweepOutput,
  RuntimeInfo,
  runtimeInputs,
  TextGenerateOutput,
} from '../../preload/contract';
import type { SelectionInput } from '../../preload/contract/selections';
import type { LoadedPack } from '../packs/packReader';
import type { Sae } from '../sae';
import type { ImageRun } from './image/imageMetrics';

export type TextGenerateInput = z.output<typeof runtimeInputs.textGenerate>;
export type TextActiveInput = z.output<typeof runtimeInputs.textActive>;
export type ImageSteerInput = z.output<typeof runtimeInputs.imageSteer>;
export type ImageActiveInput = z.output<typeof runtimeInputs.imageActive>;
export type GlyphSpecimenInput = z.output<typeof runtimeInputs.glyphSpecimen>;
/** One batch of a drag sweep's frames, as the image.sweep event carries it (less its job id). */
export type SweepBatch = Omit<ImageSweepEvent, 'jobId'>;

export interface EngineContext {
  /** Aborted when the caller cancels or a newer request makes this one stale. */
  signal: AbortSignal;
  /** Streams generated tokens (text engines). */
  token?(row: 'before' | 'after', index: number, tokenId: number, text: string): void;
  progress?(stage: string, done: number, total: number): void;
  /** Streams a drag sweep's frames (image engines). */
  frames?(batch: SweepBatch): void;
  /** Resolves when no other call is running in the worker (a drag sweep waits for live runs). */
  othersDone?(): Promise<void>;
  /** Where an uploaded file's bytes are, by hash (set by the service; the bytes never travel). */
  blobFile?(hash: string): string;
}

/** The bytes of a person's uploaded file, read where the engine runs. */
export async function readBlob(
  ctx: Pick<EngineContext, 'blobFile'> | undefined,
  hash: string,
): Promise<Uint8Array> {
  if (!ctx?.blobFile) throw new OrreryError('not_found', 'no uploaded files are available here');
  return readFile(ctx.blobFile(hash));
}

/** What an SAE reads for one input: its rows h [n, d_in]. */
export interface SaeRows {
  sae: Sae;
  h: Float32Array;
  n: number;
}

export interface PackEngine {
  readonly kind: RuntimeInfo['kind'];
  info(): RuntimeInfo;
  dispose(): Promise<void>;
  /**
   * The rows an SAE reads for one input (text: each token's hook activation, BOS left out;
   * image: the latent or each spatial position; typeface: the style), unsteered. Leaves the
   * engine's last-source caches alone.
   */
  saeRows(saeId: string, input: SelectionInput, ctx: EngineContext): Promise<SaeRows>;
  /** `count` of the pack's own examples, evenly spread over them, as inputs (a corpus sample). */
  corpusSample(count: number): Promise<SelectionInput[]>;
}

export interface TextEngineApi extends PackEngine {
  readonly kind: 'text-lm';
  generate(
    input: TextGenerateInput,
    ctx: EngineContext,
  ): Promise<z.output<typeof TextGenerateOutput>>;
  active(input: TextActiveInput, ctx: EngineContext): Promise<z.output<typeof ActiveOutput>>;
}

export interface ImageEngineApi extends PackEngine {
  readonly kind: 'image-vae';
  steer(input: ImageSteerInput, ctx: EngineContext): Promise<ImageRun>;
  /** A drag sweep: one dial at each value, frames streamed through ctx.frames in batches. */
  sweep(input: ImageSweepInput, ctx: EngineContext): Promise<z.output<typeof ImageSweepOutput>>;
  active(input: ImageActiveInput, ctx: EngineContext): Promise<z.output<typeof ActiveOutput>>;
}

export interface GlyphEngineApi extends PackEngine {
  readonly kind: 'glyph-cvae';
  specimen(input: GlyphSpecimenInput, ctx: EngineContext): Promise<ImageRun>;
}

export type AnyEngine = TextEngineApi | ImageEngineApi | GlyphEngineApi;

export type EngineLoader = (pack: LoadedPack) => Promise<AnyEngine>;
