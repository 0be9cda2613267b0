/**
 * Issue 14's figure: a real pointer drag on a dial (playwright-core mouse moves, so the page
 * gets pointer events as from a hand) to the new image on screen, measured in the page: the
 * pointermove's event timeStamp, the time the canvas was given the new pixels (`drawnAt` of
 * the page's `orrery:image-drawn` mark: putImageData done) and the animation frame after it
 * (`at`: on screen; the goal's figure), with where the time went (bench/dialProbe.ts).
 * Median of 25 moves with spread and p95, against the bare decode (head + tail in
 * onnxruntime-node) timed in the same run; and the longest task the page ran during a continuous 5 s drag (PerformanceObserver
 * 'longtask'). Through the real headless server and Debian's chromium.
 * The drag starts a drag sweep (renderer/src/compare/sweepFrames.ts): a move whose frame has
 * come is drawn from it in the move's handler, one whose frame is on its way waits for it (the
 * sweep follows the pointer), the others (off the sweep's grid) by their own live run; the
 * sample holds every kind as they come (how many of each is printed, with each kind's median,
 * and the moves in order), and `presented` is the same for all: pointermove timeStamp → the
 * animation frame after the draw.
 */
import os from 'node:os';
import path from 'node:path';
import { ImageEngine } from '../main/runtime/image/imageEngine';
import { launchChromium } from '../tests/support/browser';
import { appBuilt, serveBenchPack } from './benchApp';
import { armTick, tickProbe, type Tick } from './dialProbe';
import { fmt, line, median, percentile, timeIt } from './stats';

const root = path.resolve(__dirname, '..');

/** In the page: long tasks and drawn images from now until `__dragStop()` is called. */
const armDrag = `(() => {
  const tasks = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) tasks.push(e.duration);
  });
  obs.observe({ type: 'longtask' });
  let frames = 0;
  const drawn = () => { frames += 1; };
  addEventListener('orrery:image-drawn', drawn);
  const t0 = performance.now();
  window.__dragStop = () => {
    obs.disconnect();
    removeEventListener('orrery:image-drawn', drawn);
    return { tasks, frames, ms: performance.now() - t0 };
  };
})()`;

