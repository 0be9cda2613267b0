/** Shared helpers for the SAE tests: fixture paths, reference files, tolerant comparison. */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';

export const FIXTURES = path.resolve(__dirname, '../../fixtures/sae');
export const CASES = ['standard', 'topk', 'jumprelu', 'gated', 'layer_norm', 'legacy_topk'];

export interface ReferenceDial {
  feature: number;
  method: 'add' | 'pin' | 'scale';
  value: number;
  mask?: number[];
}

/** tests/fixtures/sae/<case>/reference.json, written by make_reference.py (torch, float64). */
export interface Reference {
  case: string;
  architecture: string;
  k: number | null;
  normalize_activations: string;
  apply_b_dec_to_input: boolean;
  hook_name: string;
  dtypes: Record<string, string>;
  n: number;
  d_in: number;
  d_sae: number;
  x: number[][];
  features: number[][];
  reconstruction: number[][];
  top3: { indices: number[]; values: number[] }[];
  steering: Record<string, { dials: ReferenceDial[]; steered: number[][]; delta: number[][] }>;
}

export function readReference(name: string): Reference {
  return JSON.parse(readFileSync(path.join(FIXTURES, name, 'reference.json'), 'utf8')) as Reference;
}

export function flat(rows: number[][]): Float32Array {
  return Float32Array.from(rows.flat());
}

/**
 * Every |actual − expected| ≤ rel × max(1, max |expected|): relative to the tensor's scale,
 * so values near zero are not held to an impossible relative bound.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rel = 1e-5,
  what = 'tensor',
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i] ?? 0));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs((actual[i] ?? NaN) - (expected[i] ?? NaN));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  expect(
    worst,
    `${what}: worst error ${worst} at ${at} (got ${actual[at]}, want ${expected[at]})`,
  ).toBeLessThanOrEqual(rel * scale);
}

/** A fresh temporary folder, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'orrery-sae-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
