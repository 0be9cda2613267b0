/**
 * Sessions in the browser: runs become steps, undo restores the previous step (and is off at
 * the first), a run after an undo leaves the old line in the history tree as a branch, a
 * restarted server reopens the same steps with their names and the dials' names (and a dial
 * added but never moved, with no new step), and an
 * exported recipe reproduces the output when imported (a notice says what it restored).
 */
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artefacts, launchChromium } from '../support/browser';
import { apiCall } from '../support/page';
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

const steps = (): Promise<string[]> =>
  page.locator('[data-testid="history-step"]').allTextContents();

/** The history tree as `number:depth`, with `*` on the current step, top to bottom. */
const tree = (): Promise<string[]> =>
  page.$$eval('[data-testid="history-step"]', (els) =>
    els.map(
      (e) =>
        `${e.getAttribute('data-number')}:${e.getAttribute('data-depth')}${e.hasAttribute('data-current') ? '*' : ''}`,
    ),
  );

const disabled = (name: string) => (): Promise<boolean> =>
  page.getByRole('button', { name, exact: true }).isDisabled();

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
    // the first step is the root: nothing to undo, nothing to redo
    await expect.poll(disabled('Undo')).toBe(true);
    expect(await disabled('Redo')()).toBe(true);
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
    await expect.poll(disabled('Undo')).toBe(true);
    expect(await disabled('Redo')()).toBe(false);
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

  it('a run after an undo starts a new line; the undone one stays as a branch', async () => {
    const n = (await steps()).length;
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('Control+z');
    await expect.poll(tree).toContain(`${n - 1}:0*`);
    await settled();
    await page.fill('input[aria-label="Value of feature 5"]', '12');
    await page.keyboard.press('Enter');
    // the undone step n hangs below step n-1 as a branch; the new step n+1 goes on the line
    await expect
      .poll(tree, { timeout: 60_000 })
      .toEqual([...Array.from({ length: n - 1 }, (_, i) => `${i + 1}:0`), `${n}:1`, `${n + 1}:0*`]);
    await settled();
    expect(await disabled('Redo')()).toBe(true);
    // the tree at the smallest and largest supported windows (looked at, not compared)
    for (const [width, height] of [
      [1280, 720],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width, height });
      await page.locator('[data-testid="history-step"][data-current]').scrollIntoViewIfNeeded();
      await page.screenshot({
        path: path.join(artefacts, `history-branch-${width}x${height}.png`),
      });
    }
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('reopens the same steps, their names and the dials’ names after the server restarts', async () => {
    // a dial added as a card adds it, with the feature's label, turned so the step keeps it
    await page.evaluate(
      `window.__orreryActions.run('add-dial', { saeId: 'res1-64', feature: 7, label: 'verses of Psalms' })`,
    );
    await page.fill('input[aria-label="Value of feature 7"]', '9');
    await page.keyboard.press('Enter');
    await expect
      .poll(steps, { timeout: 60_000 })
      .toContainEqual(expect.stringContaining('verses of Psalms'));
    await settled();
    // name the first step
    await page.getByRole('button', { name: 'Name step 1', exact: true }).click();
    await page.fill('input[aria-label="Name of step 1"]', 'plain start');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await steps())[0]).toContain('plain start');
    // a dial added and never moved is in no step: the session keeps the list of dials
    await page.evaluate(
      `window.__orreryActions.run('add-dial', { saeId: 'res1-64', feature: 9, label: 'never moved' })`,
    );
    // a dial turned and then muted is in no step either: the list keeps its value and its mute
    await page.evaluate(
      `window.__orreryActions.run('add-dial', { saeId: 'res1-64', feature: 11, label: 'held back' })`,
    );
    const stepsBeforeTurn = (await steps()).length;
    await page.fill('input[aria-label="Value of feature 11"]', '4');
    await page.keyboard.press('Enter');
    await expect
      .poll(async () => (await steps()).length, { timeout: 60_000 })
      .toBeGreaterThan(stepsBeforeTurn);
    await settled();
    await page.locator('[data-testid="dial-11"]').getByRole('button', { name: 'Mute' }).click();
    await expect
      .poll(() => page.getAttribute('[data-testid="dial-11"] button[aria-pressed]', 'aria-pressed'))
      .toBe('true');
    await settled();
    const [session] = await apiCall<{ id: string }[]>(page, 'sessions.list', {
      packId: 'orrery-text-tiny',
    });
    const sessionId = session?.id;
    const listed = async () =>
      (
        await apiCall<{ dials?: { label?: string; value: number; muted?: boolean }[] | null }>(
          page,
          'sessions.get',
          { sessionId },
        )
      ).dials ?? [];
    await expect
      .poll(async () => (await listed()).map((d) => d.label))
      .toEqual(expect.arrayContaining(['verses of Psalms', 'never moved', 'held back']));
    await expect
      .poll(async () => (await listed()).find((d) => d.label === 'held back'))
      .toMatchObject({ value: 4, muted: true });
    const before = await steps();
    const text = await page.textContent('[data-testid="text-diff"]');
    await page.close();
    await server.stop();
    await open();
    await expect.poll(steps).toEqual(before);
    await expect
      .poll(() => page.textContent('[data-testid="dial-7"] .dial-title'))
      .toContain('verses of Psalms');
    await expect
      .poll(() => page.textContent('[data-testid="dial-9"] .dial-title'))
      .toContain('never moved');
    await expect
      .poll(() => page.getAttribute('[data-testid="dial-11"] button[aria-pressed]', 'aria-pressed'))
      .toBe('true');
    expect(await page.inputValue('input[aria-label="Value of feature 11"]')).toBe('4.00');
    await expect
      .poll(() => page.textContent('[data-testid="text-diff"]'), { timeout: 60_000 })
      .toBe(text);
    // the reopened run (the unmoved dial at rest) is the current step again, not a new one
    await settled();
    expect(await steps()).toEqual(before);
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
    // the imported session numbers its own steps from 1, and says what it restored
    expect((await tree()).map((r) => Number(r.split(':')[0])).sort((a, b) => a - b)).toEqual(
      recipe.steps.map((_, i) => i + 1),
    );
    await expect
      .poll(() => page.textContent('[data-testid="session-notice"]'))
      .toContain(`${recipe.steps.length} steps`);
    await settled();
    await expect
      .poll(() => page.textContent('[data-testid="text-diff"]'), { timeout: 60_000 })
      .toBe(text);
    await page.screenshot({ path: path.join(artefacts, 'sessions.png') });
  });
});