export async function benchDialLatency(): Promise<void> {
  console.log('\n== dial drag to image on screen (issue 14)');
  if (!appBuilt()) return;
  const { pack, packDir, server } = await serveBenchPack('emoji', 'emoji-tiny');
  const browser = await launchChromium();
  const engine = await ImageEngine.load(pack);
  try {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.addInitScript(tickProbe);
    await page.goto(server.url);
    await page.waitForSelector('body[data-orrery-ready="true"]');
    await page.waitForSelector('.compare.studio[data-running="false"]:not([data-runs="0"])', {
      timeout: 120_000,
    });
    await page.fill('input[aria-label="Feature number"]', '3');
    await page.getByRole('button', { name: 'Add dial' }).click();
    const box = await page.locator('[data-testid="dial-3"] .knob').boundingBox();
    if (!box) throw new Error('no dial');
    const x0 = box.x + box.width / 2;
    const y0 = box.y + box.height / 2;
    const settled = () =>
      page.waitForSelector('.compare.studio[data-running="false"]', { timeout: 60_000 });

    // one long drag; each sample is one move, timed from its pointermove to its pixels
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    const ticks: Tick[] = [];
    for (let i = 1; i <= 25; i++) {
      await settled();
      await page.evaluate(armTick);
      await page.mouse.move(x0 + 2 * i, y0);
      ticks.push((await page.evaluate('window.__dialSample')) as Tick);
    }
    const samples = ticks.map((t) => t.presented);
    const drawnSamples = ticks.map((t) => t.drawn);
    await page.mouse.up();
    await settled();

    // a continuous 5 s drag at about 60 moves a second: the page's long tasks meanwhile
    const swept = async (): Promise<number> =>
      Number(await page.getAttribute('.compare.studio', 'data-swept'));
    const swept0 = await swept();
    await page.evaluate(armDrag);
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    const start = Date.now();
    let k = 0;
    while (Date.now() - start < 5000) {
      k += 1;
      const t = (k % 120) / 120; // a triangle wave, ±40 px
      const dx = 40 * (t < 0.5 ? 4 * t - 1 : 3 - 4 * t);
      await page.mouse.move(x0 + dx, y0);
      await new Promise((res) => setTimeout(res, 16));
    }
    await page.mouse.up();
    const drag = (await page.evaluate('window.__dragStop()')) as {
      tasks: number[];
      frames: number;
      ms: number;
    };
    const dragSwept = (await swept()) - swept0;

    // the bare decode, timed in this process with the same pack, after the page work
    const z = await engine.encode(await engine.sourceImage({ example: 0 }), 1);
    for (let i = 0; i < 5; i++) await engine.decode(z, 1);
    const decode: number[] = [];
    for (let i = 0; i < 30; i++) decode.push((await timeIt(() => engine.decode(z, 1))).ms);

    const ok = samples.filter(Number.isFinite);
    const med = median(ok);
    const load = os.loadavg().map((v) => v.toFixed(2));
    line('load average (1, 5, 15 min)', load.join(' '), `${os.cpus().length} CPUs`);
    line('bare decode (ms, median of 30)', fmt(median(decode), 2), path.relative(root, packDir));
    const drawnOk = drawnSamples.filter(Number.isFinite);
    const kind = (source: Tick['source'], k: 'presented' | 'drawn' = 'presented'): number[] =>
      ticks
        .filter((t) => t.source === source)
        .map((t) => t[k])
        .filter(Number.isFinite);
    const fromSweep = kind('sweep');
    const fromWait = kind('waited');
    const fromLive = kind('live');
    const medOf = (xs: number[]): string => (xs.length > 0 ? fmt(median(xs), 1) : '–');
    line(
      'moves drawn from the sweep / waited for it / live',
      `${fromSweep.length} / ${fromWait.length} / ${fromLive.length}`,
      `of ${ticks.length}; median on screen ${medOf(fromSweep)} / ${medOf(fromWait)} / ${medOf(fromLive)} ms, canvas drawn ${medOf(kind('sweep', 'drawn'))} / ${medOf(kind('waited', 'drawn'))} / ${medOf(kind('live', 'drawn'))} ms`,
    );
    const letter = { sweep: 's', waited: 'w', live: 'L' } as const;
    console.log(
      `   moves in order (s: from the sweep, w: waited for its frame, L: live; ms on screen): ${ticks
        .map((t) => `${letter[t.source]}${fmt(t.presented, 0)}`)
        .join(' ')}`,
    );
    line(
      'pointer move to canvas drawn (ms, median)',
      fmt(median(drawnOk), 1),
      `p25–p75 ${fmt(percentile(drawnOk, 25), 1)}–${fmt(percentile(drawnOk, 75), 1)}, min ${fmt(Math.min(...drawnOk), 1)}; putImageData done`,
    );
    line(
      'canvas drawn vs bare decode (median)',
      `${fmt(median(drawnOk) / median(decode), 1)}×`,
      'not yet on screen: the next frame shows it',
    );
    line(
      'pointer move to new image on screen (ms, median)',
      fmt(med, 1),
      `n=${ok.length}/${samples.length}, min ${fmt(Math.min(...ok), 1)}, max ${fmt(Math.max(...ok), 1)}`,
    );
    line(
      'pointer move to new image on screen (ms, p25–p75)',
      `${fmt(percentile(ok, 25), 1)}–${fmt(percentile(ok, 75), 1)}`,
    );
    line('pointer move to new image on screen (ms, p95)', fmt(percentile(ok, 95), 1));
    line(
      'on screen vs bare decode (median)',
      `${fmt(med / median(decode), 1)}×`,
      'goal ≤ 3× (on screen = the animation frame after the canvas was drawn)',
    );
    line('p95 vs median', `${fmt(percentile(ok, 95) / med, 2)}×`, 'goal ≤ 2×');
    // The same moves split where the page gets each: before, the browser's input pipeline (a
    // move waits for the next animation frame); after, the page's own part.
    const delivered = ticks.map((t) => t.delivered).filter(Number.isFinite);
    const own = ticks.map((t) => t.presented - t.delivered).filter(Number.isFinite);
    line(
      'pointer move → delivered to the page (ms, median / p95)',
      `${fmt(median(delivered), 1)} / ${fmt(percentile(delivered, 95), 1)}`,
      `max ${fmt(Math.max(...delivered), 1)}: the browser holds a move for the next frame`,
    );
    line(
      'delivered → new image on screen (ms, median / p95)',
      `${fmt(median(own), 1)} / ${fmt(percentile(own, 95), 1)}`,
      `p95 vs median ${fmt(percentile(own, 95) / median(own), 2)}×: the page's own part`,
    );
    const part = (k: Exclude<keyof Tick, 'source'>): string => {
      const xs = ticks.map((t) => t[k]).filter(Number.isFinite);
      if (xs.length === 0) return '–';
      return `${fmt(median(xs), 1)} (${fmt(percentile(xs, 25), 1)}–${fmt(percentile(xs, 75), 1)})`;
    };
    line(
      'canvas drawn → on screen (ms, median, all moves)',
      `${fmt(median(ticks.map((t) => t.presented - t.drawn).filter(Number.isFinite)), 1)}`,
      'waiting for the next animation frame',
    );
    line(
      'live moves only:',
      `${fromLive.length}`,
      'a move drawn from the sweep sends no call (its parts below are absent)',
    );
    line(
      '  move → call sent (ms, median, p25–p75)',
      part('send'),
      'page: handler, dial store, encode',
    );
    line(
      '  sent → image.frame event in the page',
      part('frame'),
      'server, inference worker, both socket hops',
    );
    line(
      '    of which the run in the worker',
      part('worker'),
      'decode, metrics, PNG (worker clock)',
    );
    line('  event → canvas drawn', part('draw'), 'page: putImageData from the socket handler');
    line(
      'long tasks during a 5 s drag (count, longest ms)',
      `${drag.tasks.length}, ${fmt(Math.max(0, ...drag.tasks), 0)}`,
      `goal: none > 50 ms; ${k} moves, ${drag.frames} images drawn in ${fmt(drag.ms / 1000, 1)} s, ${dragSwept} from the sweep`,
    );
  } finally {
    await engine.dispose();
    await browser.close();
    await server.stop();
  }
}
