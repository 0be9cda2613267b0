/**
 * Issue 8's figure: from a dial value change to the new image in the page (median and p95),
 * against the bare decode time, through the real headless server and Debian's chromium.
 */
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPack } from '../main/packs/packReader';
import { ImageEngine } from '../main/runtime/image/imageEngine';
import { launchChromium } from '../tests/support/browser';
import { startHeadless } from '../tests/support/headless';
import { fmt, line, median, percentile, timeIt } from './stats';

const root = path.resolve(__dirname, '..');

/** Runs in the page (plain JavaScript, so no bundler helpers leak in): time to the new image. */
const inPage = `async (value) => {
  const img = () => document.querySelector('[data-testid="image-after"]')?.getAttribute('src') ?? '';
  const before = img();
  const input = document.querySelector('input[aria-label="Value of feature 3"]');
  if (!input) throw new Error('no dial');
  const t0 = performance.now();
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, String(value));
  input.dispatchEvent(new Event('input', { bubbles: true }));
  input.dispatchEvent(new FocusEvent('focusout', { bubbles: true }));
  for (;;) {
    await new Promise((r) => requestAnimationFrame(r));
    const el = document.querySelector('[data-testid="image-after"]');
    if (el && img() !== before && el.complete) return performance.now() - t0;
    if (performance.now() - t0 > 20000) return NaN;
  }
}`;

export async function benchDialLatency(): Promise<void> {
  console.log('\n== dial to image (issue 8)');
  if (!existsSync(path.join(root, 'out', 'main', 'server.js'))) {
    console.log('   skipped: run npm run build first (the bench drives the built app)');
    return;
  }
  const bundled = path.join(root, 'models', 'emoji');
  const packDir = existsSync(path.join(bundled, 'manifest.json'))
    ? bundled
    : path.join(root, 'tests', 'fixtures', 'packs', 'emoji-tiny');
  const r = await readPack(packDir);
  if (!r.ok) throw new Error(r.problem.message);
  const engine = await ImageEngine.load(r.pack);
  const z = await engine.encode(await engine.sourceImage({ example: 0 }), 1);
  for (let i = 0; i < 5; i++) await engine.decode(z, 1);
  const decode: number[] = [];
  for (let i = 0; i < 30; i++) decode.push((await timeIt(() => engine.decode(z, 1))).ms);
  await engine.dispose();

  const models = mkdtempSync(path.join(os.tmpdir(), 'orrery-bench-models-'));
  cpSync(packDir, path.join(models, path.basename(packDir)), { recursive: true });
  const server = await startHeadless([
    '--home',
    mkdtempSync(path.join(os.tmpdir(), 'orrery-bench-home-')),
    '--models',
    models,
  ]);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForSelector('body[data-orrery-ready="true"]');
    await page.waitForSelector('.compare.studio[data-running="false"]:not([data-runs="0"])', {
      timeout: 120_000,
    });
    await page.fill('input[aria-label="Feature number"]', '3');
    await page.getByRole('button', { name: 'Add dial' }).click();
    const samples: number[] = [];
    for (let i = 1; i <= 25; i++) {
      const ms = (await page.evaluate(`(${inPage})(${0.5 + i * 0.37})`)) as number;
      samples.push(ms);
    }
    const ok = samples.filter(Number.isFinite);
    line('bare decode (ms, median)', fmt(median(decode), 2), path.relative(root, packDir));
    line('dial change to new image on screen (ms, median)', fmt(median(ok), 1));
    line('dial change to new image on screen (ms, p95)', fmt(percentile(ok, 95), 1));
    line('on screen vs bare decode (ratio, median)', fmt(median(ok) / median(decode), 1) + '×');
  } finally {
    await browser.close();
    await server.stop();
  }
}
