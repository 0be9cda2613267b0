/**
 * A composed headless app for unit tests that go through the real dispatcher (real index
 * worker, real SQLite): a temporary home, a models folder holding copies of fixture packs,
 * and a `call` that returns a call's value or throws with its error code and message.
 */
import { cpSync } from 'node:fs';
import path from 'node:path';
import { composeApp, type OrreryApp } from '../../main/app/compose';
import { resolveConfig } from '../../main/app/config';
import { fixturePacks, repoRoot, testAllow, tmpDir } from './tmp';

/** A new models folder with copies of these fixture packs (folder names under tests/fixtures/packs). */
export function modelsWith(packs: readonly string[]): string {
  const models = tmpDir();
  for (const p of packs)
    cpSync(path.join(fixturePacks, p), path.join(models, p), { recursive: true });
  return models;
}

/** The headless app on a fresh home, reading packs from `models`, allowed the test folders. */
export function composeTestApp(models: string = tmpDir()): OrreryApp {
  return composeApp(
    resolveConfig('headless', repoRoot, { home: tmpDir(), models, allow: testAllow }),
  );
}

/** Dispatches a call; its value, or an Error naming the call, the code and the message. */
export async function callOk<T>(app: OrreryApp, name: string, input: unknown): Promise<T> {
  const r = await app.dispatcher.dispatch(name, input);
  if (!r.ok) throw new Error(`${name}: ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}
