/**
 * The served folder picker: "Import pack…", Browse…, walk the allowed roots with the mouse and
 * the keyboard (arrows, Enter, Backspace, Escape closes the picker only), choose a pack folder,
 * import it. A typed path outside the allowed folders is refused with `forbidden`, the same
 * words whether it exists or not. Screenshots at 1280×720 and 1920×1080.
 */
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type OpenApp } from '../support/app';
import { artefacts } from '../support/browser';
import { apiCall } from '../support/page';
import { fixturePacks, repoRoot } from '../support/tmp';

let app: OpenApp;
let page: Page;

const fixtures = path.join(repoRoot, 'tests', 'fixtures');
const picker = (): Locator => page.getByRole('dialog', { name: 'Choose a model pack' });
const options = (): Locator => picker().getByRole('option');
const names = (): Promise<string[]> => options().locator('.picker-name').allTextContents();
const entry = (name: string): Locator =>
  options().filter({ has: page.locator('.picker-name', { hasText: new RegExp(`^${name}$`) }) });
const selectedName = (): Promise<string | null> =>
  picker().locator('[aria-selected="true"] .picker-name').textContent();

describe('the served file picker', () => {
  beforeAll(async () => {
    app = await openApp();
    ({ page } = app);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('walks the allowed folders by mouse and keyboard, and imports the pack chosen', async () => {
    await page.getByRole('button', { name: 'Import pack…' }).first().click();
    const importDialog = page.getByRole('dialog', { name: 'Import a model pack' });
    await importDialog.getByRole('button', { name: 'Browse…' }).click();
    // The roots: the folders the server was started with (--allow) and the packs folders.
    await expect.poll(names).toContain(fixtures);
    expect(await picker().getByTestId('picker-dir').textContent()).toBe('Folders you may use');
    await entry(fixtures).dblclick();
    await expect.poll(() => picker().getByTestId('picker-dir').textContent()).toBe(fixtures);
    await entry('packs').dblclick();
    await expect.poll(() => picker().getByTestId('picker-dir').textContent()).toBe(fixturePacks);
    expect(await names()).toEqual(['emoji-tiny', 'glyphs-tiny', 'text-tiny', 'text-tiny-hooks']);
    // Keyboard: down to text-tiny, Enter opens it, Backspace comes back.
    const list = picker().getByRole('listbox');
    for (let i = 0; i < 3; i++) await list.press('ArrowDown');
    expect(await selectedName()).toBe('text-tiny');
    await list.press('Enter');
    await expect
      .poll(() => picker().getByTestId('picker-dir').textContent())
      .toBe(path.join(fixturePacks, 'text-tiny'));
    await expect.poll(names).toContain('manifest.json');
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.screenshot({ path: path.join(artefacts, 'file-picker-1280x720.png') });
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.screenshot({ path: path.join(artefacts, 'file-picker-1920x1080.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
    await list.press('Backspace');
    await expect.poll(() => picker().getByTestId('picker-dir').textContent()).toBe(fixturePacks);
    // Down past the end stays on the last entry (text-tiny-hooks); up is text-tiny again.
    for (let i = 0; i < 3; i++) await list.press('ArrowDown');
    await list.press('ArrowUp');
    await picker().getByRole('button', { name: 'Choose “text-tiny”' }).click();
    await expect.poll(() => picker().count()).toBe(0);
    const field = importDialog.getByRole('textbox', { name: 'Pack folder' });
    expect(await field.inputValue()).toBe(path.join(fixturePacks, 'text-tiny'));
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.screenshot({ path: path.join(artefacts, 'file-picker-import-1280x720.png') });
    await page.setViewportSize({ width: 1440, height: 900 });

    // Escape closes the picker, not the dialog under it.
    await importDialog.getByRole('button', { name: 'Browse…' }).click();
    await expect.poll(() => options().count()).toBeGreaterThan(0);
    await picker().getByRole('listbox').press('Escape');
    await expect.poll(() => picker().count()).toBe(0);
    expect(await importDialog.count()).toBe(1);

    await importDialog.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => importDialog.count(), { timeout: 30_000 }).toBe(0);
    const list2 = await apiCall<{ packs: { id: string; location: string }[] }>(
      page,
      'packs.list',
      {},
    );
    expect(list2.packs).toContainEqual(
      expect.objectContaining({ id: 'orrery-text-tiny', location: 'library' }),
    );
  });

  it('refuses a typed path outside the allowed folders, saying nothing of whether it exists', async () => {
    await page.getByRole('button', { name: 'Import pack…' }).first().click();
    const importDialog = page.getByRole('dialog', { name: 'Import a model pack' });
    const field = importDialog.getByRole('textbox', { name: 'Pack folder' });
    const refusal = async (p: string): Promise<string> => {
      await field.fill(p);
      await field.press('Enter');
      const alert = importDialog.getByRole('alert');
      await expect.poll(() => alert.textContent()).toContain(JSON.stringify(p));
      return ((await alert.textContent()) ?? '').replace(JSON.stringify(p), 'P');
    };
    const existing = await refusal('/etc/passwd');
    const missing = await refusal('/etc/no-such-file-here');
    expect(existing).toContain('not in a folder Orrery may use');
    expect(missing).toBe(existing);
    await importDialog.getByRole('button', { name: 'Close' }).click();
  });
});
