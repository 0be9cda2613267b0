/**
 * The galaxy of a default pack (the emoji pack's latent SAE): its index builds by itself on
 * first open, the map renders with all its features, and a feature card shows image
 * thumbnails.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type OpenApp } from '../support/app';
import { artefacts } from '../support/browser';
import { repoRoot } from '../support/tmp';

const emoji = path.join(repoRoot, 'models', 'emoji');
let app: OpenApp;
let page: Page;

beforeAll(async () => {
  app = await openApp([emoji]);
  ({ page } = app);
});

afterAll(async () => {
  await app?.close();
});

const hook = <T>(name: string): Promise<T> =>
  page.evaluate(
    `window.__orreryGalaxy && window.__orreryGalaxy.${name} ? window.__orreryGalaxy.${name}() : null`,
  ) as Promise<T>;

describe.runIf(existsSync(path.join(emoji, 'manifest.json')))(
  'galaxy of the default emoji pack',
  () => {
    it('builds the index by itself on first open and renders every feature, with thumbnails on the cards', async () => {
      await page.waitForSelector('[data-testid="pack-without-map"]');
      await page.waitForSelector('[data-testid="build-index"] [role="progressbar"]');
      await expect
        .poll(() => hook<boolean>('ready'), { timeout: 240_000, interval: 1000 })
        .toBe(true);
      expect(await hook<number>('count')).toBeGreaterThan(400);
      const r = (await page.evaluate(`(async () => {
      const ws = new WebSocket('ws://' + location.host + '/api');
      await new Promise((ok) => (ws.onopen = ok));
      const ask = (call, input) => new Promise((ok) => { ws.onmessage = (e) => ok(JSON.parse(e.data)); ws.send(JSON.stringify({ type: 'call', id: 1, call, input })); });
      const card = await ask('index.feature', { packId: 'orrery-emoji', saeId: 'latent-512', feature: 0 });
      ws.close();
      return card.result;
    })()`)) as { ok: boolean; value: { topExamples: { thumbnailPng?: string }[] } };
      expect(r.ok).toBe(true);
      expect(
        r.value.topExamples.some(
          (e) => typeof e.thumbnailPng === 'string' && e.thumbnailPng.length > 100,
        ),
      ).toBe(true);
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(artefacts, 'galaxy-emoji-default.png') });
    });
  },
);
