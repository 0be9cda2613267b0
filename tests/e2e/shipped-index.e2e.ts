/**
 * The default text pack ships its feature index (features.sqlite.br): on a fresh home folder
 * the galaxy shows every feature at once, with no build, and a search for a metadata value
 * lists features whose label names it, with where the label came from. Labels imported from a
 * Neuronpedia export through the Filters panel show on cards and in search.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type OpenApp } from '../support/app';
import { artefacts } from '../support/browser';
import { firstSaeId } from '../support/packManifest';
import { galaxyHook } from '../support/page';
import { repoRoot, tmpDir } from '../support/tmp';

const text = path.join(repoRoot, 'models', 'text-fortunes');
let app: OpenApp;
let page: Page;

const hook = <T>(name: string): Promise<T> => galaxyHook<T>(page, name);

describe.runIf(existsSync(path.join(text, 'features.sqlite.br')))(
  'the text pack with its shipped index',
  () => {
    beforeAll(async () => {
      app = await openApp([text]);
      ({ page } = app);
    });

    afterAll(async () => {
      await app?.close();
    });

    it('shows the galaxy without a build and finds features by metadata label', async () => {
      const t0 = Date.now();
      await expect
        .poll(() => hook<boolean>('ready'), { timeout: 60_000, interval: 250 })
        .toBe(true);
      const seconds = (Date.now() - t0) / 1000;
      expect(await page.locator('[data-testid="build-index"]').count()).toBe(0);
      expect(await hook<number>('count')).toBe(4096);
      await page.click('input[aria-label="Search features"]');
      await page.keyboard.type('Genesis');
      const first = page.locator('[data-testid="search-results"] li').first();
      await first.waitFor({ timeout: 15_000 });
      expect(await first.textContent()).toContain('Genesis');
      await first.click();
      await expect
        .poll(() => page.textContent('[data-testid="feature-card"]'), { timeout: 15_000 })
        .toContain('metadata');
      // The card says why, in words: the share of its strongest examples and the AUC.
      expect(await page.textContent('[data-testid="label-why"]')).toMatch(
        /% of its strongest examples are .*Genesis.*AUC/,
      );
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(artefacts, 'galaxy-text-shipped.png') });
      // The map appeared this soon after the page opened (the index unpacked on first use).
      expect(seconds).toBeLessThan(60);
    });

    it('imports Neuronpedia labels from the Filters panel', async () => {
      const file = path.join(tmpDir(), 'explanations.jsonl');
      writeFileSync(
        file,
        [
          JSON.stringify({
            modelId: 'orrery',
            layer: firstSaeId(text),
            index: 12,
            description: 'tidal estuaries',
          }),
          JSON.stringify({
            modelId: 'orrery',
            layer: firstSaeId(text),
            index: 34,
            description: 'semicolon runs',
          }),
          '{broken',
        ].join('\n'),
      );
      await page.click('.galaxy-filters summary');
      await page.click('button:has-text("Import labels…")');
      await page.fill('input[aria-label="Explanations file"]', file);
      await page.click('[role="dialog"] button.primary');
      const report = page.locator('[data-testid="labels-report"]');
      await report.waitFor({ timeout: 15_000 });
      expect(await report.textContent()).toContain('Imported 2 labels; skipped 1.');
      expect(await report.textContent()).toContain('line 3: not JSON');
      await page.screenshot({ path: path.join(artefacts, 'import-labels.png') });
      await page.click('[role="dialog"] button:has-text("Close")');
      expect(await page.locator('[role="dialog"]').count()).toBe(0);

      await page.fill('input[aria-label="Search features"]', 'tidal');
      const first = page.locator('[data-testid="search-results"] li').first();
      await expect
        .poll(() => first.textContent(), { timeout: 15_000 })
        .toContain('tidal estuaries');
      await first.click();
      // the card names the source in words ("imported")
      await expect
        .poll(() => page.textContent('[data-testid="label-source"]'), { timeout: 15_000 })
        .toBe('imported');
      expect(await page.textContent('[data-testid="feature-card"]')).toContain('tidal estuaries');
    });
  },
);
