/**
 * Cold start (issue 19): from spawning the server to the default text pack's galaxy drawn (the
 * page's test hook ready: map loaded, first frame drawn), against the bare baseline: a node
 * server + a page + its first WebGL frame, each run against that run's bare start (a load swing
 * between runs cancels out). The app starts fresh (a new home: the shipped index is unpacked),
 * warm (the same home again: the second start) and later (a third start: what every start after
 * the first ones does, e.g. with the index's whole check remembered).
 *
 * Two readings, both printed:
 * - browser launched: each start launches chromium too, as a desktop app's start does
 *   (Electron starts its browser with the app): server, browser, page, first frame. The app's
 *   profile folder is kept between its starts (as Electron keeps its userData) and is new with a
 *   fresh home; the bare start keeps one profile folder for all its runs.
 * - browser running: chromium is started once beforehand and each start opens a tab in it, so
 *   the figure is the server and the page alone.
 * The app's starts of a reading keep one port, so the page's origin stays the same from start
 * to start (as with `npm run serve`'s default port, or the desktop app's file:// page): the
 * browser's cache of the renderer's files (served immutable) applies to a kept profile. The
 * bare page has no files besides itself.
 *
 * The renderer is the built one (npm run build first). Its own section of bench/run.ts
 * (`npm run bench -- "cold start"`), or `npx tsx bench/coldStart.ts [--runs 5]`.
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../tests/support/browser';
import { startHeadless } from '../tests/support/headless';
import { descendantsCpu } from './procCpu';
import { median } from './stats';

const root = path.resolve(__dirname, '..');

const BARE_SERVER = `
const http = require('node:http');
const page = '<!doctype html><canvas id=c width=1280 height=800></canvas><script>' +
  'const gl=document.getElementById("c").getContext("webgl2");' +
  'requestAnimationFrame(()=>{gl.clearColor(0.02,0.03,0.05,1);gl.clear(gl.COLOR_BUFFER_BIT);' +
  'const p=new Uint8Array(4);gl.readPixels(0,0,1,1,gl.RGBA,gl.UNSIGNED_BYTE,p);document.body.dataset.frame="1";});' +
  '</script>';
const s = http.createServer((q, r) => { r.writeHead(200, { 'content-type': 'text/html' }); r.end(page); });
s.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + s.address().port + '/'));
`;

/** A tab for one start, and how to close what was opened for it. */
interface Opened {
  page: Page;
  close(): Promise<void>;
}
type Open = (profile: string) => Promise<Opened>;

/** One start: wall ms, its phases (ms) and the CPU seconds of every process started for it. */
interface Start {
  ms: number;
  phases: number[];
  cpu: number | null;
}

const PHASES = ['server up', 'browser up', 'page loaded', 'map in store', 'first frame'];

/** The page's galaxy hook (the functions below run in the page, so each names it itself). */
type Hooked = { __orreryGalaxy?: { count(): number; ready(): boolean } };

