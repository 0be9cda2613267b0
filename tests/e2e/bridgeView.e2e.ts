/**
 * The bridge view in a real browser against the real headless server, on the emoji fixture's
 * latent and spatial SAEs: the Bridge button opens a second galaxy beside the first; the
 * spatial SAE's index and then the bridge are built from its pane (progress bar, jobs); a star
 * hovered on the latent side highlights exactly its best matches on the spatial side and draws
 * a link to each, as bridge.matches says (asked here, independently); a lasso on either side
 * selects, on the other, the best matches of what it caught, as bridge.best says; the filter
 * keeps only shared links; the selection panel opens folded there, clear of most of the left
 * galaxy, and unfolds its list on demand; the view comes back after a reload and Escape closes it.
 * Screenshots at 1280×720 and 1920×1080 (test-results/e2e/bridge-view-*.png).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artefacts } from '../support/browser';
import { galaxyHook } from '../support/page';
import { sharedApp } from '../support/sharedApp';
import { fixturePacks } from '../support/tmp';

const latent = { packId: 'orrery-emoji-tiny', saeId: 'latent-32' };
const spatial = { packId: 'orrery-emoji-tiny', saeId: 'spatial-32' };
const SILENT = 2;

type Hooks = '__orreryGalaxy' | '__orreryBridgeGalaxy';

interface MapData {
  count: number;
  features: number[];
  positions: number[];
}

interface Best {
  best: Int32Array;
  score: Float32Array;
  status: Uint8Array;
  sharedAt: number;
}

interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

const { page, call } = sharedApp([path.join(fixturePacks, 'emoji-tiny')]);

const hook = <T>(fn: string, hooks: Hooks = '__orreryGalaxy'): Promise<T> =>
  galaxyHook<T>(page, fn, hooks);
const bridgeHook = <T>(fn: string): Promise<T> => galaxyHook<T>(page, fn, '__orreryBridge');

function at<T>(a: ArrayLike<T>, i: number): T {
  const v = a[i];
  if (v === undefined) throw new Error(`no element ${i}`);
  return v;
}

/** Every point's place on the page (CSS px), null when off its canvas (column-major camera). */
async function onPage(map: MapData, hooks: Hooks): Promise<([number, number] | null)[]> {
  const m = await hook<number[]>('viewProjection', hooks);
  const r = await hook<Rect>('canvasRect', hooks);
  const out: ([number, number] | null)[] = [];
  for (let i = 0; i < map.count; i++) {
    const [x, y, z] = [0, 1, 2].map((k) => at(map.positions, i * 3 + k));
    const c = [0, 1, 2, 3].map(
      (row) =>
        at(m, row) * (x ?? 0) +
        at(m, 4 + row) * (y ?? 0) +
        at(m, 8 + row) * (z ?? 0) +
        at(m, 12 + row),
    );
    const [cx, cy, cz, cw] = c as [number, number, number, number];
    if (cw <= 0 || cz / cw < -1 || cz / cw > 1) {
      out.push(null);
      continue;
    }
    const px = (cx / cw / 2 + 0.5) * r.width;
    const py = (0.5 - cy / cw / 2) * r.height;
    out.push(
      px < 4 || py < 4 || px > r.width - 4 || py > r.height - 4 ? null : [r.left + px, r.top + py],
    );
  }
  return out;
}

/** Waits until a galaxy's camera is still (two reads alike, not flying). */
async function settled(hooks: Hooks): Promise<void> {
  let last = '';
  await expect
    .poll(
      async () => {
        const now = JSON.stringify(await hook<number[]>('viewProjection', hooks));
        const same = now === last && !(await hook<boolean>('flying', hooks));
        last = now;
        return same;
      },
      { timeout: 30_000, interval: 300 },
    )
    .toBe(true);
}

async function drawLasso(poly: [number, number][]): Promise<void> {
  await page.mouse.move(...at(poly, 0));
  await page.mouse.down();
  for (const p of poly.slice(1)) await page.mouse.move(...p);
  await page.mouse.up();
}

/**
 * A box over most of a galaxy's canvas, starting at its bottom middle (clear of the toolbar at
 * the top and the Filters button at the bottom left, so the first press lands on the lasso).
 */
async function wide(hooks: Hooks): Promise<[number, number][]> {
  const r = await hook<Rect>('canvasRect', hooks);
  const px = (fx: number, fy: number): [number, number] => [
    Math.round(r.left + r.width * fx),
    Math.round(r.top + r.height * fy),
  ];
  return [
    px(0.5, 0.88),
    px(0.95, 0.88),
    px(0.95, 0.05),
    px(0.05, 0.05),
    px(0.05, 0.88),
    px(0.49, 0.88),
  ];
}

/** The best matches (bridge.best, computed here) of a side's features, ascending. */
function bestOf(features: number[], side: Best): number[] {
  const out = new Set<number>();
  for (const f of features)
    if (at(side.status, f) !== SILENT && at(side.best, f) >= 0) out.add(at(side.best, f));
  return [...out].sort((a, b) => a - b);
}

