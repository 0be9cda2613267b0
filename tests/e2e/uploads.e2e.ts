/**
 * Ordinary big files in the served app (issue 13): a 25 MB camera photo and a 10 MB font opened
 * through the real file picker are uploaded once, as bytes, and steered; the server stays up.
 * And the dial loop's data path (issue 14): after the upload, a dial tick sends under 1 KB.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page, WebSocket as PageSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type OpenApp } from '../support/app';
import { cameraJpeg, paddedFont } from '../support/bigFiles';
import { artefacts } from '../support/browser';
import { apiCall } from '../support/page';
import { fixturePacks, tmpDir } from '../support/tmp';

const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

let app: OpenApp;
let page: Page;
/** Sizes of the frames the page sent on its API socket, in order. */
const sent: number[] = [];

beforeAll(async () => {
  app = await openApp(['emoji-tiny', 'glyphs-tiny'].map((p) => path.join(fixturePacks, p)));
  ({ page } = app);
  page.on('websocket', (ws: PageSocket) =>
    ws.on('framesent', (f) =>
      sent.push(typeof f.payload === 'string' ? Buffer.byteLength(f.payload) : f.payload.length),
    ),
  );
  // The socket the page already opened is not seen: reload so every frame is counted.
  await page.reload();
  await page.waitForSelector('body[data-orrery-ready="true"]');
}, 120_000);

afterAll(async () => {
  await app?.close();
});

const runs = async (): Promise<number> =>
  Number(await page.getAttribute('.compare.studio', 'data-runs'));

async function settled(): Promise<void> {
  await expect
    .poll(() => page.getAttribute('.compare.studio', 'data-running'), { timeout: 120_000 })
    .toBe('false');
}

/** Opens a file through the input's real file chooser, as a person does. */
async function openThroughPicker(label: string, file: string): Promise<void> {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByText(label).click(),
  ]);
  await chooser.setFiles(file);
}

/**
 * Turns a dial by the registered action and returns the bytes the page sent for it, all its
 * frames together (the run, and the drag sweep it starts for that dial, cancelling the last).
 */
async function tickBytes(feature: number, saeId: string, value: number): Promise<number> {
  const before = await runs();
  const from = sent.length;
  await page.evaluate(
    `window.__orreryActions.run('turn-dial', { saeId: '${saeId}', feature: ${feature}, value: ${value} })`,
  );
  await expect.poll(runs, { timeout: 60_000 }).toBeGreaterThan(before);
  await settled();
  return sent.slice(from).reduce((a, b) => a + b, 0);
}

describe('big files in the served app', () => {
  it('opens a 25 MB photo through the file picker, steers it, and a dial tick sends < 1 KB', async () => {
    const photo = path.join(tmpDir(), 'camera.jpg');
    writeFileSync(photo, await cameraJpeg());
    const bytes = statSync(photo).size;
    expect(bytes).toBeGreaterThan(24_000_000);

    await page.selectOption('#pack-picker', 'orrery-emoji-tiny');
    await page.waitForSelector('[data-testid="image-before"]', { timeout: 60_000 });
    await settled();
    const before = await runs();
    const from = sent.length;
    await openThroughPicker('Open an image…', photo);
    await expect.poll(runs, { timeout: 120_000 }).toBeGreaterThan(before);
    await settled();
    expect(await page.locator('.upload-status.error').count()).toBe(0);
    expect(await page.inputValue('select[aria-label="Example"]')).toBe('');
    // The photo crossed once, as bytes (not base64: 4/3 of it).
    const big = sent.slice(from).filter((n) => n > 1_000_000);
    expect(big.length).toBe(1);
    expect(big[0]).toBeLessThan(bytes + 4096);

    await page.fill('input[aria-label="Feature number"]', '3');
    await page.getByRole('button', { name: 'Add dial' }).click();
    const tick = await tickBytes(3, 'latent-32', 1.5);
    expect(tick).toBeLessThan(1024);
    await page.screenshot({ path: path.join(artefacts, 'upload-photo.png') });
    // The server is still up and answers.
    expect((await apiCall<{ sqlite: { ok: boolean } }>(page, 'app.health', {})).sqlite.ok).toBe(
      true,
    );
  }, 240_000);

  it.skipIf(!existsSync(DEJAVU))(
    'opens a 10 MB font through the file picker and renders its specimen; ticks stay small',
    async () => {
      const font = path.join(tmpDir(), 'Big Sans.ttf');
      writeFileSync(font, paddedFont(DEJAVU, 10_000_000));
      await page.selectOption('#pack-picker', 'orrery-glyphs-tiny');
      await page.waitForSelector('text=Open a font…', { timeout: 60_000 });
      await settled();
      const before = await runs();
      await openThroughPicker('Open a font…', font);
      await expect.poll(runs, { timeout: 120_000 }).toBeGreaterThan(before);
      await settled();
      expect(await page.locator('.upload-status.error').count()).toBe(0);
      await page.fill('input[aria-label="Feature number"]', '2');
      await page.getByRole('button', { name: 'Add dial' }).click();
      expect(await tickBytes(2, 'style-64', 1.5)).toBeLessThan(1024);
      await page.screenshot({ path: path.join(artefacts, 'upload-font.png') });
      expect((await apiCall<{ sqlite: { ok: boolean } }>(page, 'app.health', {})).sqlite.ok).toBe(
        true,
      );
    },
    240_000,
  );
});