/** `p`, or an error naming the step if it takes over a minute (a hung start stops the bench). */
function within<T>(p: Promise<T>, step: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cold start: ${step} took over 60 s`)), 60_000);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** A start's server: the page's URL, its output (for a failure's report), how to stop it. */
interface Served {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * One start: `serve` starts the server, `open` a tab, the page loads, then each of `marks`
 * waits for its moment in the page; the phases are the times between them.
 */
async function timedStart(
  serve: () => Promise<Served>,
  profile: string,
  open: Open,
  marks: readonly ((page: Page) => Promise<unknown>)[],
  /** Not timed: what the start goes on to do before the server stops (the next start's state). */
  settle: () => Promise<void> = async () => undefined,
): Promise<Start> {
  const c0 = descendantsCpu();
  const at = [performance.now()];
  const srv = await within(serve(), 'the server');
  try {
    at.push(performance.now());
    const tab = await within(open(profile), 'opening the browser');
    at.push(performance.now());
    await tab.page.goto(srv.url);
    at.push(performance.now());
    for (const mark of marks) {
      await mark(tab.page).catch((e: unknown) => {
        console.error('  cold start: the page never got there', srv.output().slice(-800));
        throw e;
      });
      at.push(performance.now());
    }
    const c1 = descendantsCpu();
    await within(settle(), 'the start settling');
    await within(tab.close(), 'closing the browser');
    return {
      ms: (at.at(-1) ?? NaN) - (at[0] ?? NaN),
      phases: at.slice(1).map((t, i) => t - (at[i] ?? NaN)),
      cpu: c0 !== null && c1 !== null ? c1 - c0 : null,
    };
  } finally {
    await within(srv.stop(), 'stopping the server');
  }
}

/** The bare baseline's server: node serving one page that draws one WebGL frame. */
function serveBare(bareJs: string): () => Promise<Served> {
  return async () => {
    const child = spawn(process.execPath, [bareJs], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve) =>
      child.stdout.on('data', (c: Buffer) => resolve(c.toString().trim())),
    );
    return { url, output: () => '', stop: async () => void child.kill() };
  };
}

const wait = { polling: 20, timeout: 120_000 };
/** The bare page: no map to wait for, then its frame. */
const BARE_MARKS = [
  async () => undefined,
  (page: Page) => page.waitForSelector('body[data-frame="1"]', wait),
];
/** The app: the map in the galaxy's store, then its first frame drawn. */
const APP_MARKS = [
  (page: Page) =>
    page.waitForFunction(
      () => ((globalThis as Hooked).__orreryGalaxy?.count() ?? 0) > 0,
      undefined,
      wait,
    ),
  (page: Page) =>
    page.waitForFunction(
      () => (globalThis as Hooked).__orreryGalaxy?.ready() === true,
      undefined,
      wait,
    ),
];

/** Resolves once `file` exists (a start's background work done; within() times it out). */
async function untilFile(file: string): Promise<void> {
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 50));
}

/** A port free now (the app's starts of one reading keep it: one origin, as a person's has). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** `runs` rounds of bare, fresh, warm and later starts, each tab opened by `open`. */
async function reading(
  title: string,
  runs: number,
  work: string,
  bareJs: string,
  models: string,
  open: Open,
): Promise<void> {
  const port = await freePort();
  const bareProfile = mkdtempSync(path.join(work, 'profile-bare-'));
  const starts: Record<'bare' | 'fresh' | 'warm' | 'later', Start[]> = {
    bare: [],
    fresh: [],
    warm: [],
    later: [],
  };
  const bare = (): Promise<Start> => timedStart(serveBare(bareJs), bareProfile, open, BARE_MARKS);
  // A first start draws from the maps shipped beside the index and unpacks the index after the
  // first frame (main/index/shippedMap.ts): the start is not over before the copy is there, so
  // the next start is a warm one, as a person's second start is.
  const app = (home: string, profile: string): Promise<Start> =>
    timedStart(
      () => startHeadless(['--home', home, '--models', models, '--port', String(port)]),
      profile,
      open,
      APP_MARKS,
      () => untilFile(path.join(home, 'index', 'orrery-text-fortunes.sqlite')),
    );
  const fresh = (p: string): string => mkdtempSync(path.join(work, p));
  // Not counted: one start of each, so no run is the first to read the files from disk.
  await bare();
  await app(fresh('home-'), fresh('profile-'));
  for (let r = 0; r < runs; r++) {
    starts.bare.push(await bare());
    const [home, profile] = [fresh('home-'), fresh('profile-')];
    for (const kind of ['fresh', 'warm', 'later'] as const)
      starts[kind].push(await app(home, profile));
  }
  const secs = (ms: number): string => (ms / 1000).toFixed(2);
  const wall = (s: Start[]): string => {
    const ms = s.map((x) => x.ms);
    return `${secs(median(ms))} s (${secs(Math.min(...ms))}–${secs(Math.max(...ms))})`;
  };
  const ratio = (s: Start[], of: (x: Start) => number | null): string => {
    const r = s.map((x, i) => {
      const b = starts.bare[i];
      const [a, d] = [of(x), b ? of(b) : null];
      return a !== null && d !== null ? a / d : NaN;
    });
    return `${median(r).toFixed(2)}× (runs ${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`;
  };
  const ms = (x: Start): number => x.ms;
  console.log(
    `  ${title} (load ${loadavg()[0]?.toFixed(2)}, median of ${runs}): bare server + page + WebGL frame ${wall(starts.bare)} · app warm (second start) ${wall(starts.warm)}, ${ratio(starts.warm, ms)} · later (third start) ${wall(starts.later)}, ${ratio(starts.later, ms)} · fresh home ${wall(starts.fresh)}, ${ratio(starts.fresh, ms)}; goal ≤ 1.5×`,
  );
  if (starts.bare.every((x) => x.cpu !== null)) {
    const cpu = (x: Start): number | null => x.cpu;
    const cs = (s: Start[]): string => `${median(s.map((x) => x.cpu ?? NaN)).toFixed(2)} s`;
    console.log(
      `    cpu to the first frame (every process started for the run, /proc): bare ${cs(starts.bare)} · warm ${cs(starts.warm)}, ${ratio(starts.warm, cpu)} · later ${cs(starts.later)}, ${ratio(starts.later, cpu)} · fresh ${cs(starts.fresh)}, ${ratio(starts.fresh, cpu)}`,
    );
  }
  for (const kind of ['bare', 'warm', 'later', 'fresh'] as const) {
    const parts = PHASES.map(
      (name, k) => `${name} +${secs(median(starts[kind].map((x) => x.phases[k] ?? NaN)))}`,
    );
    console.log(`    ${kind}: ${parts.join(', ')} s`);
  }
}

export async function benchColdStart(runs = 5): Promise<void> {
  console.log(
    `\n== galaxy cold start (load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})`,
  );
  const pack = path.join(root, 'models', 'text-fortunes');
  if (!existsSync(path.join(root, 'out', 'main', 'server.js')) || !existsSync(pack)) {
    console.log('  cold start: skipped (needs `npm run build` and models/text-fortunes)');
    return;
  }
  const work = mkdtempSync(path.join(tmpdir(), 'orrery-cold-'));
  const models = path.join(work, 'models');
  cpSync(pack, path.join(models, 'text-fortunes'), { recursive: true });
  const bareJs = path.join(work, 'bare.cjs');
  writeFileSync(bareJs, BARE_SERVER);
  let running: BrowserContext | null = null;
  try {
    await reading(
      'browser launched with each start',
      runs,
      work,
      bareJs,
      models,
      async (profile) => {
        const context = await launchChromium(profile);
        const page = context.pages()[0] ?? (await context.newPage());
        return { page, close: () => context.close() };
      },
    );
    const browser = await launchChromium();
    running = browser;
    await reading('browser already running', runs, work, bareJs, models, async () => {
      const page = await browser.newPage();
      return { page, close: () => page.close() };
    });
    const assets = path.join(root, 'out', 'renderer', 'assets');
    const sizes = readdirSync(assets)
      .filter((f) => f.endsWith('.js'))
      .map(
        (f) =>
          `${f.replace(/-[\w-]{8}\.js$/, '.js')} ${(statSync(path.join(assets, f)).size / 1024).toFixed(0)} KiB`,
      );
    console.log(`  renderer bundle: ${sizes.join(' · ')}`);
  } finally {
    await running?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const i = process.argv.indexOf('--runs');
  benchColdStart(i >= 0 ? Number(process.argv[i + 1]) : undefined).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
