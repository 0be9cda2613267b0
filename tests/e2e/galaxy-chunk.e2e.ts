/**
 * The galaxy's 3D code (its own chunk, fetched as the galaxy opens) failing to load: the page
 * says so where the galaxy would be, no canvas is made, and the rest of the app works: it
 * becomes ready and search still finds features. Its Reload button, once the code can be
 * fetched again, brings the galaxy up.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type OpenApp } from '../support/app';
import { galaxyHook } from '../support/page';
import { repoRoot } from '../support/tmp';

const emoji = path.join(repoRoot, 'models', 'emoji');

describe.runIf(existsSync(path.join(emoji, 'features.sqlite.br')))(
  'the galaxy when its 3D code cannot load',
  () => {
    let app: OpenApp;
    let page: Page;
    let refused = 0;

    beforeAll(async () => {
      app = await openApp([emoji], {
        // the chunk's request fails, as a damaged or missing install's would
        beforeLoad: (p) =>
          p.route(/\/assets\/GalaxyCanvas-[\w-]+\.js$/, (route) => {
            refused++;
            return route.abort('failed');
          }),
      });
      ({ page } = app);
    });

    afterAll(async () => {
      await app?.close();
    });

    it('says so in its place; the app is ready and search works', async () => {
      const alert = page.getByRole('alert').filter({ hasText: 'The 3D view could not load' });
      await alert.waitFor({ timeout: 60_000 });
      expect(refused).toBeGreaterThan(0);
      expect(await page.locator('[data-testid="galaxy-canvas"]').count()).toBe(0);
      await page.waitForSelector('body[data-orrery-ready="true"]', { timeout: 60_000 });
      await page.click('input[aria-label="Search features"]');
      await page.keyboard.type('country-flag');
      await page.locator('[data-testid="search-results"] li').first().waitFor({ timeout: 15_000 });
      await page.keyboard.press('Escape'); // the results list closes
      // the code is there again: Reload (a failed module import stays failed in a page)
      await page.unrouteAll();
      await alert.getByRole('button', { name: 'Reload' }).click();
      await expect
        .poll(() => galaxyHook<boolean>(page, 'ready'), { timeout: 60_000, interval: 250 })
        .toBe(true);
      expect(await page.getByRole('alert').filter({ hasText: 'could not load' }).count()).toBe(0);
    });
  },
);
