/** Opens the built app headless on a temporary home with the given packs, in chromium. */
import { cpSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './browser';
import { startHeadless, type ServerHandle } from './headless';
import { cleanupTmp, testAllow, tmpDir } from './tmp';

export interface OpenApp {
  server: ServerHandle;
  browser: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * `packs`: pack folders copied into a fresh models folder (none: an empty one). `beforeLoad`:
 * what to set on the page before it loads (e.g. requests to refuse).
 */
export async function openApp(
  packs: readonly string[] = [],
  options: { beforeLoad?: (page: Page) => Promise<unknown> } = {},
): Promise<OpenApp> {
  const models = tmpDir();
  for (const p of packs) cpSync(p, path.join(models, path.basename(p)), { recursive: true });
  // The page may use the temp folders and fixtures tests make (the path policy's --allow).
  const allow = testAllow.flatMap((d) => ['--allow', d]);
  const server = await startHeadless(['--home', tmpDir(), '--models', models, ...allow]);
  const browser = await launchChromium();
  const page = await browser.newPage();
  await options.beforeLoad?.(page);
  await page.goto(server.url);
  await page.waitForSelector('body[data-orrery-ready="true"]');
  return {
    server,
    browser,
    page,
    close: async () => {
      await browser.close();
      await server.stop();
      cleanupTmp();
    },
  };
}
