/**
 * A pair's two bridges in the bridge view, in a real browser against the real headless server,
 * on the two-hook text fixture (its layer-0 and layer-1 SAEs read one model, so one tokenizer):
 * the build panel offers "Match by" activations or effect on the next tokens; the effect bridge
 * built from it is the one shown, and the header says so; "Match by" in the header offers the
 * other method, builds it from the panel, and then switches between the two built bridges, each
 * read as bridge.status says. Screenshots at 1280×720 and 1920×1080
 * (test-results/e2e/bridge-method-*.png).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artefacts } from '../support/browser';
import { galaxyHook } from '../support/page';
import { sharedApp } from '../support/sharedApp';
import { fixturePacks } from '../support/tmp';

const PACK = 'orrery-text-tiny-hooks';

const { page, call } = sharedApp([path.join(fixturePacks, 'text-tiny-hooks')]);

const bridgeHook = <T>(fn: string): Promise<T> => galaxyHook<T>(page, fn, '__orreryBridge');

/** Screenshots at 1280×720 and 1920×1080, then back to 1280×720. */
async function shots(name: string): Promise<void> {
  for (const [w, h] of [
    [1280, 720],
    [1920, 1080],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    await page.screenshot({ path: path.join(artefacts, `bridge-method-${name}-${w}x${h}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 720 });
}

interface Status {
  built: boolean;
  method: string | null;
  builtMethods: string[];
}

describe('bridge methods in the bridge view (headless, chromium)', () => {
  it('builds the effect bridge from the panel, then the default one, and switches between them', async () => {
    await page.setViewportSize({ width: 1280, height: 720 });
    await expect
      .poll(() => galaxyHook<boolean | null>(page, 'ready'), { timeout: 90_000 })
      .toBe(true);
    const main = { packId: PACK, saeId: await page.inputValue('select[aria-label="SAE"]') };
    await page.click('[data-testid="bridge-toggle"]');
    const pane = page.locator('[data-testid="bridge-pane"]');
    await expect.poll(() => pane.count()).toBe(1);
    // the pane lists the other SAEs once the pack list has answered: wait for its choice
    const bridgeTo = (): Promise<string> => page.inputValue('select[aria-label="Bridge to SAE"]');
    await expect.poll(bridgeTo).toContain('#');
    const pick = await bridgeTo();
    const other = { packId: PACK, saeId: pick.slice(pick.indexOf('#') + 1) };
    expect(other.saeId).not.toBe(main.saeId);
    await pane.getByRole('button', { name: 'Build the index' }).click();
    await expect
      .poll(() => galaxyHook<boolean | null>(page, 'ready', '__orreryBridgeGalaxy'), {
        timeout: 120_000,
      })
      .toBe(true);

    // the panel offers both methods, each in a sentence; the default is checked first
    const panel = pane.locator('[data-testid="build-bridge"]');
    const radios = panel.getByRole('radio');
    await expect.poll(() => radios.count(), { timeout: 30_000 }).toBe(2);
    expect(await panel.getByRole('radio', { checked: true }).getAttribute('value')).toBe(
      'correlation',
    );
    expect(await panel.textContent()).toContain('effect on the next tokens');
    await shots('offer');

    await panel.locator('input[value="effect"]').check();
    await panel.getByRole('button', { name: 'Build the bridge' }).click();
    await expect.poll(() => pane.getAttribute('data-bridge'), { timeout: 120_000 }).toBe('built');
    await expect.poll(() => bridgeHook<string | null>('method')).toBe('effect');
    const label = pane.locator('[data-testid="bridge-method"]');
    expect(await label.getAttribute('data-method')).toBe('effect');
    expect(await call<Status>('bridge.status', { a: main, b: other })).toMatchObject({
      built: true,
      method: 'effect',
      builtMethods: ['effect'],
    });

    // the header offers the other method; choosing it offers to build it (activations checked)
    const matchBy = pane.locator('select[aria-label="Match by"]');
    expect(await matchBy.inputValue()).toBe('effect');
    await matchBy.selectOption('correlation');
    await expect.poll(() => pane.getAttribute('data-bridge')).toBe('none');
    await expect
      .poll(() => panel.getByRole('radio', { checked: true }).getAttribute('value'))
      .toBe('correlation');
    await panel.getByRole('button', { name: 'Build the bridge' }).click();
    await expect
      .poll(() => bridgeHook<string | null>('method'), { timeout: 120_000 })
      .toBe('correlation');
    expect(await pane.getAttribute('data-bridge')).toBe('built');
    expect(await call<Status>('bridge.status', { a: main, b: other })).toMatchObject({
      method: 'correlation',
      builtMethods: ['correlation', 'effect'],
    });
    expect(await matchBy.inputValue()).toBe('correlation');
    await shots('both');

    // both built: the header switches between them without building
    await matchBy.selectOption('effect');
    await expect.poll(() => bridgeHook<string | null>('method')).toBe('effect');
    expect(await pane.locator('[data-testid="build-bridge"]').count()).toBe(0);
    expect(await label.getAttribute('data-method')).toBe('effect');
  }, 400_000);
});
