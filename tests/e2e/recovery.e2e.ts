/**
 * Starting with a damaged sessions.sqlite: the headless app still opens, the page shows a
 * notice naming the file, why it could not be used and where the old one was kept; the old
 * bytes are on disk unchanged, a fresh database works, and the notice can be dismissed.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artefacts, launchChromium } from '../support/browser';
import { startHeadless, type ServerHandle } from '../support/headless';
import { apiCall } from '../support/page';
import { cleanupTmp, fixturePacks, testAllow, tmpDir } from '../support/tmp';

let server: ServerHandle;
let browser: BrowserContext;
let page: Page;
let home: string;
let damaged: Buffer;

beforeAll(async () => {
  home = tmpDir();
  const models = tmpDir();
  cpSync(path.join(fixturePacks, 'text-tiny'), path.join(models, 'text-tiny'), { recursive: true });
  // What a disk error or a stray copy leaves: bytes that are not an SQLite database.
  damaged = Buffer.concat([Buffer.from('this was sessions.sqlite once\n'), randomBytes(6000)]);
  writeFileSync(path.join(home, 'sessions.sqlite'), damaged);
  const allow = testAllow.flatMap((d) => ['--allow', d]);
  server = await startHeadless(['--home', home, '--models', models, ...allow]);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForSelector('body[data-orrery-ready="true"]');
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  cleanupTmp();
});

describe('a damaged sessions database at start (headless, chromium)', () => {
  it('opens the app and says which file, why, and where the old one is', async () => {
    const notice = page.locator('[data-notice-kind="database_recovered"]');
    await notice.waitFor({ state: 'visible' });
    const text = (await notice.textContent()) ?? '';
    expect(text).toContain('The sessions database could not be opened and was started afresh.');
    expect(text).toContain('sessions.sqlite could not be used: it is not an SQLite database');
    const kept = readdirSync(home).filter((n) => n.startsWith('sessions.sqlite.corrupt-'));
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/^sessions\.sqlite\.corrupt-\d{4}-\d\d-\d\dT\d{6}Z$/);
    expect(text).toContain(`Old file kept at ${path.join(home, kept[0] ?? '')}`);
    // The old bytes are kept as they were; the new file is a database.
    expect(readFileSync(path.join(home, kept[0] ?? '')).equals(damaged)).toBe(true);
    expect(readFileSync(path.join(home, 'sessions.sqlite')).subarray(0, 15).toString()).toBe(
      'SQLite format 3',
    );
    expect(server.output()).toContain('could not be opened and was started afresh');

    await page.setViewportSize({ width: 1280, height: 720 });
    await page.screenshot({ path: path.join(artefacts, 'db-recovered-1280x720.png') });
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.screenshot({ path: path.join(artefacts, 'db-recovered-1920x1080.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('works on the fresh database, and the notice can be dismissed', async () => {
    const s = await apiCall<{ id: string }>(page, 'sessions.create', {
      packId: 'orrery-text-tiny',
      name: 'after recovery',
    });
    const list = await apiCall<{ id: string }[]>(page, 'sessions.list', {});
    expect(list.map((x) => x.id)).toContain(s.id);
    const notices = await apiCall<{ notices: { file: string }[] }>(page, 'app.notices', {});
    expect(notices.notices.map((n) => n.file)).toEqual([path.join(home, 'sessions.sqlite')]);
    await page.getByRole('button', { name: 'Dismiss notice' }).click();
    await expect
      .poll(() => page.locator('[data-notice-kind="database_recovered"]').count())
      .toBe(0);
  });
});
