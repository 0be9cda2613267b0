/**
 * A bridge on the feature card, in a real browser against the real headless server: the emoji
 * fixture's latent and spatial SAEs get their indexes and a bridge (bridge.build); a latent
 * feature's card lists its matches at the spatial hook with scores, the same as
 * bridge.matches, the best with its title; clicking the best one switches the galaxy to the spatial SAE and selects that
 * feature, whose card then lists its way back.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artefacts } from '../support/browser';
import { galaxyHook } from '../support/page';
import { sharedApp } from '../support/sharedApp';
import { fixturePacks } from '../support/tmp';

const latent = { packId: 'orrery-emoji-tiny', saeId: 'latent-32' };
const spatial = { packId: 'orrery-emoji-tiny', saeId: 'spatial-32' };

interface Matches {
  status: string;
  matches: { feature: number; score: number }[];
}

const { page, call } = sharedApp([path.join(fixturePacks, 'emoji-tiny')]);

describe('bridge on the feature card (headless, chromium)', () => {
  it('lists a feature’s matches on the other SAE and opens the best one there', async () => {
    await expect
      .poll(() => galaxyHook<boolean | null>(page, 'ready'), { timeout: 90_000 })
      .toBe(true);
    await call('index.build', spatial);
    await call('bridge.build', { a: latent, b: spatial });
    // a latent feature that fired, with its best match at the spatial hook
    let feature = -1;
    let want: Matches | null = null;
    for (let f = 0; f < 32 && !want; f++) {
      const m = await call<Matches>('bridge.matches', {
        a: latent,
        b: spatial,
        side: 'a',
        feature: f,
      });
      if (m.status !== 'silent' && m.matches.length > 0) {
        feature = f;
        want = m;
      }
    }
    if (!want) throw new Error('no latent feature has a match');
    const best = want.matches[0]?.feature ?? -1;
    await page.evaluate(`window.__orreryActions.run("select-feature", { feature: ${feature} })`);
    await expect
      .poll(() => page.getAttribute('[data-testid="feature-card"]', 'data-feature'))
      .toBe(String(feature));
    const links = page.locator('[data-testid="bridge-match"]');
    await expect
      .poll(() => links.count(), { timeout: 15_000 })
      .toBe(Math.min(5, want.matches.length));
    expect(await links.first().getAttribute('data-feature')).toBe(String(best));
    // the best match carries its title from the spatial SAE's index
    const title = (await call<{ label: string }>('index.feature', { ...spatial, feature: best }))
      .label;
    await expect.poll(() => links.first().textContent()).toContain(title);
    expect(await page.textContent('[data-testid="bridge-matches"]')).toContain(
      (want.matches[0]?.score ?? 0).toFixed(2),
    );
    await page.locator('[data-testid="bridge-matches"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(artefacts, 'bridge-card.png') });

    await links.first().click();
    await expect
      .poll(() => page.inputValue('select[aria-label="SAE"]'), { timeout: 30_000 })
      .toBe('spatial-32');
    await expect
      .poll(() => galaxyHook<number[]>(page, 'selection'), { timeout: 60_000 })
      .toEqual([best]);
    await expect
      .poll(() => page.getAttribute('[data-testid="feature-card"]', 'data-feature'))
      .toBe(String(best));
    // the spatial feature's card lists the way back (side b of the same bridge)
    const back = await call<Matches>('bridge.matches', {
      a: latent,
      b: spatial,
      side: 'b',
      feature: best,
    });
    await expect
      .poll(() => page.locator('[data-testid="bridge-match"]').first().getAttribute('data-feature'))
      .toBe(String(back.matches[0]?.feature));
  }, 240_000);
});
