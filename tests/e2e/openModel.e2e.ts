/**
 * "Open model…" in a real browser against the real headless server: the Hugging Face GPT-2
 * fixture with its SAELens SAE and its Neuronpedia export opens in one step (inspect, open,
 * progress) into a galaxy whose cards and search carry the export's explanations, and a dial
 * steers its generation (after differs; before is the plain run). The Llama-style fixture
 * without an export gets its index built here, then its galaxy.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type OpenApp } from '../support/app';
import { artefacts } from '../support/browser';
import { apiCall, galaxyHook } from '../support/page';
import { fixturePacks, repoRoot } from '../support/tmp';

const HF = path.join(repoRoot, 'tests', 'fixtures', 'hf');
let app: OpenApp;
let page: Page;

const hook = <T>(name: string): Promise<T> => galaxyHook<T>(page, name);
const call = <T>(name: string, input: unknown): Promise<T> => apiCall<T>(page, name, input);

beforeAll(async () => {
  // The text pack's examples are what an index without an export is built over.
  app = await openApp([path.join(fixturePacks, 'text-tiny')]);
  ({ page } = app);
});

afterAll(async () => {
  await app?.close();
});

async function runs(): Promise<number> {
  return Number(await page.getAttribute('.compare.studio', 'data-runs'));
}

async function settled(): Promise<void> {
  await expect
    .poll(async () => page.getAttribute('.compare.studio', 'data-running'), { timeout: 60_000 })
    .toBe('false');
}

/** Fills the dialog and inspects; the inspection table's text. */
async function inspect(
  model: string,
  sae: string,
  neuronpedia?: string,
  via: 'button' | 'keys' = 'button',
): Promise<string> {
  if (via === 'button') await page.getByRole('button', { name: 'Open model…' }).click();
  else {
    // Ctrl+O (the open-model action) opens it, Escape closes it, Ctrl+O again.
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    await page.keyboard.press('Control+o');
    await page.locator('[role="dialog"]').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('[role="dialog"]').waitFor({ state: 'detached' });
    await page.keyboard.press('Control+o');
  }
  await page.fill('input[aria-label="Model folder"]', model);
  await page.fill('input[aria-label="SAE folder 1"]', sae);
  if (neuronpedia) await page.fill('input[aria-label="Neuronpedia export"]', neuronpedia);
  await page.getByRole('button', { name: 'Inspect' }).click();
  const table = page.locator('[data-testid="model-inspection"]');
  await table.waitFor({ timeout: 30_000 });
  return (await table.textContent()) ?? '';
}

/** Opens what was inspected (Enter, as the keyboard does) and waits for the dialog to go. */
async function open(): Promise<void> {
  await page.focus('input[aria-label="Model folder"]');
  await page.keyboard.press('Enter');
  await page.locator('[role="dialog"] [role="progressbar"]').waitFor({ timeout: 10_000 });
  await page.locator('[role="dialog"]').waitFor({ state: 'detached', timeout: 200_000 });
}

