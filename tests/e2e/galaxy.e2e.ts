/**
 * The galaxy in a real browser against the real headless server: a fixture pack copied into
 * a temporary models folder gets its index built through the UI (index.build), the galaxy
 * renders (screenshot, stars on screen), a lasso drawn with mouse events selects exactly the
 * features whose projected positions lie inside the polygon (computed here, independently,
 * from index.map and the page's camera), Shift adds and Alt subtracts, hover shows the right
 * card, search finds a feature by its label and flies to it, and the card's links (a nearest
 * feature, the cluster badge) and the toolbar's Lasso run the galaxy's actions.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { Vector4 } from 'three';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMapArrays, type CallOutput } from '../../preload/contract';
import { openApp, type OpenApp } from '../support/app';
import { artefacts } from '../support/browser';
import { apiCall, galaxyHook } from '../support/page';
import { fixturePacks, tmpDir } from '../support/tmp';

const PACK = 'orrery-text-tiny';

/** Indexing that fails loudly instead of yielding undefined. */
function at<T>(a: ArrayLike<T>, i: number): T {
  const v = a[i];
  if (v === undefined) throw new Error(`no element ${i}`);
  return v;
}
const SAE = 'res1-64';

let app: OpenApp;
let page: Page;

interface MapData {
  count: number;
  features: Uint32Array;
  positions: Float32Array;
}
let map: MapData;

beforeAll(async () => {
  app = await openApp([path.join(fixturePacks, 'text-tiny')]);
  ({ page } = app);
});

afterAll(async () => {
  await app?.close();
});

const call = <T>(name: string, input: unknown): Promise<T> => apiCall<T>(page, name, input);

const hooks = <T>(fn: string): Promise<T> => galaxyHook<T>(page, fn);

/** Every feature of the map with its label, as its card gives it. */
const featureLabels = (): Promise<{ feature: number; label: string }[]> =>
  Promise.all(
    Array.from(map.features, (f) =>
      call<{ feature: number; label: string }>('index.feature', {
        packId: PACK,
        saeId: SAE,
        feature: f,
      }),
    ),
  );

interface View {
  m: number[];
  rect: { left: number; top: number; width: number; height: number };
}

async function view(): Promise<View> {
  const m = await hooks<number[]>('viewProjection');
  const rect = await hooks<View['rect']>('canvasRect');
  return { m, rect };
}

/** Screen positions (CSS px in the canvas) of every point, or null when not visible. */
function project(v: View): ([number, number] | null)[] {
  const out: ([number, number] | null)[] = [];
  const p = new Vector4();
  for (let i = 0; i < map.count; i++) {
    p.set(at(map.positions, i * 3), at(map.positions, i * 3 + 1), at(map.positions, i * 3 + 2), 1);
    p.applyMatrix4({ elements: v.m } as never);
    if (p.w <= 0 || p.z / p.w < -1 || p.z / p.w > 1) {
      out.push(null);
      continue;
    }
    out.push([(p.x / p.w / 2 + 0.5) * v.rect.width, (0.5 - p.y / p.w / 2) * v.rect.height]);
  }
  return out;
}

/** Winding number (not the app's even-odd code): inside a simple polygon. */
function inside(x: number, y: number, poly: [number, number][]): boolean {
  let wn = 0;
  for (let i = 0; i < poly.length; i++) {
    const [x0, y0] = at(poly, i);
    const [x1, y1] = at(poly, (i + 1) % poly.length);
    const side = (x1 - x0) * (y - y0) - (x - x0) * (y1 - y0);
    if (y0 <= y && y1 > y && side > 0) wn++;
    else if (y0 > y && y1 <= y && side < 0) wn--;
  }
  return wn !== 0;
}

function featuresInside(v: View, poly: [number, number][]): Set<number> {
  const s = new Set<number>();
  project(v).forEach((p, i) => {
    if (p && inside(p[0], p[1], poly)) s.add(at(map.features, i));
  });
  return s;
}

