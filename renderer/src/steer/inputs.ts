import { getClient } from '../api/client';

/** A person's file, uploaded once and named by its content hash. */
export interface BlobSource {
  blob: string;
  name: string;
}

/** What a run takes besides the dials, per pack kind. */
export type RunInput =
  | { kind: 'text-lm'; prompt: string; maxTokens: number; temperature: number; seed: number }
  | {
      kind: 'image-vae';
      source: { example: number } | BlobSource;
      /** Where dials on the spatial hook apply (H × W, 1 = painted); null = everywhere. */
      mask?: number[] | null;
    }
  | {
      kind: 'glyph-cvae';
      source: { example: number } | BlobSource;
      text: string;
    };

/** (The text prompt is the contract's DEFAULT_TEXT_PROMPT, which the strip and the text
 * calibration use; the page keeps its own copy so it imports only types from the contract.) */
export function defaultInput(kind: RunInput['kind']): RunInput {
  if (kind === 'text-lm')
    return { kind, prompt: 'The Lord said unto', maxTokens: 32, temperature: 0.7, seed: 1 };
  if (kind === 'image-vae') return { kind, source: { example: 0 } };
  return { kind, source: { example: 0 }, text: 'Orrery' };
}

/**
 * Sends a file the person opened to Orrery once, as bytes (a binary frame, or structured clone
 * in the desktop app); every run after names it by the hash that comes back.
 */
export async function uploadFile(file: File): Promise<BlobSource> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const r = await getClient().call('blobs.put', { bytes, name: file.name });
  if (!r.ok) throw new Error(r.error.message);
  return { blob: r.value.hash, name: file.name };
}
