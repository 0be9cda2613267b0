import { fileURLToPath } from 'node:url';
import { readPack, type LoadedPack } from '../../../../main/packs/packReader';
import type { EngineContext, TextGenerateInput } from '../../../../main/runtime/engine';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const fixtureDir = fileURLToPath(
  new URL('../../../fixtures/packs/text-tiny/', import.meta.url),
);

export async function readTextPack(dir: string): Promise<LoadedPack> {
  const r = await readPack(dir);
  if (!r.ok) throw new Error(`${r.problem.file}: ${r.problem.message}`);
  return r.pack;
}

/** One tensor of a recipe's reference.json (torch's inputs and outputs at export). */
export interface RefTensor {
  dims: number[];
  data: number[];
}

/** One case of a reference.json: a forward step's inputs and torch's outputs. */
export interface RefCase {
  name: string;
  inputs: Record<string, RefTensor>;
  outputs: Record<string, RefTensor>;
  same_as?: { case: string; from_position: number };
}

/** The fixture pack with SAEs at two hooks (text-tiny-hooks): its folder, hooks, SAEs, width. */
export const hooksPack = {
  dir: fileURLToPath(new URL('../../../fixtures/packs/text-tiny-hooks/', import.meta.url)),
  hooks: ['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post'] as const,
  saes: ['res0-64', 'res1-64'] as const,
  dModel: 16,
  prompt: 'And God said, Let there be light',
};

/** An engine call's context: never cancelled; tokens streamed nowhere. */
export function engineCtx(): EngineContext {
  return { signal: new AbortController().signal, onToken: () => undefined } as EngineContext;
}

/** A greedy generation of `maxTokens` tokens after `prompt` with these dials. */
export function greedyInput(
  prompt: string,
  dials: TextGenerateInput['dials'],
  maxTokens: number,
): TextGenerateInput {
  return {
    prompt,
    dials,
    sampling: { maxTokens, temperature: 0, topK: 0, topP: 1, seed: 0 },
  } as TextGenerateInput;
}
