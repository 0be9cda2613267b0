/**
 * "Add SAE…" in the headless app (chromium): the GPT-2 fixture opened through the API with
 * one SAE, the galaxy's "Add SAE…" dialog adds a second SAE folder (a copy of the fixture SAE
 * at blocks.2.hook_resid_post); the SAE picker then offers both. A folder dropped in the
 * browser gives no path: the dialog says to type it. Screenshots at 1280×720 and 1920×1080.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artefacts } from '../support/browser';
import { apiCall } from '../support/page';
import { sharedApp } from '../support/sharedApp';
import { fixturePacks, repoRoot, tmpDir } from '../support/tmp';

const HF = path.join(repoRoot, 'tests', 'fixtures', 'hf');
const HOOK = 'blocks.2.hook_resid_post';
const { page } = sharedApp([path.join(fixturePacks, 'text-tiny')]);

describe('Add SAE… (headless, chromium)', () => {
  it('adds a second SAE folder to an opened model; the picker offers it', async () => {
    const sae = path.join(tmpDir(), 'sae-2');
    cpSync(path.join(HF, 'gpt2-tiny-sae', 'blocks.1.hook_resid_pre'), sae, { recursive: true });
    const cfgFile = path.join(sae, 'cfg.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      cfgFile,
      JSON.stringify({
        ...cfg,
        hook_name: HOOK,
        metadata: { ...(cfg.metadata as object), hook_name: HOOK },
      }),
    );
    await apiCall(page, 'models.open', {
      dir: path.join(HF, 'gpt2-tiny'),
      saes: [path.join(HF, 'gpt2-tiny-sae')],
      neuronpedia: path.join(HF, 'gpt2-tiny-neuronpedia'),
    });
    await page.reload();
    await page.selectOption('#pack-picker', 'gpt2-tiny');
    await page.getByRole('button', { name: 'Add SAE…' }).click();
    const dialog = page.locator('[role="dialog"]');
    await dialog.waitFor();
    // A drop in the browser carries no path: one line says so.
    await page.dispatchEvent('[data-testid="add-sae-drop"]', 'drop', {
      // (run in the page: a DataTransfer holding one File, as a drop from the desktop makes)
      dataTransfer: await page.evaluateHandle(
        '(() => { const dt = new DataTransfer(); dt.items.add(new File(["x"], "sae-folder")); return dt; })()',
      ),
    });
    await expect.poll(() => dialog.textContent()).toContain('works in the desktop app');
    await page.fill('input[aria-label="SAE folder 1"]', sae);
    for (const [w, h] of [
      [1280, 720],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      await page.screenshot({ path: path.join(artefacts, `add-sae-${w}x${h}.png`) });
    }
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await dialog.waitFor({ state: 'detached', timeout: 200_000 });
    const options = page.locator('select[aria-label="SAE"] option');
    await expect.poll(() => options.count(), { timeout: 30_000 }).toBe(2);
    expect(await page.inputValue('select[aria-label="SAE"]')).toBe(HOOK);
  });
});
