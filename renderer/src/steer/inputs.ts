/** What a run takes besides the dials, per pack kind. */
export type RunInput =
  | { kind: 'text-lm'; prompt: string; maxTokens: number; temperature: number; seed: number }
  | {
      kind: 'image-vae';
      source: { example: number } | { imageBase64: string; name: string };
      /** Where dials on the spatial hook apply (H × W, 1 = painted); null = everywhere. */
      mask?: number[] | null;
    }
  | {
      kind: 'glyph-cvae';
      source: { example: number } | { fontBase64: string; name: string };
      text: string;
    };

export function defaultInput(kind: RunInput['kind']): RunInput {
  if (kind === 'text-lm')
    return { kind, prompt: 'The Lord said unto', maxTokens: 32, temperature: 0.7, seed: 1 };
  if (kind === 'image-vae') return { kind, source: { example: 0 } };
  return { kind, source: { example: 0 }, text: 'Orrery' };
}

export async function fileToBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
