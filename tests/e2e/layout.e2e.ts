/**
 * The layout at 1280×720, 1440×900 and 1920×1080 on each default pack, with a feature card,
 * two dials and the compare strip open: every control lies inside its panel and the viewport,
 * no control's text is cut, and no cluster label lies under the galaxy's toolbar (screenshots
 * in test-results/e2e/layout-*.png).
 */
import { existsSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type OpenApp } from '../support/app';
import { artefacts } from '../support/browser';
import { apiCall, galaxyHook } from '../support/page';
import { fixturePacks, repoRoot } from '../support/tmp';

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
 * control whose text or placeholder is cut, a control over another (cluster labels included).
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
  const shown = [];
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
    shown.push({ el, r });
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
  // no control over another (cluster labels included: none under a toolbar or picker)
  const meets = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  for (let i = 0; i < shown.length; i++)
    for (let j = i + 1; j < shown.length; j++) {
      const a = shown[i], b = shown[j];
      if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
      if (meets(a.r, b.r)) problems.push(name(a.el) + ' overlaps ' + name(b.el));
    }
  return problems;
})()`;

function layoutProblems(): Promise<string[]> {
  return page.evaluate(LAYOUT_PROBLEMS) as Promise<string[]>;
}

/** Focusable nodes without a name, as the browser's accessibility tree computes names. */
async function unnamedControls(): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  type AxNode = {
    ignored: boolean;
    role?: { value: string };
    name?: { value: string };
    properties?: { name: string; value: { value: unknown } }[];
  };
  const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: AxNode[] };
  await cdp.detach();
  return nodes
    .filter(
      (n) =>
        !n.ignored &&
        n.properties?.some((p) => p.name === 'focusable' && p.value.value === true) &&
        !['RootWebArea', 'generic', 'none'].includes(n.role?.value ?? '') &&
        !(n.name?.value ?? '').trim(),
    )
    .map((n) => n.role?.value ?? '?');
}

/** Chooses a pack and waits for its galaxy to draw. */
async function openPack(id: string): Promise<void> {
  await page.selectOption('#pack-picker', id);
  await expect
    .poll(() => galaxyHook<boolean>(page, 'ready'), { timeout: 90_000, interval: 250 })
    .toBe(true);
}

/** Opens a feature's card from the galaxy and turns it into a dial. */
async function turnCard(feature: number): Promise<void> {
  await page.evaluate(`window.__orreryActions.run("select-feature", { feature: ${feature} })`);
  await page.locator('[data-testid="turn-it"]').click();
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
    await openPack(pack.id);
    await settled();
    // a card from the galaxy, turned into a dial, and a second dial by number
    await turnCard(1);
    await page.fill('input[aria-label="Feature number"]', '2');
    await page.getByRole('button', { name: 'Add dial' }).click();
    await expect.poll(() => page.locator('.dial').count()).toBe(2);
    await settled();
    expect(await unnamedControls()).toEqual([]);
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

  it('every control has a name and is reached by Tab; stars are reached by arrow keys', async () => {
    // on the typeface pack, with a card, a dial and history open
    await page.setViewportSize({ width: 1280, height: 720 });
    await openPack('orrery-glyphs');
    await turnCard(1);
    await expect.poll(() => page.locator('.dial').count()).toBe(1);
    expect(await unnamedControls()).toEqual([]);
    // Tab from the top reaches every visible, enabled control (file inputs included)
    const count = (await page.evaluate(`(() => {
      const all = [...document.querySelectorAll('button, input, select, textarea, [tabindex="0"]')]
        .filter((el) => !el.disabled && el.getClientRects().length > 0 &&
          (el.type === 'file' || el.checkVisibility({ checkVisibilityCSS: true })));
      all.forEach((el, i) => el.setAttribute('data-tab-mark', String(i)));
      window.__tabbed = new Set();
      document.addEventListener('focusin', (e) => {
        const m = e.target.getAttribute && e.target.getAttribute('data-tab-mark');
        if (m !== null) window.__tabbed.add(m);
      });
      document.activeElement?.blur();
      return all.length;
    })()`)) as number;
    for (let i = 0; i < count + 8; i++) await page.keyboard.press('Tab');
    const missed = (await page.evaluate(`[...document.querySelectorAll('[data-tab-mark]')]
      .filter((el) => !window.__tabbed.has(el.getAttribute('data-tab-mark')))
      .map((el) => el.outerHTML.slice(0, 120))`)) as string[];
    expect(missed).toEqual([]);
    // arrow keys move to the nearest star that way; Enter opens its card
    await page.focus('[data-testid="galaxy-view"]');
    const star = async () => {
      const hover = page.locator('[data-testid="galaxy-hover"]');
      const t = (await hover.getAttribute('style')) ?? '';
      const at = /translate\(([-\d.]+)px, ([-\d.]+)px\)/.exec(t);
      return {
        feature: await hover.getAttribute('data-feature'),
        x: Number(at?.[1] ?? NaN),
        y: Number(at?.[2] ?? NaN),
      };
    };
    await page.keyboard.press('ArrowRight');
    const first = await star();
    expect(first.feature).toMatch(/^\d+$/);
    await page.keyboard.press('ArrowRight');
    const right = await star();
    expect(right.feature).not.toBe(first.feature);
    expect(right.x).toBeGreaterThan(first.x);
    await page.keyboard.press('ArrowDown');
    const down = await star();
    expect(down.y).toBeGreaterThan(right.y);
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.getAttribute('[data-testid="feature-card"]', 'data-feature'))
      .toBe(down.feature);
    await page.screenshot({ path: path.join(artefacts, 'layout-keyboard-star.png') });
    await page.evaluate('window.__orreryActions.run("reset-dials")');
  });

  it('a pack switch clears the last pack’s before and after at once', async () => {
    // from the typeface pack (wide specimens): every frame until the emoji pack's first square
    // output, note whether a wide picture is still shown under the emoji pack's name
    await page.selectOption('#pack-picker', 'orrery-glyphs');
    await expect
      .poll(
        () =>
          page.evaluate(`(() => {
            const c = document.querySelector('[data-testid="image-before"]');
            return c !== null && c.width > 2 * c.height;
          })()`),
        { timeout: 90_000 },
      )
      .toBe(true);
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
    await openPack('orrery-emoji');
    await settled();
    await turnCard(3);
    await expect.poll(() => page.locator('.dial').count()).toBe(1);
    await settled();
    await page.getByRole('button', { name: 'Export…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export' });
    // the keyboard starts in the dialog
    await expect
      .poll(() => page.evaluate('document.activeElement?.closest(".dialog") !== null'))
      .toBe(true);
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
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
  });

  it('a fresh import names what has no index and shows Build without scrolling', async () => {
    await page.setViewportSize({ width: 1280, height: 720 });
    await apiCall(page, 'packs.import', { from: path.join(fixturePacks, 'text-tiny') });
    await page.reload();
    await page.waitForSelector('body[data-orrery-ready="true"]');
    await page.selectOption('#pack-picker', 'orrery-text-tiny');
    const build = page.getByRole('button', { name: 'Build the index' });
    await build.waitFor({ timeout: 60_000 });
    expect(await page.textContent('[data-testid="no-map-lead"]')).toMatch(
      /^Tiny text fixture has no feature index yet/,
    );
    const box = await build.boundingBox();
    expect(box && box.y + box.height).toBeLessThanOrEqual(720);
    expect(await layoutProblems()).toEqual([]);
    await page.screenshot({ path: path.join(artefacts, 'layout-fresh-import-1280x720.png') });
    // its text run exported with the diff marked
    await settled();
    await page.getByRole('button', { name: 'Export…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export' });
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60_000 }),
      dialog.getByRole('button', { name: 'Save text' }).click(),
    ]);
    const where = path.join(artefacts, 'export-text-tiny.txt');
    await download.saveAs(where);
    const text = readFileSync(where, 'utf8');
    expect(text).toMatch(/^# Orrery text export: 0 words added \{\+like this\+\}, 0 removed/);
    expect(text).toContain('-- before (every dial at rest) --\nThe Lord said unto');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });
});
