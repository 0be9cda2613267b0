/**
 * Steering in a real browser against the real headless server and real ONNX sessions on the
 * fixture packs: turn a dial with mouse drags, and the after-output changes while the
 * before-output stays the unsteered run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artefacts } from '../support/browser';
import { sharedApp } from '../support/sharedApp';
import { fixturePacks } from '../support/tmp';

const { page } = sharedApp(['text-tiny', 'emoji-tiny'].map((p) => path.join(fixturePacks, p)));

async function runs(): Promise<number> {
  return Number(await page.getAttribute('.compare.studio', 'data-runs'));
}

/** A canvas's pixels as a short fingerprint (read by the test, never by the app). */
function canvasPixels(testId: string): Promise<string> {
  return page.evaluate(`(() => {
    const c = document.querySelector('[data-testid="${testId}"]');
    if (!(c instanceof HTMLCanvasElement) || c.width === 0) return '';
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 2166136261;
    for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i], 16777619);
    return c.width + 'x' + c.height + ':' + (h >>> 0).toString(16);
  })()`);
}

async function settled(): Promise<void> {
  await expect
    .poll(async () => page.getAttribute('.compare.studio', 'data-running'), { timeout: 60_000 })
    .toBe('false');
}

/**
 * Adds a dial by number and drags its knob dx pixels. The dial's travel depends on whether the
 * index's calibrated range has reached it, so the drag waits for that range (data-limit) when the
 * pack's index has one: the value reached is then a known share of the calibrated limit.
 */
async function addDialAndDrag(feature: number, dx: number, calibrated = false): Promise<void> {
  await page.fill('input[aria-label="Feature number"]', String(feature));
  await page.getByRole('button', { name: 'Add dial' }).click();
  const knob = page.locator(`[data-testid="dial-${feature}"] .knob`);
  if (calibrated)
    await expect.poll(() => knob.getAttribute('data-limit'), { timeout: 60_000 }).not.toBeNull();
  const box = await knob.boundingBox();
  if (!box) throw new Error('no knob');
  const before = await runs();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++)
    await page.mouse.move(box.x + box.width / 2 + (dx * i) / 8, box.y + box.height / 2, {
      steps: 2,
    });
  await page.mouse.up();
  await expect.poll(runs, { timeout: 60_000 }).toBeGreaterThan(before);
  await settled();
}

