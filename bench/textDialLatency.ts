/**
 * Issue 14's text figure: a real pointer move on a text dial (playwright-core mouse, so the
 * page gets pointer events as from a hand) to the first changed token on screen, measured in
 * the page: performance.now() at the pointermove, and the end of the frame that paints the
 * "after" text once it first stopped being a prefix of what it showed before the move (tokens
 * stream, so this is the first token that differs, drawn). A change made in an animation frame
 * (the page flushes streamed tokens in one) is painted at the end of that frame, one made
 * between frames at the end of the next; the end of a frame is the task after it (a
 * MessageChannel message posted in it). Against the bare engine in this process: the
 * same prompt, sampling and dial value, from the generate call to the same changed token
 * (ctx.token). Moves alternate between two dial positions, so each one changes the text.
 * Through the real headless server and Debian's chromium, like bench/dialLatency.ts.
 */
import os from 'node:os';
import path from 'node:path';
import type { TextGenerateInput } from '../main/runtime/engine';
import { TextEngine } from '../main/runtime/text/textEngine';
import { launchChromium } from '../tests/support/browser';
import { appBuilt, serveBenchPack } from './benchApp';
import { fmt, line, median, percentile } from './stats';

const root = path.resolve(__dirname, '..');
const SAMPLES = 16;
/** The page's text run settings (renderer/src/steer/inputs.ts defaultInput). */
const SAMPLING = { maxTokens: 32, temperature: 0.7, topK: 0, topP: 1, seed: 1 };

/**
 * Installed before the app loads: window.__inFrame is true from an animation frame callback
 * until the microtasks its DOM changes queued (a MutationObserver's) have run.
 */
const frameFlag = `(() => {
  const raf = window.requestAnimationFrame.bind(window);
  window.__inFrame = false;
  window.requestAnimationFrame = (cb) => raf((t) => {
    window.__inFrame = true;
    try { cb(t); } finally { queueMicrotask(() => { window.__inFrame = false; }); }
  });
})()`;

/**
 * In the page, before a move: resolves with ms from the next pointermove to the end of the
 * frame that paints the after text once it first differs from its text now (not a prefix of
 * it), or NaN when the run ends without a change.
 */
const armOne = `(() => {
  const el = () => document.querySelector('[data-testid="text-after"]');
  const studio = () => document.querySelector('.compare.studio');
  const old = el().textContent;
  const runs0 = Number(studio().dataset.runs);
  window.__textSample = new Promise((resolve) => {
    let t0 = null;
    let done = false;
    const finish = (v) => { if (!done) { done = true; obs.disconnect(); resolve(v); } };
    addEventListener('pointermove', () => { t0 = performance.now(); }, { capture: true, once: true });
    const obs = new MutationObserver(() => {
      if (t0 === null || done) return;
      const now = el();
      if (now && !old.startsWith(now.textContent)) {
        const at = t0;
        const painted = () => {
          const ch = new MessageChannel();
          ch.port1.onmessage = () => finish(performance.now() - at);
          ch.port2.postMessage(0);
        };
        if (window.__inFrame) painted();
        else requestAnimationFrame(painted);
        t0 = null;
        return;
      }
      const s = studio();
      if (Number(s.dataset.runs) > runs0 && s.dataset.running === 'false') finish(NaN);
    });
    obs.observe(document.querySelector('.compare.studio'), {
      subtree: true, childList: true, characterData: true, attributes: true,
    });
    setTimeout(() => finish(NaN), 30000);
  });
})()`;

