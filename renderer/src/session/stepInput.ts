/** Turns a saved step back into the input panel's state. */
import type { Step } from '../../../preload/contract';
import type { RunInput } from '../steer/inputs';

export function stepToInput(step: Step): RunInput | null {
  const i = step.input as Record<string, unknown>;
  if (step.kind === 'text') {
    const s = (i.sampling ?? {}) as { maxTokens?: number; temperature?: number; seed?: number };
    return {
      kind: 'text-lm',
      prompt: typeof i.prompt === 'string' ? i.prompt : '',
      maxTokens: s.maxTokens ?? 32,
      temperature: s.temperature ?? 0,
      seed: s.seed ?? 0,
    };
  }
  const src = i.source as Record<string, unknown> | undefined;
  if (!src) return null;
  if (step.kind === 'image') {
    const mask = Array.isArray(i.mask) ? (i.mask as number[]) : null;
    if (typeof src.example === 'number')
      return { kind: 'image-vae', source: { example: src.example }, mask };
    if (typeof src.blob === 'string')
      return {
        kind: 'image-vae',
        source: { blob: src.blob, name: String(src.name ?? 'image') },
        mask,
      };
    return null;
  }
  const text = typeof i.text === 'string' ? i.text : 'Orrery';
  if (typeof src.example === 'number')
    return { kind: 'glyph-cvae', source: { example: src.example }, text };
  if (typeof src.blob === 'string')
    return {
      kind: 'glyph-cvae',
      source: { blob: src.blob, name: String(src.name ?? 'font') },
      text,
    };
  return null;
}
