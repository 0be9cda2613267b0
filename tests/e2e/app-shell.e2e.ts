/**
 * The app shell in a real browser against the real headless server: the page loads, shows
 * real runtime figures, an invalid call gets a clear error and the app keeps working, and a
 * pack can be imported with progress.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type OpenApp } from '../support/app';
import { artefacts } from '../support/browser';
import { rawSocket } from '../support/page';
import type { ServerHandle } from '../support/headless';
import { fixturePacks, tmpDir } from '../support/tmp';

const require = createRequire(import.meta.url);

let app: OpenApp;
let server: ServerHandle;
let page: Page;

beforeAll(async () => {
  app = await openApp([]);
  ({ server, page } = app);
});

afterAll(async () => {
  await app?.close();
});

describe('app shell (headless, chromium)', () => {
  it('serves on 127.0.0.1 and shows the real runtime figures', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{32}$/);
    const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
    await expect.poll(() => page.textContent('[data-testid="onnx-version"]')).toBe(ortVersion);
    expect(await page.textContent('[data-testid="onnx-check"]')).toMatch(
      /^\[2\.35, 3\.8\] in [\d.]+ ms$/,
    );
    expect(await page.textContent('[data-testid="sqlite-version"]')).toMatch(/^3\.\d+\.\d+$/);
    expect(await page.textContent('[data-testid="sqlite-fts5"]')).toBe('FTS5 available · wal');
    await expect.poll(() => page.isVisible('[data-testid="empty-galaxy"]')).toBe(true);
    expect(await page.textContent('[data-testid="empty-galaxy"]')).toContain('No model packs yet');
    await page.screenshot({ path: path.join(artefacts, 'app-shell.png') });
  });

  it('answers a malformed message with ok:false and a message, then serves the next call', async () => {
    const replies = (await rawSocket(page, [
      'this is not json',
      JSON.stringify({ type: 'call', id: 1, call: 'packs.import', input: { from: 7 } }),
      JSON.stringify({ type: 'call', id: 2, call: 'no.such.call', input: {} }),
      JSON.stringify({ type: 'call', id: 3, call: 'app.health', input: {} }),
    ])) as {
      id: number | null;
      result: { ok: boolean; error?: { code: string; message: string } };
    }[];
    expect(replies[0]).toMatchObject({
      id: null,
      result: { ok: false, error: { code: 'invalid_request' } },
    });
    expect(replies[1]).toMatchObject({
      id: 1,
      result: { ok: false, error: { code: 'bad_input' } },
    });
    expect(replies[1]?.result.error?.message).toContain('from');
    expect(replies[2]).toMatchObject({
      id: 2,
      result: { ok: false, error: { code: 'unknown_call' } },
    });
    expect(replies[3]).toMatchObject({ id: 3, result: { ok: true } });
    // The UI is still alive and its own calls still work.
    await page.getByRole('button', { name: 'Check again' }).click();
    await expect
      .poll(() => page.textContent('[data-testid="sqlite-fts5"]'))
      .toBe('FTS5 available · wal');
  });

  it('imports a pack with progress and offers it in the pack picker', async () => {
    await page.getByRole('button', { name: 'Import pack…' }).click();
    // A folder Orrery may not read is refused as such; one it may read but that holds no pack
    // is named for what it lacks.
    await page.fill('input[aria-label="Pack folder"]', '/no/such/folder');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect
      .poll(() => page.textContent('.dialog [role="alert"]'))
      .toContain('is not in a folder Orrery may use');
    await page.fill('input[aria-label="Pack folder"]', path.join(tmpDir(), 'no-such-folder'));
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect
      .poll(() => page.textContent('.dialog [role="alert"]'))
      .toContain('no manifest.json');
    await page.fill('input[aria-label="Pack folder"]', path.join(fixturePacks, 'text-tiny'));
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.waitForSelector('[data-testid="pack-without-map"]');
    expect(await page.textContent('[data-testid="pack-without-map"] h2')).toBe('Tiny text fixture');
    const options = await page.$$eval('#pack-picker option', (os) => os.map((o) => o.textContent));
    expect(options).toEqual(['Tiny text fixture · text-lm']);
    await page.screenshot({ path: path.join(artefacts, 'pack-imported.png') });
  });
});