/** A many-sided blob around (cx, cy) with radii rx, ry (integers: what the mouse sends). */
function blob(cx: number, cy: number, rx: number, ry: number, sides = 11): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < sides; k++) {
    const a = (2 * Math.PI * k) / sides;
    const wobble = 1 + 0.18 * Math.sin(3 * a);
    out.push([
      Math.round(cx + rx * wobble * Math.cos(a)),
      Math.round(cy + ry * wobble * Math.sin(a)),
    ]);
  }
  return out;
}

async function drawLasso(
  v: View,
  poly: [number, number][],
  modifier?: 'Shift' | 'Alt',
): Promise<void> {
  const toPage = ([x, y]: [number, number]) => [v.rect.left + x, v.rect.top + y] as const;
  if (modifier) await page.keyboard.down(modifier);
  await page.mouse.move(...toPage(at(poly, 0)));
  await page.mouse.down();
  for (const p of poly.slice(1)) await page.mouse.move(...toPage(p));
  await page.mouse.up();
  if (modifier) await page.keyboard.up(modifier);
}

const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);

async function selectionIs(want: Set<number>): Promise<void> {
  await expect.poll(() => hooks<number[]>('selection'), { timeout: 15_000 }).toEqual(sorted(want));
  expect(await page.textContent('[data-testid="selection-count"]')).toBe(String(want.size));
}

