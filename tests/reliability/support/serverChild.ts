// The headless server as the reliability suite runs it: a child process from sources
// (`node --import tsx`) running the real entry, main/server/index.ts's runHeadless, with an
// empty renderer folder (the suite talks to the API only).
// Prints the URL on a line of its own, like the real entry.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runHeadless } from '../../../main/server/index';

const rendererDir = mkdtempSync(path.join(os.tmpdir(), 'orrery-rel-renderer-'));
writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Orrery</title>');
runHeadless(process.argv.slice(2), { rendererDir }).catch((e: unknown) => {
  console.error(`orrery: ${(e as Error).message}`);
  process.exit(1);
});