export async function benchTextDialLatency(): Promise<void> {
  console.log('\n== dial change to first changed token on screen (issue 14, text)');
  if (!appBuilt()) return;
  const { pack, packDir, server } = await serveBenchPack('text-fortunes', 'text-tiny');
  const manifest = pack.manifest;
  const sae = manifest.saes[0];
  if (manifest.kind !== 'text-lm' || !sae) throw new Error(`${packDir}: no text pack with an SAE`);

  const browser = await launchChromium();
  const engine = await TextEngine.load(pack);
  const ctx = { signal: new AbortController().signal };
  try {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.addInitScript(frameFlag);
    await page.goto(server.url);
    await page.waitForSelector('body[data-orrery-ready="true"]');
    await page.selectOption('#pack-picker', manifest.id);
    const settled = () =>
      page.waitForSelector('.compare.studio[data-running="false"]:not([data-runs="0"])', {
        timeout: 120_000,
      });
    await settled();
    await page.getByRole('button', { name: 'Side by side' }).click();
    const prompt = await page.inputValue('[aria-label="Prompt"]');

    // A feature the prompt fires strongly, so that its dial changes the text.
    const active = await engine.active(
      { packId: manifest.id, saeId: sae.id, prompt, topK: 1 },
      ctx,
    );
    const feature = active.strongest[0]?.feature ?? 0;
    await page.fill('input[aria-label="Feature number"]', String(feature));
    await page.getByRole('button', { name: 'Add dial' }).click();
    const knob = `[data-testid="dial-${feature}"] .knob`;
    await page.waitForSelector(knob);
    // its calibrated range, when the pack's index has one (it sets how far a drag goes)
    const calibrated = await page
      .waitForSelector(`${knob}[data-limit]`, { timeout: 30_000 })
      .then(() => true)
      .catch(() => false);
    await settled();
    const box = await page.locator(knob).boundingBox();
    if (!box) throw new Error('no dial');
    const x0 = box.x + box.width / 2;
    const y0 = box.y + box.height / 2;
    const valueOf = async (): Promise<number> =>
      Number(await page.inputValue(`input[aria-label="Value of feature ${feature}"]`));

    const input = (value: number): TextGenerateInput => ({
      packId: manifest.id,
      prompt,
      dials: [{ saeId: sae.id, feature, method: 'add', value }],
      sampling: SAMPLING,
    });
    /** ms from the call to the first "after" token that differs from `old` (NaN: none). */
    const bare = async (value: number, old: number[]): Promise<number> => {
      let at = Number.NaN;
      const t0 = performance.now();
      await engine.generate(input(value), {
        ...ctx,
        token: (row, index, id) => {
          if (row === 'after' && Number.isNaN(at) && old[index] !== id) {
            at = performance.now() - t0;
          }
        },
      });
      return at;
    };

    // one drag, alternating between 30% and 70% of the way to the calibrated limit
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    await page.mouse.move(x0 + 60, y0, { steps: 4 });
    await settled();
    let value = await valueOf();
    const onScreen: number[] = [];
    const engineMs: number[] = [];
    let same = 0;
    for (let i = 0; i < SAMPLES; i++) {
      await settled();
      await page.evaluate(armOne);
      await page.mouse.move(x0 + (i % 2 === 0 ? 140 : 60), y0);
      const ms = (await page.evaluate('window.__textSample')) as number;
      await settled();
      const next = await valueOf();
      const old = (await engine.generate(input(value), ctx)).after.tokenIds;
      const fresh = await engine.generate(input(next), ctx);
      const shown = (await page.textContent('[data-testid="text-after"]')) ?? '';
      if (shown === prompt + fresh.after.text) same += 1;
      if (Number.isFinite(ms)) {
        onScreen.push(ms);
        engineMs.push(await bare(next, old));
      }
      value = next;
    }
    await page.mouse.up();

    const ok = engineMs.filter(Number.isFinite);
    const med = median(onScreen);
    const load = os.loadavg().map((v) => v.toFixed(2));
    line('load average (1, 5, 15 min)', load.join(' '), `${os.cpus().length} CPUs`);
    line(
      'engine: generate call to first changed token (ms)',
      fmt(median(ok), 1),
      `${path.relative(root, packDir)}, feature ${feature}${calibrated ? '' : ' (uncalibrated)'}, ${SAMPLING.maxTokens} tokens, n=${ok.length}`,
    );
    line(
      'pointer move to first changed token on screen (ms)',
      fmt(med, 1),
      `n=${onScreen.length}/${SAMPLES}, min ${fmt(Math.min(...onScreen), 1)}, max ${fmt(Math.max(...onScreen), 1)}, p95 ${fmt(percentile(onScreen, 95), 1)}`,
    );
    line('on screen vs engine (median)', `${fmt(med / median(ok), 1)}×`);
    line('page text equals the engine run', `${same}/${SAMPLES}`);
  } finally {
    await engine.dispose();
    await browser.close();
    await server.stop();
  }
}
