/**
 * The galaxy at a million features (issue 19), on the synthetic SAE built by code
 * (tests/support/synthetic1m.ts, 1,048,576 features, 'themes' layout, cached under tmpdir):
 * the map opens and draws, a search for the probe feature's label flies to its star
 * and opens its card, and a lasso drawn with the mouse selects exactly the features whose
 * projected positions lie inside the polygon, computed here from the index file itself
 * (map_blobs read with SQLite, put through index.map's 16-bit quantisation, which is what the
 * page has, then projected and tested with a winding number, not the app's code).
 *
 * Opt-in (minutes to build the synthetic SAE the first time, and a 1M map in SwiftShader):
 *   ORRERY_E2E_1M=1 npx vitest run --config vitest.e2e.config.ts tests/e2e/galaxy-1m.e2e.ts
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dequantisePositions, quantisePositions } from '../../preload/contract';
import { openIndex } from '../../main/index';
import { launchChromium, artefacts } from '../support/browser';
import { startHeadless, type ServerHandle } from '../support/headless';
import { apiCall, galaxyHook } from '../support/page';
import { installIndex, synthetic1m, type Synthetic } from '../support/synthetic1m';
import { cleanupTmp, tmpDir } from '../support/tmp';

const on = process.env.ORRERY_E2E_1M === '1';

describe.runIf(on)('galaxy at 1M features (synthetic)', () => {
  let s: Synthetic;
  let server: ServerHandle;
  let close: () => Promise<void>;
  let page: Page;
  /** The map as stored (point → feature) and its xyz as the page has them (quantised). */
  let features: Uint32Array;
  let xyz: Float32Array;
  const timings: string[] = [];

  const hooks = <T>(fn: string): Promise<T> => galaxyHook<T>(page, fn);

  beforeAll(async () => {
    s = await synthetic1m({ layout: 'themes' });
    const home = tmpDir();
    const installed = installIndex(s, home);
    const db = openIndex(installed, { readonly: true });
    const row = db
      .prepare('select count, idx, xyz from map_blobs where sae_id = ?')
      .get(s.saeId) as { count: number; idx: Buffer; xyz: Buffer };
    db.close();
    const copy = (b: Buffer): ArrayBuffer =>
      b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    features = new Uint32Array(copy(row.idx));
    // The positions the page has: the stored ones through index.map's 16-bit quantisation.
    const q = quantisePositions(new Float32Array(copy(row.xyz)), row.count);
    xyz = dequantisePositions(q.positions, q.box);
    expect(features.length).toBe(row.count);
    const t0 = performance.now();
    server = await startHeadless(['--home', home, '--models', s.modelsDir, '--allow', s.dir]);
    const browser = await launchChromium();
    page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    close = async () => {
      await browser.close();
      await server.stop();
      cleanupTmp();
    };
    await page.goto(server.url);
    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as { __orreryGalaxy?: { ready(): boolean } }
        ).__orreryGalaxy?.ready() === true,
      undefined,
      { timeout: 600_000, polling: 250 },
    );
    timings.push(`open → galaxy drawn ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, 900_000);

  afterAll(async () => {
    console.log(`galaxy at 1M: ${timings.join(' · ')}`);
    await close?.();
  });

  it('draws the whole map', async () => {
    expect(await hooks<number>('count')).toBe(features.length);
    expect(features.length).toBe(s.n);
    await page.screenshot({ path: path.join(artefacts, 'galaxy-1m.png') });
  });

  it('search flies to the probe star and opens its card', async () => {
    const { feature } = s.probe;
    // The probe's word is shared with other features; its whole label names it.
    const { label } = await apiCall<{ label: string }>(page, 'index.feature', {
      packId: s.packId,
      saeId: s.saeId,
      feature,
    });
    const t0 = performance.now();
    await page.click('input[aria-label="Search features"]');
    await page.keyboard.type(label);
    const option = page.locator(`[data-testid="search-results"] li[data-feature="${feature}"]`);
    await option.waitFor({ timeout: 60_000 });
    await option.click();
    const point = features.indexOf(feature);
    expect(point).toBeGreaterThanOrEqual(0);
    await expect.poll(() => hooks<boolean>('flying'), { timeout: 30_000 }).toBe(false);
    await expect
      .poll(
        async () => {
          const t = await hooks<number[]>('target');
          return Math.max(...t.map((c, k) => Math.abs(c - (xyz[point * 3 + k] ?? NaN))));
        },
        { timeout: 30_000 },
      )
      .toBeLessThan(1e-4);
    await expect
      .poll(() => page.getAttribute('[data-testid="feature-card"]', 'data-feature'), {
        timeout: 60_000,
      })
      .toBe(String(feature));
    expect(await page.textContent('[data-testid="feature-card-label"]')).toBe(label);
    timings.push(`search → star and card ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await page.keyboard.press('Escape');
  });

  it('a lasso selects exactly the features inside it', async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('l');
    const m = await hooks<number[]>('viewProjection');
    const rect = await hooks<{ left: number; top: number; width: number; height: number }>(
      'canvasRect',
    );
    const { width: w, height: h } = rect;
    // An 11-sided blob around the centre (integers: what the mouse sends).
    const poly: [number, number][] = [];
    for (let k = 0; k < 11; k++) {
      const a = (2 * Math.PI * k) / 11;
      const r = 1 + 0.18 * Math.sin(3 * a);
      poly.push([
        Math.round(w / 2 + w * 0.12 * r * Math.cos(a)),
        Math.round(h / 2 + h * 0.15 * r * Math.sin(a)),
      ]);
    }
    // Winding number of every projected point (independent of the app's even-odd mask).
    const want: number[] = [];
    const e = (i: number): number => m[i] ?? NaN;
    for (let i = 0; i < features.length; i++) {
      const x = xyz[i * 3] ?? 0;
      const y = xyz[i * 3 + 1] ?? 0;
      const z = xyz[i * 3 + 2] ?? 0;
      const cw = e(3) * x + e(7) * y + e(11) * z + e(15);
      if (cw <= 0) continue;
      const cz = (e(2) * x + e(6) * y + e(10) * z + e(14)) / cw;
      if (cz < -1 || cz > 1) continue;
      const px = (((e(0) * x + e(4) * y + e(8) * z + e(12)) / cw) * 0.5 + 0.5) * w;
      const py = (0.5 - ((e(1) * x + e(5) * y + e(9) * z + e(13)) / cw) * 0.5) * h;
      let wn = 0;
      for (let k = 0; k < poly.length; k++) {
        const [x0, y0] = poly[k] ?? [0, 0];
        const [x1, y1] = poly[(k + 1) % poly.length] ?? [0, 0];
        const side = (x1 - x0) * (py - y0) - (px - x0) * (y1 - y0);
        if (y0 <= py && y1 > py && side > 0) wn++;
        else if (y0 > py && y1 <= py && side < 0) wn--;
      }
      if (wn !== 0) want.push(features[i] ?? -1);
    }
    want.sort((a, b) => a - b);
    expect(want.length).toBeGreaterThan(100);
    expect(want.length).toBeLessThan(features.length);
    const t0 = performance.now();
    const toPage = ([x, y]: [number, number]) => [rect.left + x, rect.top + y] as const;
    await page.mouse.move(...toPage(poly[0] ?? [0, 0]));
    await page.mouse.down();
    for (const p of poly.slice(1)) await page.mouse.move(...toPage(p));
    await page.mouse.up();
    await expect
      .poll(() => page.textContent('[data-testid="selection-count"]'), { timeout: 60_000 })
      .toBe(String(want.length));
    const got = await hooks<number[]>('selection');
    expect(got.length).toBe(want.length);
    expect(got).toEqual(want);
    timings.push(
      `lasso of ${want.length.toLocaleString('en')} features ${((performance.now() - t0) / 1000).toFixed(1)} s (worker ${(await hooks<number>('lassoMs')).toFixed(1)} ms)`,
    );
    await page.screenshot({ path: path.join(artefacts, 'galaxy-1m-lasso.png') });
  });
});
