/**
 * Headless entry: `npm run serve -- --port N`. Prints the URL on a line of its own as soon as
 * the server listens; the app (services, worker threads) is composed just after, while the
 * page loads its files.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { findAppRoot, resolveConfig } from '../app/config';
import { startEarlyWorker } from '../app/earlyWorker';
import { newToken, parseServerArgs } from './args';
import { startServer } from './server';

/** `rendererDir`: the built renderer to serve (default out/renderer; tests may give another). */
export async function runHeadless(
  argv: readonly string[],
  options: { rendererDir?: string } = {},
): Promise<void> {
  const args = parseServerArgs(argv);
  for (const dir of args.allow) {
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
      throw new Error(`--allow ${dir}: not a folder`);
  }
  const appRoot = findAppRoot(__dirname);
  const config = resolveConfig('headless', appRoot, {
    home: args.home,
    models: args.models,
    ...(args.allow.length > 0 ? { allow: args.allow } : {}),
  });
  // The first index reader loads its bundle while the page is served and the app loads.
  const earlyReader = startEarlyWorker(config.workers.reader);
  const compose = async () =>
    (await import('../app/compose')).composeApp(config, { warmReaders: true, earlyReader });
  const server = await startServer(compose, {
    host: args.host,
    port: args.port,
    token: args.token ?? newToken(),
    rendererDir: options.rendererDir ?? path.join(appRoot, 'out', 'renderer'),
  });
  console.log(
    `Orrery ${config.version} (headless) serving packs from ${config.bundledPacks} and ${config.libraryDir}`,
  );
  console.log(server.url);
  server.app.catch((e: unknown) => {
    console.error(`orrery: ${(e as Error).message}`);
    process.exit(1);
  });
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  runHeadless(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`orrery: ${(e as Error).message}`);
    process.exit(1);
  });
}
