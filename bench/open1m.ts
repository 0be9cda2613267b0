/**
 * Issue 19's "1M open → galaxy drawn ≤ 5 s": the synthetic SAE of 1,048,576 features
 * (tests/support/synthetic1m.ts, 'themes' layout, built once and cached under tmpdir) opened
 * in the page of the real headless server and Debian's chromium, until the galaxy's first
 * frame with the whole map in its store (the page's test hook: map loaded with all points,
 * first frame drawn; the level of detail draws a share of them on that frame).
 *
 * Each sample is a new tab going to the app's URL (the server stays up; the first open after
 * it starts is printed apart: its reader thread reads the index file for the first time). The
 * page's own marks (renderer/src/galaxy/mapData.ts MAP_MARKS) split the time: page start →
 * map asked, asked → reply in the page, reply → decoded, decoded → first frame. Median with
 * spread; load average printed; the server's peak RSS and the page's JS heap after the runs.
 *
 *   npx tsx bench/open1m.ts [--samples 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchChromium } from '../tests/support/browser';
import { startHeadless } from '../tests/support/headless';
import { installIndex, synthetic1m } from '../tests/support/synthetic1m';
import { fmt, line, loadLine, median, peakRss, percentile, rssParts } from './stats';

interface OpenSample {
  /** node: goto → the hook says ready */
  total: number;
  /** page marks, from the page's time origin */
  request: number;
  reply: number;
  decoded: number;
  /** page's clock when ready was seen */
  ready: number;
  count: number;
}

/** In the page: the map marks and the page's clock (read once the hook says ready). */
const readMarks = `(() => {
  const get = (n) => performance.getEntriesByName(n, 'mark').at(-1)?.startTime ?? NaN;
  return { request: get('orrery:map-request'), reply: get('orrery:map-reply'),
    decoded: get('orrery:map-decoded'), ready: performance.now(),
    count: window.__orreryGalaxy.count() };
})()`;

function spread(xs: number[]): string {
  return `p25–p75 ${fmt(percentile(xs, 25), 0)}–${fmt(percentile(xs, 75), 0)}, min ${fmt(Math.min(...xs), 0)}, max ${fmt(Math.max(...xs), 0)}; n=${xs.length}`;
}

export async function benchOpen1m(o: { samples?: number } = {}): Promise<void> {
  const samples = o.samples ?? 3;
  console.log('\n== 1M synthetic SAE opened in the page → galaxy drawn (issue 19)');
  const t0 = performance.now();
  const s = await synthetic1m({ layout: 'themes', log: (m) => console.log(`   ${m}`) });
  const built = (performance.now() - t0) / 1000;
  const home = mkdtempSync(path.join(os.tmpdir(), 'orrery-bench-open1m-'));
  installIndex(s, home);
  const server = await startHeadless(['--home', home, '--models', s.modelsDir, '--allow', s.dir]);
  const browser = await launchChromium();
  const runs: OpenSample[] = [];
  let serverPeak: number | null = null;
  let serverNow: { anon: number; file: number } | null = null;
  let slowCalls: string[] = [];
  let pageHeap: number | null = null;
  try {
    for (let i = 0; i <= samples; i++) {
      const tab = await browser.newPage();
      await tab.setViewportSize({ width: 1280, height: 800 });
      const start = performance.now();
      await tab.goto(server.url);
      await tab.waitForFunction(
        () =>
          (
            globalThis as unknown as { __orreryGalaxy?: { ready(): boolean } }
          ).__orreryGalaxy?.ready() === true,
        undefined,
        { timeout: 600_000, polling: 20 },
      );
      const total = performance.now() - start;
      const m = (await tab.evaluate(readMarks)) as Omit<OpenSample, 'total'>;
      if (m.count !== s.n) throw new Error(`the galaxy has ${m.count} points, not ${s.n}`);
      runs.push({ total, ...m });
      if (i === samples)
        pageHeap = (await tab.evaluate(
          '(performance.memory && performance.memory.usedJSHeapSize) || null',
        )) as number | null;
      await tab.close();
    }
    serverPeak = peakRss(server.pid);
    serverNow = rssParts(server.pid);
    slowCalls = server
      .output()
      .split('\n')
      .flatMap((l) => /slow call (\S+): (\d+) ms/.exec(l)?.slice(1, 3).join(' ') ?? []);
  } finally {
    await browser.close();
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
  loadLine();
  line(
    'synthetic SAE ready (s)',
    fmt(built, 1),
    `${s.n.toLocaleString('en-US')} features, d_in ${s.dIn}; cached after the first build`,
  );
  const [first, ...rest] = runs;
  const phases = (r: OpenSample): string =>
    `page start → map asked ${fmt(r.request, 0)}, → reply ${fmt(r.reply - r.request, 0)}, → decoded ${fmt(r.decoded - r.reply, 0)}, → first frame ≤ ${fmt(r.ready - r.decoded, 0)} ms`;
  if (first) line('first open after the server starts (ms)', fmt(first.total, 0), phases(first));
  const pick = (k: (r: OpenSample) => number): number => median(rest.map(k));
  const totals = rest.map((r) => r.total);
  line('open → galaxy drawn (ms, median)', fmt(median(totals), 0), spread(totals));
  line(
    '  phases (ms, medians)',
    `${fmt(
      pick((r) => r.request),
      0,
    )} · ${fmt(
      pick((r) => r.reply - r.request),
      0,
    )} · ${fmt(
      pick((r) => r.decoded - r.reply),
      0,
    )} · ${fmt(
      pick((r) => r.ready - r.decoded),
      0,
    )}`,
    'page start → map asked · → reply in the page · → decoded · → first frame',
  );
  line('open → galaxy drawn vs goal', `${fmt(median(totals) / 5000, 2)}×`, 'goal ≤ 5 s');
  const mib = (b: number | null): string => (b === null ? 'n/a' : (b / 2 ** 20).toFixed(0));
  line(
    'memory (MiB): server peak RSS · page JS heap',
    `${mib(serverPeak)} · ${mib(pageHeap)}`,
    'VmHWM of the server process; the last tab’s usedJSHeapSize',
  );
  line(
    '  server RSS after the runs (MiB): anon · file',
    serverNow ? `${mib(serverNow.anon)} · ${mib(serverNow.file)}` : 'n/a',
    'file: the index’s memory-mapped pages (the OS’s file cache, shared)',
  );
  line('  server calls over 200 ms (ms, in order)', String(slowCalls.length), slowCalls.join(', '));
}

function arg(flag: string): number | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (process.argv[1]?.replace(/\\/g, '/').endsWith('bench/open1m.ts')) {
  benchOpen1m({ samples: arg('--samples') }).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
