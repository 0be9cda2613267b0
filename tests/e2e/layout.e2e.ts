/**
 * The layout at 1280×720, 1440×900 and 1920×1080 on each default pack, with a feature card,
 * two dials and the compare strip open: every control lies inside its panel and the viewport,
 * no control's text is cut, and no cluster label lies under the galaxy's toolbar (screenshots
 * in test-results/e2e/layout-*.png).
 */
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type OpenApp } from '../support/app';
import { artefacts } from '../support/browser';
import { galaxyHook } from '../support/page';
import { repoRoot } from '../support/tmp';

const packs = [
  { dir: 'text-fortunes', id: 'orrery-text-fortunes' },
  { dir: 'emoji', id: 'orrery-emoji' },
  { dir: 'glyphs', id: 'orrery-glyphs' },
].map((p) => ({ ...p, path: path.join(repoRoot, 'models', p.dir) }));
const sizes = [
  { width: 1280, height: 720 },
  { width: 1440, height: 900 },
  { width: 1920, height: 1080 },
];

let app: OpenApp;
let page: Page;

/**
 * What is wrong with the layout, in words (read in the page): a control outside the viewport,
 * outside its panel or a box that clips it (a scrolling box clips only across its scroll), a
 * control whose text or placeholder is cut, galaxy overlays over each other or a cluster label.
 */
const LAYOUT_PROBLEMS = `(() => {
  const problems = [];
  const vw = window.innerWidth;
  const vh = window.innerHeight;
  const name = (el) =>
    el.tagName.toLowerCase() + '[' + (el.getAttribute('aria-label') || el.getAttribute('data-testid') || el.className || '') +
    '] “' + (el.textContent || el.placeholder || '').trim().slice(0, 30) + '”';
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
  };
  const panels = '.topbar, .galaxy, .side, .compare > div, .dialog';
  const out = (r, p, axis) =>
    axis === 'x' ? r.left < p.left - 0.5 || r.right > p.right + 0.5 : r.top < p.top - 0.5 || r.bottom > p.bottom + 0.5;
  const ctx = document.createElement('canvas').getContext('2d');
  const controls = document.querySelectorAll('button, input:not([type="file"]), select, textarea, .galaxy-count');
  for (const el of controls) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    // what a scrolling box hides along its scroll is reachable; anything else that leaves a box is cut
    let scrolledAway = false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      const p = a.getBoundingClientRect();
      const clips = a.matches(panels) || s.overflowX !== 'visible' || s.overflowY !== 'visible';
      if (!clips) continue;
      const scrollsY = a.scrollHeight > a.clientHeight + 1 && /auto|scroll/.test(s.overflowY);
      if (scrollsY && out(r, p, 'y')) { scrolledAway = true; break; }
      if (out(r, p, 'x') || out(r, p, 'y')) {
        problems.push(name(el) + ' lies outside ' + name(a).slice(0, 60));
        break;
      }
      if (a.matches(panels)) break;
    }
    if (scrolledAway) continue;
    if (r.left < -0.5 || r.right > vw + 0.5 || r.top < -0.5 || r.bottom > vh + 0.5)
      problems.push(name(el) + ' leaves the viewport');
    if (el instanceof HTMLInputElement && el.placeholder && !el.value) {
      const s = getComputedStyle(el);
      ctx.font = s.fontSize + ' ' + s.fontFamily;
      const room = el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
      if (ctx.measureText(el.placeholder).width > room + 1)
        problems.push(name(el) + ': its placeholder is cut');
    }
    if (el.matches('.galaxy-count, button') && el.scrollWidth > el.clientWidth + 1)
      problems.push(name(el) + ': its text is cut');
  }
  // the galaxy's overlays: none over another, no cluster label over any of them
  const boxes = (sel) => [...document.querySelectorAll(sel)].filter(visible).map((el) => ({ el, r: el.getBoundingClientRect() }));
  const meets = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const bars = boxes('.galaxy-hud > *, .galaxy-sae > *, .galaxy-filters');
  for (const label of boxes('.galaxy-label'))
    for (const bar of bars)
      if (meets(label.r, bar.r)) problems.push('cluster label ' + name(label.el) + ' lies under ' + name(bar.el));
  for (let i = 0; i < bars.length; i++)
    for (let j = i + 1; j < bars.length; j++)
      if (meets(bars[i].r, bars[j].r)) problems.push(name(bars[i].el) + ' overlaps ' + name(bars[j].el));
  return problems;
})()`;

function layoutProblems(): Promise<string[]> {
  return page.evaluate(LAYOUT_PROBLEMS) as Promise<string[]>;
}

async function settled(): Promise<void> {
  await expect
    .poll(() => page.getAttribute('.compare.studio', 'data-running'), { timeout: 90_000 })
    .toBe('false');
}