describe('galaxy (headless, chromium)', () => {
  it('builds the index by itself on first open, with progress, and renders the galaxy', async () => {
    // A pack that came with the app (here: the models folder) builds its index unasked.
    await page.waitForSelector('[data-testid="pack-without-map"]');
    await page.waitForSelector('[data-testid="build-index"] [role="progressbar"]');
    await expect.poll(() => hooks<boolean | null>('ready'), { timeout: 90_000 }).toBe(true);
    // The positions the page has: the 16-bit ones off the wire, decoded as the galaxy decodes them.
    map = decodeMapArrays(
      await call<CallOutput<'index.map'>>('index.map', { packId: PACK, saeId: SAE }),
    );
    expect(map.count).toBeGreaterThan(10);
    expect(await hooks<number>('count')).toBe(map.count);

    // What is active for the current input (the default prompt): lit, brightest the strongest.
    const active = await call<{ strongest: { feature: number; value: number }[] }>('text.active', {
      packId: PACK,
      saeId: SAE,
      prompt: 'The Lord said unto',
      topK: 8,
    });
    const shown = new Set(map.features);
    const lit = active.strongest.filter((a) => a.value > 0 && shown.has(a.feature));
    expect(lit.length).toBeGreaterThan(0);
    const strongest = lit.reduce((a, b) => (b.value > a.value ? b : a));
    await expect
      .poll(async () => (await hooks<{ feature: number }[]>('active')).map((a) => a.feature), {
        timeout: 60_000,
      })
      .toEqual(lit.map((a) => a.feature).sort((a, b) => a - b));
    const brightness = await hooks<{ feature: number; brightness: number }[]>('active');
    expect(brightness.find((a) => a.feature === strongest.feature)?.brightness).toBe(255);
    expect(Math.max(...brightness.map((a) => a.brightness))).toBe(255);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(artefacts, 'galaxy-active.png') });
    await page.getByTestId('active-count').getByRole('button', { name: 'clear' }).click();
    await expect.poll(() => hooks<unknown[]>('active')).toEqual([]);
    await page.waitForTimeout(300);
    const file = path.join(artefacts, 'galaxy.png');
    await page.screenshot({ path: file });
    // Stars are on screen: bright, coloured pixels inside the canvas.
    const png = PNG.sync.read(readFileSync(file));
    const { rect } = await view();
    let bright = 0;
    for (let y = Math.ceil(rect.top) + 60; y < rect.top + rect.height; y++) {
      for (let x = Math.ceil(rect.left); x < rect.left + rect.width; x++) {
        const o = (y * png.width + x) * 4;
        if (at(png.data, o) + at(png.data, o + 1) + at(png.data, o + 2) > 300) bright++;
      }
    }
    expect(bright).toBeGreaterThan(map.count * 4);
  });

  it('selects exactly the features inside a lasso; Shift adds, Alt subtracts', async () => {
    // the toolbar's Lasso (set-galaxy-tool); the L key switches it back at the end
    const lasso = page.getByRole('toolbar', { name: 'Galaxy tools' }).getByRole('button', {
      name: 'Lasso',
      exact: true,
    });
    await lasso.click();
    await expect.poll(() => lasso.getAttribute('aria-pressed')).toBe('true');
    const v = await view();
    const w = v.rect.width;
    const h = v.rect.height;
    const first = blob(w * 0.42, h * 0.5, w * 0.16, h * 0.22);
    const want = featuresInside(v, first);
    expect(want.size).toBeGreaterThan(0);
    expect(want.size).toBeLessThan(map.count);
    await drawLasso(v, first);
    await selectionIs(want);

    const second = blob(w * 0.66, h * 0.45, w * 0.14, h * 0.25);
    const added = featuresInside(v, second);
    await drawLasso(v, second, 'Shift');
    const union = new Set([...want, ...added]);
    expect(union.size).toBeGreaterThan(want.size);
    await selectionIs(union);

    const third = blob(w * 0.5, h * 0.5, w * 0.1, h * 0.3, 7);
    const removed = featuresInside(v, third);
    await drawLasso(v, third, 'Alt');
    const rest = new Set([...union].filter((f) => !removed.has(f)));
    expect(rest.size).toBeLessThan(union.size);
    await selectionIs(rest);
    await page.screenshot({ path: path.join(artefacts, 'galaxy-lasso.png') });
    // the lasso opened the selection panel over the galaxy's left: closed, the stars are clear
    await page.getByRole('button', { name: 'Close the selection' }).click();

    await page.keyboard.press('Escape');
    await selectionIs(new Set());
    await page.keyboard.press('l');
    await expect.poll(() => lasso.getAttribute('aria-pressed')).toBe('false');
  });

  it('hover shows the feature under the pointer and its card', async () => {
    const v = await view();
    const screen = project(v);
    // The most isolated visible star away from the toolbar, so exactly one is under the pointer.
    let best = -1;
    let bestGap = 0;
    screen.forEach((p, i) => {
      if (!p || p[1] < 60 || p[0] < 20 || p[0] > v.rect.width - 20 || p[1] > v.rect.height - 60)
        return;
      let gap = Infinity;
      screen.forEach((q, j) => {
        if (q && j !== i) gap = Math.min(gap, Math.hypot(q[0] - p[0], q[1] - p[1]));
      });
      if (gap > bestGap) {
        bestGap = gap;
        best = i;
      }
    });
    expect(best).toBeGreaterThanOrEqual(0);
    const feature = at(map.features, best);
    const card = await call<{ label: string }>('index.feature', {
      packId: PACK,
      saeId: SAE,
      feature,
    });
    const star = at(screen, best);
    if (!star) throw new Error('the star is not on screen');
    const [x, y] = star;
    await page.mouse.move(v.rect.left + x - 30, v.rect.top + y - 30);
    await page.mouse.move(v.rect.left + x, v.rect.top + y, { steps: 4 });
    await expect.poll(() => hooks<number | null>('hovered')).toBe(feature);
    await expect
      .poll(() => page.getAttribute('[data-testid="feature-card"]', 'data-feature'))
      .toBe(String(feature));
    expect(await page.textContent('[data-testid="feature-card-label"]')).toBe(
      card.label || `feature ${feature}`,
    );
    await expect.poll(() => page.textContent('[data-testid="galaxy-hover"]')).toContain(card.label);
    await page.screenshot({ path: path.join(artefacts, 'galaxy-hover.png') });
    // A click chooses it: selected, its card stays after the pointer leaves.
    await page.mouse.click(v.rect.left + x, v.rect.top + y);
    await expect.poll(() => hooks<number[]>('selection')).toEqual([feature]);
    expect(await hooks<number | null>('focused')).toBe(feature);
    // Leaving the galaxy clears the hover.
    await page.mouse.move(2, 2);
    await expect.poll(() => hooks<number | null>('hovered')).toBeNull();
    expect(await page.getAttribute('[data-testid="feature-card"]', 'data-feature')).toBe(
      String(feature),
    );

    // Rename it from the card (index.rename): the card and the index both carry the new name.
    await page.fill('input[aria-label="Feature label"]', 'my test star');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect
      .poll(() => page.textContent('[data-testid="feature-card-label"]'))
      .toBe('my test star');
    const renamed = await call<{ label: string; labelSource: string }>('index.feature', {
      packId: PACK,
      saeId: SAE,
      feature,
    });
    expect(renamed).toMatchObject({ label: 'my test star', labelSource: 'user' });

    // "Turn it" hands the feature to the dials.
    await page.getByTestId('turn-it').click();
    await page.waitForSelector(`[data-testid="dial-${feature}"]`);
  });

  it('search finds a feature by its label and flies to it', async () => {
    // A feature whose label is a word the search can match, far from the current view centre.
    const labels = await featureLabels();
    const target = labels.find((c) => /\w{3,}/.test(c.label));
    expect(target).toBeDefined();
    if (!target) throw new Error('no labelled feature');
    const { feature, label } = target;
    await page.click('input[aria-label="Search features"]');
    await page.keyboard.type(label);
    const option = page.locator(`[data-testid="search-results"] li[data-feature="${feature}"]`);
    await option.waitFor({ timeout: 15_000 });
    await option.click();
    const point = Array.from(map.features).indexOf(feature);
    const want = [0, 1, 2].map((k) => at(map.positions, point * 3 + k));
    await expect.poll(() => hooks<boolean>('flying')).toBe(false);
    await expect
      .poll(async () => {
        const t = await hooks<number[]>('target');
        return Math.max(...t.map((c, k) => Math.abs(c - at(want, k))));
      })
      .toBeLessThan(1e-4);
    expect(await hooks<number[]>('selection')).toEqual([feature]);
    await expect
      .poll(() => page.getAttribute('[data-testid="feature-card"]', 'data-feature'))
      .toBe(String(feature));
    // The star is now at the centre of the view.
    const v = await view();
    const p = at(project(v), point);
    if (!p) throw new Error('the star is not on screen');
    expect(Math.abs(p[0] - v.rect.width / 2)).toBeLessThan(1);
    expect(Math.abs(p[1] - v.rect.height / 2)).toBeLessThan(1);
    await page.screenshot({ path: path.join(artefacts, 'galaxy-search.png') });

    // The card's links run the galaxy's actions: a nearest feature is selected and its card
    // opens (select-feature); the cluster badge flies to the middle of its cluster's stars.
    const card = await call<{ nearest: { feature: number }[] }>('index.feature', {
      packId: PACK,
      saeId: SAE,
      feature,
    });
    const near = at(card.nearest, 0).feature;
    await page.locator('.card-nearest button').first().click();
    await expect.poll(() => hooks<number[]>('selection')).toEqual([near]);
    await expect
      .poll(() => page.getAttribute('[data-testid="feature-card"]', 'data-feature'))
      .toBe(String(near));
    const { cluster } = await call<{ cluster: { id: number } | null }>('index.feature', {
      packId: PACK,
      saeId: SAE,
      feature: near,
    });
    if (!cluster) throw new Error(`feature ${near} has no cluster`);
    const clusters = decodeMapArrays(
      await call<CallOutput<'index.map'>>('index.map', { packId: PACK, saeId: SAE }),
    );
    const members = Array.from(clusters.cluster.keys()).filter(
      (p) => clusters.cluster[p] === cluster.id,
    );
    const middle = [0, 1, 2].map(
      (k) => members.reduce((sum, p) => sum + at(map.positions, p * 3 + k), 0) / members.length,
    );
    await page.getByTestId('cluster-badge').click();
    await expect
      .poll(async () => {
        const t = await hooks<number[]>('target');
        return Math.max(...t.map((c, k) => Math.abs(c - at(middle, k))));
      })
      .toBeLessThan(1e-4);
  });

  it('a search result the pointer or the arrows are on shows its card before it is chosen', async () => {
    // a word two features' labels share, so the query lists both
    const labels = await featureLabels();
    const words = new Map<string, number>();
    for (const { label } of labels)
      for (const w of new Set(label.toLowerCase().match(/[a-z]{4,}/g) ?? []))
        words.set(w, (words.get(w) ?? 0) + 1);
    const word = [...words].find(([, n]) => n >= 2)?.[0];
    if (!word) throw new Error('no word two labels share');
    // the pointer off the galaxy and the list (the strip below): no star is hovered
    await page.mouse.move(5, 700);
    await expect.poll(() => hooks<number | null>('hovered')).toBeNull();
    const box = page.locator('input[aria-label="Search features"]');
    await box.click();
    await box.fill(word); // one query, not one per letter typed
    // the list of this query (until its reply, the list shows the last query's hits)
    const results = page.locator(`[data-testid="search-results"][data-query="${word}"]`);
    await results.waitFor({ timeout: 15_000 });
    const options = results.locator('li[data-feature]');
    await expect.poll(() => options.count(), { timeout: 15_000 }).toBeGreaterThan(1);
    const shownCard = (): Promise<string | null> =>
      page.getAttribute('[data-testid="feature-card"]', 'data-feature');
    const before = await shownCard();
    const first = await options.nth(0).getAttribute('data-feature');
    const second = await options.nth(1).getAttribute('data-feature');
    // results alone preview nothing
    expect(await hooks<number | null>('hovered')).toBeNull();

    await options.nth(1).hover();
    await expect.poll(shownCard).toBe(second);
    expect(String(await hooks<number | null>('hovered'))).toBe(second);
    await page.keyboard.press('ArrowUp');
    await expect.poll(shownCard).toBe(first);
    // the pointer leaves the list: the card shown before comes back, nothing chosen
    await page.mouse.move(5, 700);
    await expect.poll(() => hooks<number | null>('hovered')).toBeNull();
    await expect.poll(shownCard).toBe(before);
    await page.keyboard.press('Escape');
  });

  it('indexes a folder of the person’s own texts beside the pack’s own examples', async () => {
    const dir = tmpDir();
    for (const [sub, word] of [
      ['sea', 'tide'],
      ['land', 'meadow'],
    ] as const) {
      mkdirSync(path.join(dir, sub));
      for (let f = 0; f < 3; f++) {
        const paras = Array.from(
          { length: 5 },
          (_, i) => `The ${word} ${i} rolled over the ${word} and the ${word} again, by the wall.`,
        );
        writeFileSync(path.join(dir, sub, `${word}${f}.txt`), paras.join('\n\n'));
      }
    }
    await page.keyboard.press('Escape');
    await page.selectOption('select[aria-label="Examples"]', { label: 'a folder of your own…' });
    await page.fill('input[aria-label="Examples folder"]', dir);
    await page.click('[role="dialog"] button:has-text("Use this folder")');
    const build = page.locator('button:has-text("Build the index over this folder")');
    await build.click();
    await expect
      .poll(() => page.inputValue('select[aria-label="Examples"]'), { timeout: 5_000 })
      .toBe(dir);
    await expect
      .poll(() => hooks<boolean | null>('ready'), { timeout: 90_000, interval: 250 })
      .toBe(true);
    const own = await call<{ count: number }>('index.map', {
      packId: PACK,
      saeId: SAE,
      corpus: dir,
    });
    expect(await hooks<number>('count')).toBe(own.count);
    expect(await call('index.corpora', { packId: PACK })).toEqual({
      corpora: [{ path: dir, built: [SAE] }],
    });
    // A card of this galaxy reads the folder's paragraphs.
    const { features } = decodeMapArrays(
      await call<CallOutput<'index.map'>>('index.map', { packId: PACK, saeId: SAE, corpus: dir }),
    );
    const card = await call<{ topExamples: { tokens?: string[] }[] }>('index.feature', {
      packId: PACK,
      saeId: SAE,
      corpus: dir,
      feature: at(features, 0),
    });
    expect(card.topExamples.flatMap((e) => e.tokens ?? []).join('')).toMatch(/tide|meadow|wall/);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(artefacts, 'galaxy-own-folder.png') });

    // Back to the pack's own examples: the first map again, nothing rebuilt.
    await page.selectOption('select[aria-label="Examples"]', { label: 'the pack’s own examples' });
    await expect.poll(() => hooks<number>('count'), { timeout: 30_000 }).toBe(map.count);
  });
});
