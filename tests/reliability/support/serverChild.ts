// The headless server as the reliability suite runs it: a child process from sources
// (`node --import tsx`), the same composition and server as main/server/index.ts, with the
// same argument parsing, and an empty renderer folder (the suite talks to the API only).
// Prints the URL on a line of its own, like the real entry.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeApp } from '../../../main/app/compose';
import { findAppRoot, resolveConfig } from '../../../main/app/config';
import { newToken, parseServerArgs } from '../../../main/server/args';
import { startServer } from '../../../main/server/server';

async function main(): Promise<void> {
  const args = parseServerArgs(process.argv.slice(2));
  const appRoot = findAppRoot(__dirname);
  const rendererDir = mkdtempSync(path.join(os.tmpdir(), 'orrery-rel-renderer-'));
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Orrery</title>');
  const config = resolveConfig('headless', appRoot, {
    home: args.home,
    models: args.models,
    ...(args.allow.length > 0 ? { allow: args.allow } : {}),
  });
  const app = composeApp(config);
  const server = await startServer(app, {
    host: args.host,
    port: args.port,
    token: args.token ?? newToken(),
    rendererDir,
  });
  console.log(server.url);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`orrery: ${(e as Error).message}`);
  process.exit(1);
});