describe('steering (headless, chromium)', () => {
  it('text: a dragged dial changes after, before stays the unsteered run', async () => {
    await page.selectOption('#pack-picker', 'orrery-text-tiny');
    await expect.poll(runs, { timeout: 60_000 }).toBeGreaterThan(0);
    await settled();
    await page.getByRole('button', { name: 'Side by side' }).click();
    const plainBefore = await page.textContent('[data-testid="text-before"]');
    const plainAfter = await page.textContent('[data-testid="text-after"]');
    expect(plainAfter).toBe(plainBefore);

    // a 200 px drag covers the calibrated travel: rest to the limit where generation changes
    await addDialAndDrag(5, 200, true);
    const value = Number(await page.inputValue('input[aria-label="Value of feature 5"]'));
    const limit = Number(await page.getAttribute('[data-testid="dial-5"] .knob', 'data-limit'));
    expect(limit).toBeGreaterThan(0);
    expect(value).toBeGreaterThan(0.9 * limit);
    expect(value).toBeLessThan(1.1 * limit);
    await expect
      .poll(() => page.textContent('[data-testid="text-after"]'), { timeout: 60_000 })
      .not.toBe(plainAfter);
    expect(await page.textContent('[data-testid="text-before"]')).toBe(plainBefore);
    await page.getByRole('button', { name: 'Inline diff' }).click();
    expect(await page.textContent('[data-testid="changed-words"]')).toMatch(
      /\d+ words added, \d+ removed/,
    );
    expect(await page.locator('.diff-add, .diff-del').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(artefacts, 'steer-text.png') });

    // Double-click resets the dial to rest: after is the unsteered run again.
    await page.locator('[data-testid="dial-5"] .knob').dblclick();
    await expect
      .poll(() => page.textContent('[data-testid="changed-words"]'), { timeout: 60_000 })
      .toBe('no words changed');
  });

  it('image: a dragged dial changes the decoded image, with pixel and SSIM distance', async () => {
    await page.selectOption('#pack-picker', 'orrery-emoji-tiny');
    await page.waitForSelector('[data-testid="image-before"]', { timeout: 60_000 });
    await settled();
    expect(await page.textContent('[data-testid="image-distance"]')).toContain('changed 0.0%');
    const beforePixels = await canvasPixels('image-before');
    expect(beforePixels).toMatch(/^64x64:/);
    expect(await canvasPixels('image-after')).toBe(beforePixels);
    await addDialAndDrag(3, 200);
    await expect
      .poll(() => page.textContent('[data-testid="image-distance"]'), { timeout: 60_000 })
      .not.toContain('pixel Δ 0.00');
    expect(await canvasPixels('image-before')).toBe(beforePixels);
    expect(await canvasPixels('image-after')).not.toBe(beforePixels);
    await page.getByRole('button', { name: 'Difference' }).click();
    await page.screenshot({ path: path.join(artefacts, 'steer-image.png') });
    const [png] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export step' }).click(),
    ]);
    const pngPath = path.join(artefacts, 'step.png');
    await png.saveAs(pngPath);
    expect(readFileSync(pngPath).subarray(1, 4).toString()).toBe('PNG');

    // The same operations are named actions that tests (and the keyboard) can run.
    const names = await page.evaluate('window.__orreryActions.names()');
    expect(names).toEqual(
      expect.arrayContaining([
        'select-feature',
        'add-dial',
        'turn-dial',
        'reset-dials',
        'save-preset',
        'undo',
        'redo',
        'export-step',
        'export-recipe',
      ]),
    );
    await page.evaluate(
      `window.__orreryActions.run('turn-dial', { saeId: 'latent-32', feature: 3, value: 1.25 })`,
    );
    await expect.poll(() => page.inputValue('input[aria-label="Value of feature 3"]')).toBe('1.25');
  });

  it('image: a spatial dial painted onto a region changes mostly that region', async () => {
    await page.getByRole('button', { name: 'Side by side' }).click();
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await page.selectOption('.add-dial select', { label: 'decoder.hook_spatial' });
    await page.fill('input[aria-label="Feature number"]', '2');
    await page.getByRole('button', { name: 'Add dial' }).click();
    await page.fill('input[aria-label="Value of feature 2"]', '30');
    await page.keyboard.press('Enter');
    const changedShare = (text: string | null): number =>
      Number(/changed ([\d.]+)%/.exec(text ?? '')?.[1] ?? NaN);
    const distance = (): Promise<string | null> =>
      page.textContent('[data-testid="image-distance"]');
    // The run with the dial at 30 everywhere has landed once the after image differs (the
    // run starts after a short debounce, so "not running" alone can still be the old run).
    await expect
      .poll(async () => changedShare(await distance()), { timeout: 60_000 })
      .toBeGreaterThan(0);
    await settled();
    const everywhere = await distance();
    const historySteps = (): Promise<number> =>
      page.locator('[data-testid="history-step"]').count();
    const stepsBefore = await historySteps();
    // Paint the top-left 2×2 cells of the 8×8 map.
    const grid = page.locator('[aria-label="Paint where spatial dials apply"]');
    const box = await grid.boundingBox();
    if (!box) throw new Error('no brush');
    const cell = box.width / 8;
    await page.mouse.move(box.x + cell / 2, box.y + cell / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + cell * 1.5, box.y + cell / 2, { steps: 3 });
    await page.mouse.move(box.x + cell * 1.5, box.y + cell * 1.5, { steps: 3 });
    await page.mouse.move(box.x + cell / 2, box.y + cell * 1.5, { steps: 3 });
    await page.mouse.up();
    expect(await page.locator('.mask-grid > div.painted').count()).toBe(4);
    await expect.poll(distance, { timeout: 60_000 }).not.toBe(everywhere);
    await settled();
    // Painting runs once per stroke step; the last run (all four cells) changes no more of
    // the image than the dial did everywhere.
    await expect
      .poll(async () => changedShare(await distance()), { timeout: 30_000 })
      .toBeLessThanOrEqual(changedShare(everywhere));
    // The stroke is one step in the history (however many runs it made), current, with the
    // painted cells in its words and its after-image as a thumbnail.
    expect(await historySteps()).toBe(stepsBefore + 1);
    const current = page.locator('[data-testid="history-step"][data-current]');
    expect(await current.textContent()).toContain('painted 4 cells');
    await expect
      .poll(() =>
        current
          .locator('img.step-thumb')
          .evaluate((i) => (i as { naturalWidth: number }).naturalWidth),
      )
      .toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Difference' }).click();
    await page.screenshot({ path: path.join(artefacts, 'steer-paint.png') });
  });
});