describe('Open model… (headless, chromium)', () => {
  it('GPT-2 + SAE + Neuronpedia export → galaxy with the explanations, and a dial steers', async () => {
    const found = await inspect(
      path.join(HF, 'gpt2-tiny'),
      path.join(HF, 'gpt2-tiny-sae'),
      path.join(HF, 'gpt2-tiny-neuronpedia'),
    );
    expect(found).toContain('gpt2 · 3 layers · d_model 64');
    expect(found).toContain('blocks.0–2.hook_resid_pre/mid/post');
    expect(found).toContain('256 features → blocks.1.hook_resid_pre');
    expect(await page.getByRole('button', { name: 'Open', exact: true }).isEnabled()).toBe(true);
    for (const [w, h] of [
      [1280, 720],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      await page.screenshot({ path: path.join(artefacts, `open-model-${w}x${h}.png`) });
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    await open();

    await expect.poll(() => page.inputValue('#pack-picker')).toBe('gpt2-tiny');
    await expect.poll(() => hook<boolean>('ready'), { timeout: 90_000, interval: 250 }).toBe(true);
    const ref = { packId: 'gpt2-tiny', saeId: 'blocks.1.hook_resid_pre' };
    expect(await hook<number>('count')).toBe(256);

    // In search and on the card: the export's explanations.
    await page.click('input[aria-label="Search features"]');
    await page.keyboard.type('fires on');
    const hit = page.locator('[data-testid="search-results"] li[data-feature]').first();
    await hit.waitFor({ timeout: 15_000 });
    expect(await hit.textContent()).toMatch(/fires on/);
    const feature = Number(await hit.getAttribute('data-feature'));
    const card = await call<{ label: string; labelSource: string }>('index.feature', {
      ...ref,
      feature,
    });
    expect(card.labelSource).toBe('neuronpedia');
    await hit.click();
    const shown = page.locator('[data-testid="feature-card"]');
    await expect.poll(() => shown.textContent(), { timeout: 15_000 }).toContain(card.label);
    await page.screenshot({ path: path.join(artefacts, 'open-model-galaxy.png') });
    await page.keyboard.press('Escape');

    // A dial steers generation; before is the plain run (the same call with no dials).
    await expect.poll(runs, { timeout: 60_000 }).toBeGreaterThan(0);
    await settled();
    await page.getByRole('button', { name: 'Side by side' }).click();
    const plainBefore = await page.textContent('[data-testid="text-before"]');
    expect(await page.textContent('[data-testid="text-after"]')).toBe(plainBefore);
    const max = await call<{ maxActivation: number }>('index.feature', { ...ref, feature });
    const before = await runs();
    const dialed = { saeId: ref.saeId, feature, value: 8 * Math.max(1, max.maxActivation) };
    await page.evaluate(`window.__orreryActions.run('add-dial', ${JSON.stringify(dialed)})`);
    await expect.poll(runs, { timeout: 60_000 }).toBeGreaterThan(before);
    await settled();
    await expect
      .poll(() => page.textContent('[data-testid="text-after"]'), { timeout: 60_000 })
      .not.toBe(plainBefore);
    expect(await page.textContent('[data-testid="text-before"]')).toBe(plainBefore);
    // The same through the API: a run with the dial keeps the plain run as its before.
    type Gen = { before: { text: string }; after: { text: string } };
    const prompt = 'In the beginning';
    const dial = {
      saeId: ref.saeId,
      feature,
      method: 'add',
      value: 8 * Math.max(1, max.maxActivation),
    };
    const plain = await call<Gen>('text.generate', { packId: ref.packId, prompt, dials: [] });
    const steered = await call<Gen>('text.generate', {
      packId: ref.packId,
      prompt,
      dials: [dial],
    });
    expect(plain.after.text).toBe(plain.before.text);
    expect(steered.before.text).toBe(plain.before.text);
    expect(steered.after.text).not.toBe(plain.before.text);
    await page.screenshot({ path: path.join(artefacts, 'open-model-steer.png') });
  });

  it('Llama-style model + SAE, no export → index built here → galaxy', async () => {
    const found = await inspect(
      path.join(HF, 'llama-tiny'),
      path.join(HF, 'llama-tiny-sae'),
      undefined,
      'keys',
    );
    expect(found).toMatch(/^Modelllama · /);
    expect(found).toMatch(/1 data file/);
    expect(found).toMatch(/built here over .*examples\.jsonl/);
    await open();
    await expect.poll(() => page.inputValue('#pack-picker')).toBe('llama-tiny');
    await expect.poll(() => hook<boolean>('ready'), { timeout: 90_000, interval: 250 }).toBe(true);
    const status = await call<{ built: boolean; features: number; examples: number }>(
      'index.status',
      { packId: 'llama-tiny', saeId: 'blocks.1.hook_resid_post' },
    );
    expect(status.built).toBe(true);
    expect(status.examples).toBeGreaterThan(0);
    expect(await hook<number>('count')).toBe(status.features);
    await page.screenshot({ path: path.join(artefacts, 'open-model-llama.png') });
  }, 300_000);
});