describe.runIf(packs.every((p) => existsSync(p.path)))('layout of the default packs', () => {
  beforeAll(async () => {
    app = await openApp(packs.map((p) => p.path));
    ({ page } = app);
  });

  afterAll(async () => {
    await app?.close();
  });

  it.each(packs)('$dir: a card, two dials and compare fit at every size', async (pack) => {
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.selectOption('#pack-picker', pack.id);
    await expect
      .poll(() => galaxyHook<boolean>(page, 'ready'), { timeout: 90_000, interval: 250 })
      .toBe(true);
    await settled();
    // a card from the galaxy, turned into a dial, and a second dial by number
    await page.evaluate('window.__orreryActions.run("select-feature", { feature: 1 })');
    await page.locator('[data-testid="turn-it"]').click();
    await page.fill('input[aria-label="Feature number"]', '2');
    await page.getByRole('button', { name: 'Add dial' }).click();
    await expect.poll(() => page.locator('.dial').count()).toBe(2);
    await settled();
    for (const size of sizes) {
      await page.setViewportSize(size);
      // cluster labels are placed again after a resize: wait for a layout with no problem
      await expect.poll(layoutProblems, { timeout: 15_000, interval: 250 }).toEqual([]);
      await page.screenshot({
        path: path.join(artefacts, `layout-${pack.dir}-${size.width}x${size.height}.png`),
      });
    }
    await page.evaluate('window.__orreryActions.run("reset-dials")');
  });

  it('a pack switch clears the last pack’s before and after at once', async () => {
    // on the typeface pack (wide specimens) now; every frame until the emoji pack's first
    // square output, note whether a wide picture is still shown under the emoji pack's name
    await expect.poll(() => page.locator('[data-testid="image-before"]').count()).toBe(1);
    await page.evaluate(`(() => {
      const seen = (window.__staleFrames = []);
      const look = () => {
        const picker = document.querySelector('#pack-picker');
        const c = document.querySelector('[data-testid="image-before"]');
        const shape = c ? (c.width > 2 * c.height ? 'wide' : 'square') : 'none';
        seen.push(picker.value + ':' + shape);
        if (!(picker.value === 'orrery-emoji' && shape === 'square')) requestAnimationFrame(look);
      };
      look();
    })()`);
    await page.selectOption('#pack-picker', 'orrery-emoji');
    await expect
      .poll(() => page.evaluate('window.__staleFrames.at(-1)'), { timeout: 90_000 })
      .toBe('orrery-emoji:square');
    const frames = (await page.evaluate('window.__staleFrames')) as string[];
    expect(frames[0]).toBe('orrery-glyphs:wide');
    expect(frames).not.toContain('orrery-emoji:wide');
  });

  it('exports a 512 px PNG of the output and a dial’s sweep as a strip', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await settled();
    await page.evaluate('window.__orreryActions.run("select-feature", { feature: 3 })');
    await page.locator('[data-testid="turn-it"]').click();
    await expect.poll(() => page.locator('.dial').count()).toBe(1);
    await settled();
    await page.getByRole('button', { name: 'Export…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export' });
    await dialog.getByLabel('Size (long side)', { exact: true }).selectOption('512');
    const save = async (button: string, file: string): Promise<string> => {
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 90_000 }),
        dialog.getByRole('button', { name: button }).click(),
      ]);
      const where = path.join(artefacts, file);
      await download.saveAs(where);
      return where;
    };
    const png = await sharp(await save('Save PNG', 'export-emoji-512.png')).metadata();
    expect([png.format, png.width, png.height]).toEqual(['png', 512, 512]);
    await dialog.getByLabel('Frame size', { exact: true }).selectOption('256');
    const strip = await sharp(await save('Save sweep', 'export-emoji-sweep-strip.png')).metadata();
    // −2×, 0, +1×, +2×, +4× (and the calibrated limit when past +4×), 8 px apart
    const frames = Math.round((strip.width ?? 0) / (256 + 8));
    expect(frames).toBeGreaterThanOrEqual(5);
    expect([strip.format, strip.width, strip.height]).toEqual([
      'png',
      frames * 256 + (frames - 1) * 8,
      256,
    ]);
    await dialog.getByLabel('Sweep as', { exact: true }).selectOption('webp');
    const webp = await sharp(await save('Save sweep', 'export-emoji-sweep.webp'), {
      animated: true,
    }).metadata();
    // there and back: the ends once, the frames between twice
    expect([webp.format, webp.pages, webp.width]).toEqual(['webp', 2 * frames - 2, 256]);
    await expect.poll(() => page.textContent('[data-testid="export-status"]')).toContain('Saved');
    await page.screenshot({ path: path.join(artefacts, 'layout-export-dialog.png') });
    await dialog.getByRole('button', { name: 'Close' }).click();
  });
});
