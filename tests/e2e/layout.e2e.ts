/**
 * The layout at 1280×720, 1440×900 and 1920×1080 on each default pack, with a feature card,
 * two dials and the compare strip open: every control lies inside its panel and the viewport,
 * no control's text is cut, and no cluster label lies under the galaxy's toolbar (screenshots
 * in test-results/e2e/layout-*.png).
 */
import { existsSync } from 'node:fs';
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
});