describe('bridge view (headless, chromium)', () => {
  it('builds a bridge from the UI, links a hovered star and follows a lasso across', async () => {
    await page.setViewportSize({ width: 1280, height: 720 });
    await expect.poll(() => hook<boolean | null>('ready'), { timeout: 90_000 }).toBe(true);

    // the Bridge button opens the second pane; the spatial SAE has no index yet: build it there
    await page.click('[data-testid="bridge-toggle"]');
    const pane = page.locator('[data-testid="bridge-pane"]');
    await expect.poll(() => pane.count()).toBe(1);
    await expect
      .poll(() => page.inputValue('select[aria-label="Bridge to SAE"]'))
      .toBe(`${spatial.packId}#${spatial.saeId}`);
    await pane.getByRole('button', { name: 'Build the index' }).click();
    await expect
      .poll(() => hook<boolean | null>('ready', '__orreryBridgeGalaxy'), { timeout: 120_000 })
      .toBe(true);

    // then the bridge, as a job with a progress bar
    const build = pane.getByRole('button', { name: 'Build the bridge' });
    await build.click();
    await expect.poll(() => pane.getAttribute('data-bridge'), { timeout: 120_000 }).toBe('built');
    expect(await bridgeHook('bridge')).toEqual({ a: latent, b: spatial, mainSide: 'a' });
    const status = await call<{ built: boolean }>('bridge.status', { a: latent, b: spatial });
    expect(status.built).toBe(true);

    // the points each galaxy shows, as its store holds them (whatever the map's wire format)
    const mapA = await hook<MapData>('points');
    const mapB = await hook<MapData>('points', '__orreryBridgeGalaxy');
    const bestA = await call<Best>('bridge.best', { a: latent, b: spatial, side: 'a' });
    const bestB = await call<Best>('bridge.best', { a: latent, b: spatial, side: 'b' });
    await settled('__orreryGalaxy');
    await settled('__orreryBridgeGalaxy');

    // hover a latent star that has matches, clear of its neighbours on screen
    const seen = await onPage(mapA, '__orreryGalaxy');
    let target: { feature: number; at: [number, number] } | null = null;
    for (let p = 0; p < mapA.count && !target; p++) {
      const here = seen[p];
      const f = at(mapA.features, p);
      if (!here || at(bestA.status, f) === SILENT || at(bestA.best, f) < 0) continue;
      const clear = seen.every(
        (q, i) => i === p || !q || Math.hypot(q[0] - here[0], q[1] - here[1]) > 14,
      );
      if (clear) target = { feature: f, at: here };
    }
    if (!target) throw new Error('no latent star with matches stands clear on screen');
    const want = await call<{ matches: { feature: number; score: number }[] }>('bridge.matches', {
      a: latent,
      b: spatial,
      side: 'a',
      feature: target.feature,
    });
    const top = want.matches.slice(0, 5).map((m) => m.feature);
    await page.mouse.move(target.at[0] - 30, target.at[1] - 30);
    await page.mouse.move(target.at[0], target.at[1], { steps: 4 });
    await expect.poll(() => hook<number | null>('hovered')).toBe(target.feature);
    // the linked stars on the other side are highlighted: exactly the hovered star's matches
    await expect
      .poll(() => hook<number[]>('highlights', '__orreryBridgeGalaxy'), { timeout: 15_000 })
      .toEqual([...top].sort((a, b) => a - b));
    expect(await bridgeHook('hover')).toMatchObject({ from: 'main', feature: target.feature });
    // a line per visible match, from the hovered star; the card shows the pair
    const lines = page.locator(`[data-testid="bridge-links"] line[data-main="${target.feature}"]`);
    const visibleB = await onPage(mapB, '__orreryBridgeGalaxy');
    const shown = top.filter((f) => {
      const p = mapB.features.indexOf(f);
      return p >= 0 && visibleB[p] !== null;
    });
    await expect.poll(() => lines.count(), { timeout: 10_000 }).toBe(shown.length);
    const card = page.locator('[data-testid="bridge-card"]');
    await expect.poll(() => card.getAttribute('data-main')).toBe(String(target.feature));
    expect(await card.getAttribute('data-other')).toBe(String(top[0]));
    await expect
      .poll(() => card.locator('[data-testid="bridge-card-other"] h3').textContent())
      .not.toBe('…');
    await page.screenshot({ path: path.join(artefacts, 'bridge-view-hover-1280x720.png') });

    // a click pins the pair: it stays when the pointer leaves; Escape on the card closes it
    await page.mouse.click(target.at[0], target.at[1]);
    await page.mouse.move(5, 5);
    await expect.poll(() => hook<number | null>('hovered')).toBeNull();
    await expect
      .poll(() => bridgeHook<{ pinned: boolean } | null>('pair'))
      .toMatchObject({
        main: target.feature,
        other: top[0],
        pinned: true,
      });
    expect(await card.getAttribute('data-main')).toBe(String(target.feature));
    await card.getByRole('button', { name: 'Close the bridge card' }).focus();
    await page.keyboard.press('Escape');
    await expect.poll(() => card.getAttribute('data-main')).toBeNull();
    // the click also selected the star (Escape on the card left the selection as it was)
    expect(await hook<number[]>('selection')).toEqual([target.feature]);

    // a lasso on the latent side selects the best matches on the spatial side
    await page.mouse.move(5, 5);
    const mainView = page.locator('[data-testid="galaxy-view"]');
    await mainView.getByRole('button', { name: 'Lasso', exact: true }).click();
    await drawLasso(await wide('__orreryGalaxy'));
    await expect.poll(() => hook<number | null>('lassoMs')).not.toBeNull();
    const caught = await hook<number[]>('selection');
    await expect
      .poll(() => hook<number[]>('selection', '__orreryBridgeGalaxy'), { timeout: 15_000 })
      .toEqual(bestOf(caught, bestA));
    expect(caught.length).toBeGreaterThan(0);
    // the selection panel opens with its list folded, at the foot of the left galaxy: most of
    // that galaxy stays in view; "Show list" unfolds the ranked list and "Hide list" folds it
    const panel = page.getByTestId('selection-panel');
    const toggle = panel.getByRole('button', { name: 'Show list' });
    await expect.poll(() => toggle.getAttribute('aria-expanded')).toBe('false');
    expect(await panel.locator('.selection-list').isVisible()).toBe(false);
    const box = await panel.boundingBox();
    const canvas = await hook<Rect>('canvasRect');
    if (!box) throw new Error('no selection panel');
    const overlapW =
      Math.min(box.x + box.width, canvas.left + canvas.width) - Math.max(box.x, canvas.left);
    const overlapH =
      Math.min(box.y + box.height, canvas.top + canvas.height) - Math.max(box.y, canvas.top);
    const covered =
      (Math.max(0, overlapW) * Math.max(0, overlapH)) / (canvas.width * canvas.height);
    await page.screenshot({ path: path.join(artefacts, 'bridge-view-lasso-1280x720.png') });
    expect(covered).toBeLessThan(0.3);
    await toggle.click();
    await expect.poll(() => panel.locator('.selection-list li').count()).toBeGreaterThan(0);
    expect(await panel.locator('.selection-list').isVisible()).toBe(true);
    await page.screenshot({ path: path.join(artefacts, 'bridge-view-lasso-list-1280x720.png') });
    await panel.getByRole('button', { name: 'Hide list' }).click();
    expect(await panel.locator('.selection-list').isVisible()).toBe(false);

    // and one on the spatial side selects the best matches on the latent side
    const otherView = page.locator('[data-testid="bridge-galaxy-view"]');
    await otherView.getByRole('button', { name: 'Lasso', exact: true }).click();
    await drawLasso(await wide('__orreryBridgeGalaxy'));
    await expect.poll(() => hook<number | null>('lassoMs', '__orreryBridgeGalaxy')).not.toBeNull();
    const caughtB = await hook<number[]>('selection', '__orreryBridgeGalaxy');
    expect(caughtB.length).toBeGreaterThan(0);
    await expect
      .poll(() => hook<number[]>('selection'), { timeout: 15_000 })
      .toEqual(bestOf(caughtB, bestB));

    // only shared: the links drawn are the selections' shared best matches, as bridge.best says
    await page.mouse.move(5, 5);
    await page.selectOption('select[aria-label="Which matches"]', 'shared');
    // each selected feature's shared best match, one line per pair (main feature > other)
    const sharedPairs = new Set<string>();
    const addShared = (features: number[], side: Best, fromMain: boolean): void => {
      for (const f of features) {
        const m = at(side.best, f);
        if (at(side.status, f) === SILENT || m < 0 || at(side.score, f) < side.sharedAt) continue;
        sharedPairs.add(fromMain ? `${f}>${m}` : `${m}>${f}`);
      }
    };
    addShared(await hook<number[]>('selection'), bestA, true);
    addShared(await hook<number[]>('selection', '__orreryBridgeGalaxy'), bestB, false);
    await expect
      .poll(async () =>
        (await bridgeHook<{ main: number; other: number }[]>('links'))
          .map((l) => `${l.main}>${l.other}`)
          .sort(),
      )
      .toEqual([...sharedPairs].sort());
    await expect
      .poll(() => page.locator('[data-testid="bridge-links"] line.specific').count())
      .toBe(0);

    for (const [w, h] of [
      [1280, 720],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      await settled('__orreryBridgeGalaxy');
      await page.screenshot({ path: path.join(artefacts, `bridge-view-${w}x${h}.png`) });
    }

    // the view, its other SAE and its filter come back after a reload
    await page.reload();
    await page.waitForSelector('body[data-orrery-ready="true"]');
    await expect
      .poll(() => page.getAttribute('[data-testid="bridge-pane"]', 'data-bridge'), {
        timeout: 60_000,
      })
      .toBe('built');
    expect(await page.inputValue('select[aria-label="Which matches"]')).toBe('shared');
    // Escape in the bridge's header closes the view
    await page.focus('select[aria-label="Bridge to SAE"]');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-testid="bridge-pane"]').count()).toBe(0);
    expect(await bridgeHook<boolean>('open')).toBe(false);
  }, 400_000);
});
