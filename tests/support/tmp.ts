/** Temporary folders for tests, removed after each test file. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

export function tmpDir(prefix = 'orrery-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function cleanupTmp(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const repoRoot = path.resolve(__dirname, '..', '..');
export const fixturePacks = path.join(repoRoot, 'tests', 'fixtures', 'packs');

/** The folders tests let the app use (the path policy's --allow): temp folders and fixtures. */
export const testAllow = [os.tmpdir(), path.join(repoRoot, 'tests', 'fixtures')];
