/**
 * The galaxy of a default pack (the emoji pack's latent SAE), which ships its index without
 * thumbnails: on a fresh home folder the map shows every feature with no build, and a feature
 * card shows image thumbnails cut from the pack's own sheet. The typeface pack's galaxy: a
 * search for a style finds the features whose metadata label names it first.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type OpenApp } from '../support/app';
import { artefacts } from '../support/browser';
import { apiCall, galaxyHook } from '../support/page';
import { repoRoot } from '../support/tmp';

const emoji = path.join(repoRoot, 'models', 'emoji');
const glyphs = path.join(repoRoot, 'models', 'glyphs');
let app: OpenApp;
let page: Page;

const hook = <T>(name: string): Promise<T> => galaxyHook<T>(page, name);

describe.runIf(existsSync(path.join(emoji, 'features.sqlite.br')))(
  'galaxy of the default emoji pack',
  () => {
    beforeAll(async () => {
      app = await openApp([emoji]);
      ({ page } = app);
    });

    afterAll(async () => {
      await app?.close();
    });

    it('renders every feature from the shipped index, with thumbnails on the cards', async () => {
      await expect
        .poll(() => hook<boolean>('ready'), { timeout: 60_000, interval: 250 })
        .toBe(true);
      expect(await page.locator('[data-testid="build-index"]').count()).toBe(0);
      expect(await hook<number>('count')).toBe(512);
      const card = await apiCall<{ topExamples: { thumbnailPng?: string }[] }>(
        page,
        'index.feature',
        { packId: 'orrery-emoji', saeId: 'latent-512', feature: 0 },
      );
      const r = { ok: true, value: card };
      expect(r.ok).toBe(true);
      expect(r.value.topExamples.length).toBeGreaterThan(0);
      expect(
        r.value.topExamples.every(
          (e) => typeof e.thumbnailPng === 'string' && e.thumbnailPng.length > 100,
        ),
      ).toBe(true);
      // A card picked from a search shows its top examples as pictures.
      await page.click('input[aria-label="Search features"]');
      await page.keyboard.type('country-flag');
      const first = page.locator('[data-testid="search-results"] li').first();
      await first.waitFor({ timeout: 15_000 });
      await first.click();
      await page.waitForSelector('[data-testid="feature-card"] .card-thumbs img');
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(artefacts, 'galaxy-emoji-default.png') });
    });
  },
);

describe.runIf(existsSync(path.join(glyphs, 'features.sqlite.br')))(
  'galaxy of the default typeface pack',
  () => {
    beforeAll(async () => {
      app = await openApp([glyphs]);
      ({ page } = app);
    });

    afterAll(async () => {
      await app?.close();
    });

    it('ranks metadata labels first in search and shows faces on the card', async () => {
      await expect
        .poll(() => hook<boolean>('ready'), { timeout: 60_000, interval: 250 })
        .toBe(true);
      expect(await hook<number>('count')).toBe(512);
      await page.click('input[aria-label="Search features"]');
      await page.keyboard.type('italic');
      const items = page.locator('[data-testid="search-results"] li');
      await items.first().waitFor({ timeout: 15_000 });
      // Many features are named after italic faces; the ones the metadata earned come first.
      const texts = await items.allTextContents();
      expect(texts.length).toBeGreaterThan(5);
      // (named in words now: "Italic faces", "Upright (not italic) faces")
      expect(
        texts.slice(0, 2).every((t) => /Italic faces|Upright \(not italic\) faces/.test(t)),
      ).toBe(true);
      await items.filter({ hasText: 'Italic faces' }).first().click();
      await page.waitForSelector('[data-testid="feature-card"] .card-thumbs img', {
        timeout: 15_000,
      });
      expect(await page.textContent('[data-testid="label-why"]')).toMatch(
        /of its strongest examples are italic faces/,
      );
      await page.keyboard.press('Escape');
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(artefacts, 'galaxy-typeface-default.png') });
    });
  },
);
