/**
 * What the page benches share: the built app served headless over a copy of one pack (the
 * shipped default when it is there, else its test fixture) with an empty home, and that pack
 * read in this process for the bare-engine side of a ratio.
 */
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPack } from '../main/packs/packReader';
import type { LoadedPack } from '../main/packs/packReader';
import { startHeadless, type ServerHandle } from '../tests/support/headless';

const root = path.resolve(__dirname, '..');

/** False (with a line saying so) when the app has not been built: page benches drive out/. */
export function appBuilt(): boolean {
  if (existsSync(path.join(root, 'out', 'main', 'server.js'))) return true;
  console.log('   skipped: run npm run build first (the bench drives the built app)');
  return false;
}

export interface BenchApp {
  pack: LoadedPack;
  packDir: string;
  server: ServerHandle;
}

/** Serves models/<bundled> (or tests/fixtures/packs/<fixture> when it is absent). */
export async function serveBenchPack(bundled: string, fixture: string): Promise<BenchApp> {
  const shipped = path.join(root, 'models', bundled);
  const packDir = existsSync(path.join(shipped, 'manifest.json'))
    ? shipped
    : path.join(root, 'tests', 'fixtures', 'packs', fixture);
  const r = await readPack(packDir);
  if (!r.ok) throw new Error(r.problem.message);
  const models = mkdtempSync(path.join(os.tmpdir(), 'orrery-bench-models-'));
  cpSync(packDir, path.join(models, path.basename(packDir)), { recursive: true });
  const home = mkdtempSync(path.join(os.tmpdir(), 'orrery-bench-home-'));
  const server = await startHeadless(['--home', home, '--models', models]);
  return { pack: r.pack, packDir, server };
}
