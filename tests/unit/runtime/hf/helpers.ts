/**
 * HF fixture helpers: library entries (manifest.json with absolute paths, as "Open model…"
 * writes them) over tests/fixtures/hf, the torch references, and comparisons.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { readPack, type LoadedPack } from '../../../../main/packs/packReader';
import { readHfConfig } from '../../../../main/runtime/hf/config';
import { writeSafetensors } from '../../../../main/sae';

export const hfFixtures = fileURLToPath(new URL('../../../fixtures/hf/', import.meta.url));
export type HfFixture = 'gpt2-tiny' | 'llama-tiny';

/** tests/fixtures/hf/<model>/reference.json (see its README). */
export interface HfReference {
  tolerance: number;
  prompt: string;
  input_ids: number[];
  hooks: string[];
  no_cache: { hooks: Record<string, number[][]>; logits_last: number[] };
  with_cache: { hooks: Record<string, number[]>; logits_last: number[] };
  steering: {
    hook: string;
    vector: number[];
    downstream_hooks: string[];
    no_cache: {
      hooks: Record<string, number[][]>;
      logits_last: number[];
      at_hook_before_steering: number[][];
    };
    with_cache: {
      hooks: Record<string, number[]>;
      logits_last: number[];
      at_hook_before_steering: number[];
    };
  };
  sae: {
    dir: string;
    hook: string;
    top_features: [number, number][][];
    top_features_without_centring?: [number, number][][];
  };
}

export function readReference(model: HfFixture): HfReference {
  return JSON.parse(readFileSync(join(hfFixtures, model, 'reference.json'), 'utf8')) as HfReference;
}

export interface EntrySae {
  id: string;
  hook: string;
  dir: string;
}

/** The fixture's own SAE as an entry SAE. */
export function fixtureSae(model: HfFixture): EntrySae {
  const ref = readReference(model);
  return { id: 'sae', hook: ref.sae.hook, dir: join(hfFixtures, model, ref.sae.dir) };
}

/** A library entry for a fixture model with these SAEs, read as the app reads it. */
export async function hfEntry(
  model: HfFixture,
  saes: EntrySae[],
  examples?: string,
): Promise<LoadedPack> {
  const dir = mkdtempSync(join(tmpdir(), `orrery-hf-${model}-`));
  const modelDir = join(hfFixtures, model);
  const cfg = await readHfConfig(modelDir);
  const manifest = {
    format: 1,
    id: model,
    name: model,
    license: 'test',
    source: 'test',
    kind: 'text-lm',
    model: {
      format: 'hf',
      dir: modelDir,
      graph: 'onnx/decoder_model.onnx',
      tokenizer: 'tokenizer.json',
      config: 'config.json',
      ...cfg,
    },
    saes,
    ...(examples ? { examples: { texts: examples } } : {}),
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const r = await readPack(dir);
  if (!r.ok) throw new Error(`${r.problem.file}: ${r.problem.message}`);
  return r.pack;
}

/**
 * An SAE folder whose feature 0 decodes to `direction` (one add dial of value 1 adds exactly
 * it), at `hook`, d_sae 2; `dIn` defaults to the direction's length.
 */
export function directionSae(
  hook: string,
  direction: Float32Array,
  dIn = direction.length,
): string {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-hf-sae-'));
  mkdirSync(dir, { recursive: true });
  const wDec = new Float32Array(2 * dIn);
  wDec.set(direction.subarray(0, dIn));
  const wEnc = new Float32Array(dIn * 2);
  for (let c = 0; c < dIn; c++) wEnc[c * 2] = (direction[c] ?? 0) / dIn;
  writeFileSync(
    join(dir, 'cfg.json'),
    JSON.stringify({ architecture: 'standard', d_in: dIn, d_sae: 2, hook_name: hook }),
  );
  writeFileSync(
    join(dir, 'sae_weights.safetensors'),
    writeSafetensors({
      W_enc: { dtype: 'F32', shape: [dIn, 2], data: wEnc },
      W_dec: { dtype: 'F32', shape: [2, dIn], data: wDec },
      b_enc: { dtype: 'F32', shape: [2], data: new Float32Array(2) },
      b_dec: { dtype: 'F32', shape: [dIn], data: new Float32Array(dIn) },
    }),
  );
  return dir;
}

/** Largest |a − b|. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}
