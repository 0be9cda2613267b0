/**
 * Sessions in the browser: runs become steps, undo restores the previous step, a restarted
 * server reopens the same steps, and an exported recipe reproduces the output when imported.
 */
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artefacts, launchChromium } from '../support/browser';
import { startHeadless, type ServerHandle } from '../support/headless';
import { cleanupTmp, fixturePacks, tmpDir } from '../support/tmp';

let server: ServerHandle;
let browser: BrowserContext;
let page: Page;
let home: string;
let models: string;

async function open(): Promise<void> {
  server = await startHeadless(['--home', home, '--models', models]);
  page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForSelector('body[data-orrery-ready="true"]');
  await page.waitForSelector('[data-testid="history"]', { timeout: 60_000 });
  await page.waitForSelector('.compare.studio[data-running="false"]:not([data-runs="0"])', {
    timeout: 60_000,
  });
}

async function settled(): Promise<void> {
  await expect
    .poll(() => page.getAttribute('.compare.studio', 'data-running'), { timeout: 60_000 })
    .toBe('false');
  await expect
    .poll(async () => Number(await page.getAttribute('.compare.studio', 'data-runs')), {
      timeout: 60_000,
    })
    .toBeGreaterThan(0);
}

const steps = (): Promise<string[]> => page.locator('.steps li button').allTextContents();

beforeAll(async () => {
  home = tmpDir();
  models = tmpDir();
  cpSync(path.join(fixturePacks, 'text-tiny'), path.join(models, 'text-tiny'), { recursive: true });
  browser = await launchChromium();
  await open();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  cleanupTmp();
});

describe('sessions (headless, chromium)', () => {
  it('records runs as steps and undoes to the previous one', async () => {
    await expect.poll(steps).toHaveLength(1);
    await page.fill('input[aria-label="Feature number"]', '5');
    await page.getByRole('button', { name: 'Add dial' }).click();
    await page.fill('input[aria-label="Value of feature 5"]', '40');
    await page.keyboard.press('Enter');
    await expect.poll(steps, { timeout: 60_000 }).toHaveLength(2);
    await settled();
    expect(await page.textContent('[data-testid="changed-words"]')).not.toBe('no words changed');
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('Control+z');
    // The first step had no dials: undo takes the dial away again.
    await expect.poll(() => page.locator('[data-testid="dial-5"]').count()).toBe(0);
    await expect
      .poll(() => page.textContent('[data-testid="changed-words"]'), { timeout: 60_000 })
      .toBe('no words changed');
    expect(await steps()).toHaveLength(2);
    await page.keyboard.press('Control+Shift+z');
    await expect
      .poll(() => page.inputValue('input[aria-label="Value of feature 5"]'))
      .toBe('40.00');
    await settled();
  });

  it('a mouse drag on a dial is one step, however many runs it makes', async () => {
    const start = (await steps()).length;
    const knob = page.locator('[data-testid="dial-5"] .knob');
    const runs = async (): Promise<number> =>
      Number(await page.getAttribute('.compare.studio', 'data-runs'));
    const drag = async (dx: number): Promise<void> => {
      const box = await knob.boundingBox();
      if (!box) throw new Error('no knob');
      const x = box.x + box.width / 2;
      const y = box.y + box.height / 2;
      await page.mouse.move(x, y);
      await page.mouse.down();
      for (let i = 1; i <= 4; i++) {
        // each move's run lands while the button is still down: several runs, one gesture
        const n = await runs();
        await page.mouse.move(x + (dx * i) / 4, y);
        await expect.poll(runs, { timeout: 60_000 }).toBeGreaterThan(n);
      }
      await page.mouse.up();
      await settled();
    };
    await drag(120);
    await expect.poll(steps).toHaveLength(start + 1);
    await drag(-60); // a second drag: a second step
    await expect.poll(steps).toHaveLength(start + 2);
  });

  it('reopens the same steps after the server restarts', async () => {
    const before = await steps();
    const text = await page.textContent('[data-testid="text-diff"]');
    await page.close();
    await server.stop();
    await open();
    await expect.poll(steps).toEqual(before);
    await expect
      .poll(() => page.textContent('[data-testid="text-diff"]'), { timeout: 60_000 })
      .toBe(text);
  });

  it('exports a recipe and a step, and the imported recipe reproduces the output', async () => {
    const [stepFile] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export step' }).click(),
    ]);
    const stepPath = path.join(artefacts, 'step.txt');
    await stepFile.saveAs(stepPath);
    expect(readFileSync(stepPath, 'utf8')).toContain('-- before --');
    const [recipeFile] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export recipe' }).click(),
    ]);
    const recipePath = path.join(artefacts, 'session.orrery.json');
    await recipeFile.saveAs(recipePath);
    const recipe = JSON.parse(readFileSync(recipePath, 'utf8')) as {
      orrery: string;
      steps: unknown[];
    };
    expect(recipe.orrery).toBe('recipe');
    const text = await page.textContent('[data-testid="text-diff"]');
    await page.setInputFiles('input[aria-label="Import recipe"]', recipePath);
    await expect.poll(steps).toHaveLength(recipe.steps.length);
    await settled();
    await expect
      .poll(() => page.textContent('[data-testid="text-diff"]'), { timeout: 60_000 })
      .toBe(text);
    await page.screenshot({ path: path.join(artefacts, 'sessions.png') });
  });
});
