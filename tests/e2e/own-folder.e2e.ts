/**
 * An image pack's galaxy over a folder of the person's own pictures: pick "a folder of your
 * own…", build, and the cards show thumbnails of those pictures; a file that is not an image is
 * reported, not guessed at.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type OpenApp } from '../support/app';
import { artefacts } from '../support/browser';
import { apiCall, galaxyHook } from '../support/page';
import { fixturePacks, tmpDir } from '../support/tmp';

const PACK = 'orrery-emoji-tiny';
const SAE = 'latent-32';
let app: OpenApp;
let page: Page;

const hook = <T>(name: string): Promise<T> => galaxyHook<T>(page, name);

const call = <T>(name: string, input: unknown): Promise<T> => apiCall<T>(page, name, input);

/** A 64×64 picture: a disk (warm colours) or a square (cool ones) on white. */
function picture(shape: 'disk' | 'square', hue: [number, number, number], size: number): Buffer {
  const png = new PNG({ width: 64, height: 64 });
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      const inside =
        shape === 'disk'
          ? (x - 32) ** 2 + (y - 32) ** 2 < size * size
          : Math.abs(x - 32) < size && Math.abs(y - 32) < size;
      const o = (y * 64 + x) * 4;
      png.data[o] = inside ? hue[0] : 255;
      png.data[o + 1] = inside ? hue[1] : 255;
      png.data[o + 2] = inside ? hue[2] : 255;
      png.data[o + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

describe('an image pack over a folder of your own', () => {
  beforeAll(async () => {
    app = await openApp([path.join(fixturePacks, 'emoji-tiny')]);
    ({ page } = app);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('builds its index over the folder and shows those pictures on the cards', async () => {
    const dir = tmpDir();
    mkdirSync(path.join(dir, 'warm'));
    mkdirSync(path.join(dir, 'cool'));
    for (let i = 0; i < 8; i++) {
      writeFileSync(
        path.join(dir, 'warm', `disk${i}.png`),
        picture('disk', [230, 60 + i * 15, 40], 14 + i),
      );
      writeFileSync(
        path.join(dir, 'cool', `square${i}.png`),
        picture('square', [40, 80 + i * 10, 220], 10 + i),
      );
    }
    writeFileSync(path.join(dir, 'cool', 'broken.png'), 'not a picture');

    // The pack came with the app and had no index: it built its own first.
    await expect.poll(() => hook<boolean>('ready'), { timeout: 90_000, interval: 250 }).toBe(true);
    await page.selectOption('select[aria-label="Examples"]', { label: 'a folder of your own…' });
    await page.fill('input[aria-label="Examples folder"]', dir);
    await page.click('[role="dialog"] button:has-text("Use this folder")');
    await page.click('button:has-text("Build the index over this folder")');
    await expect.poll(() => hook<boolean>('ready'), { timeout: 90_000, interval: 250 }).toBe(true);
    await expect
      .poll(() => page.textContent('.galaxy-skipped'), { timeout: 10_000 })
      .toMatch(/1 file of the folder could not be used: cool\/broken\.png/);

    const ref = { packId: PACK, saeId: SAE, corpus: dir };
    expect(await call('index.status', ref)).toMatchObject({ built: true, examples: 16 });
    const map = await call<{ features: Uint32Array; count: number }>('index.map', ref);
    expect(await hook<number>('count')).toBe(map.count);
    type Card = { label: string; topExamples: { name: string; thumbnailPng?: string }[] };
    // The strongest feature on these pictures (many of the pack's features never fire here).
    const hits = await call<{ hits: { feature: number }[] }>('index.search', {
      ...ref,
      query: '',
      limit: 1,
    });
    const feature = hits.hits[0]?.feature ?? -1;
    const card = await call<Card>('index.feature', { ...ref, feature });
    expect(card.topExamples.length).toBeGreaterThan(0);
    for (const e of card.topExamples) {
      expect(e.name).toMatch(/^(disk|square)\d\.png$/);
      const png = PNG.sync.read(Buffer.from(e.thumbnailPng ?? '', 'base64'));
      expect([png.width, png.height]).toEqual([64, 64]);
    }
    // On screen: found by its label, the card of that feature shows the pictures.
    await page.click('input[aria-label="Search features"]');
    await page.keyboard.type(card.label.split(',')[0] ?? '');
    const hit = page.locator(`[data-testid="search-results"] li[data-feature="${feature}"]`);
    await hit.waitFor({ timeout: 15_000 });
    await hit.click();
    await page.waitForSelector('[data-testid="feature-card"] .card-thumbs img', {
      timeout: 15_000,
    });
    await page.keyboard.press('Escape');
    await page.waitForTimeout(400);
    await page.screenshot({ path: path.join(artefacts, 'galaxy-own-pictures.png') });
  });
});
