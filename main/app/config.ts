/**
 * Where Orrery keeps things. Bundled packs live in the app's models/ folder; the user's
 * library and data live in ~/.orrery (or ORRERY_HOME), so nothing the user made sits inside
 * the app folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { workerEntry, type WorkerEntry, type WorkerName } from './workerEntry';

export interface AppConfig {
  mode: 'desktop' | 'headless';
  /** The worker threads' scripts: inference, index builds, and the sessions database. */
  workers: Record<WorkerName, WorkerEntry>;
  version: string;
  appRoot: string;
  bundledPacks: string;
  libraryDir: string;
  dataDir: string;
  /**
   * Folders the page may name paths below (the path policy's roots; the packs folders are
   * always added). Headless: `--allow DIR`, default the home folder. Desktop: none; paths come
   * from the system file dialog, which grants them.
   */
  allow: string[];
}

/** Walks up from `start` to the folder whose package.json names this app. */
export function findAppRoot(start: string): string {
  let dir = path.resolve(start);
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const json = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string };
        if (json.name === 'orrery') return dir;
      } catch {
        // not ours: keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find Orrery's package.json above ${start}`);
    dir = up;
  }
}

export function appVersion(appRoot: string): string {
  const json = JSON.parse(readFileSync(path.join(appRoot, 'package.json'), 'utf8')) as {
    version?: string;
  };
  return json.version ?? '0.0.0';
}

export interface ConfigOverrides {
  home?: string;
  models?: string;
  /** The folders the page may use (default: the home folder headless, none on the desktop). */
  allow?: readonly string[];
}

export function resolveConfig(
  mode: AppConfig['mode'],
  appRoot: string,
  o: ConfigOverrides = {},
): AppConfig {
  const home = path.resolve(
    o.home ?? process.env.ORRERY_HOME ?? path.join(os.homedir(), '.orrery'),
  );
  return {
    mode,
    workers: {
      runtime: workerEntry(appRoot, 'runtime'),
      index: workerEntry(appRoot, 'index'),
      reader: workerEntry(appRoot, 'reader'),
      sessions: workerEntry(appRoot, 'sessions'),
    },
    version: appVersion(appRoot),
    appRoot,
    bundledPacks: path.resolve(
      o.models ?? process.env.ORRERY_MODELS ?? path.join(appRoot, 'models'),
    ),
    libraryDir: path.join(home, 'library'),
    dataDir: home,
    allow: (o.allow ?? (mode === 'headless' ? [os.homedir()] : [])).map((d) => path.resolve(d)),
  };
}
