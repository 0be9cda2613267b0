/**
 * Carry across in a real browser against the real headless server, on the emoji fixture: with
 * both SAEs indexed and a latent ↔ spatial bridge built, a preset of one latent dial is carried
 * to the spatial SAE from the presets' "Carry across…" panel: the draft lists the dial's best
 * spatial match with the bridge's score (as bridge.matches gives it) and an editable strength;
 * applied, it becomes the dial on the spatial SAE, the picture changes (after ≠ before), and the
 * session step keeps the mapping with its score. Screenshot: test-results/e2e/carry-draft.png.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artefacts } from '../support/browser';
import { galaxyHook } from '../support/page';
import { sharedApp } from '../support/sharedApp';
import { fixturePacks } from '../support/tmp';

const PACK = 'orrery-emoji-tiny';
const latent = { packId: PACK, saeId: 'latent-32' };
const spatial = { packId: PACK, saeId: 'spatial-32' };

interface Matches {
  status: string;
  matches: { feature: number; score: number }[];
}
interface Step {
  dials: { saeId: string; feature: number; value: number }[];
  input: { carried?: { rows: { sourceFeature: number; feature: number; score: number }[] } };
  output: { changed?: boolean; metrics?: { meanAbs: number } };
}

const { page, call } = sharedApp([path.join(fixturePacks, 'emoji-tiny')]);

async function studioReady(): Promise<void> {
  await expect
    .poll(() => galaxyHook<boolean | null>(page, 'ready'), { timeout: 90_000 })
    .toBe(true);
  await page.waitForSelector('[data-testid="history"]', { timeout: 60_000 });
  await page.waitForSelector('.compare.studio[data-running="false"]:not([data-runs="0"])', {
    timeout: 60_000,
  });
}

describe('carry across (headless, chromium)', () => {
  it('carries a preset to the other SAE as an editable draft, and the applied dials change the picture', async () => {
    await studioReady();
    await call('index.build', latent);
    await call('index.build', spatial);
    await call('bridge.build', { a: latent, b: spatial });
    let feature = -1;
    let want: Matches | null = null;
    for (let f = 0; f < 32 && !want; f++) {
      const m = await call<Matches>('bridge.matches', {
        a: latent,
        b: spatial,
        side: 'a',
        feature: f,
      });
      if (m.status !== 'silent' && m.matches[0]) {
        feature = f;
        want = m;
      }
    }
    if (!want?.matches[0]) throw new Error('no latent feature has a match');
    const best = want.matches[0];
    const card = await call<{ maxActivation: number }>('index.feature', { ...latent, feature });
    await call('presets.save', {
      packId: PACK,
      name: 'carried-one',
      dials: [{ saeId: 'latent-32', feature, method: 'add', value: 2 * card.maxActivation }],
    });
    // the presets bar reads the list when it mounts
    await page.reload();
    await page.waitForSelector('body[data-orrery-ready="true"]');
    await studioReady();
    const stepsBefore = await page.locator('[data-testid="history-step"]').count();

    await page.locator('[data-testid="carry-panel"] summary').click();
    await page.selectOption('[data-testid="carry-source"]', 'carried-one');
    await page.selectOption('[data-testid="carry-target"]', 'spatial-32');
    await page.click('[data-testid="carry-draft"]');
    const rows = page.locator('[data-testid="carry-row"]');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(1);
    expect(await rows.first().textContent()).toContain(best.score.toFixed(2));
    const strength = page.locator('[data-testid="carry-value"]').first();
    expect(Number(await strength.inputValue())).not.toBe(0);
    // the person edits the strength before applying
    const edited = 1.5 * Number(await strength.inputValue());
    await strength.fill(String(edited));
    await page.locator('[data-testid="carry-panel"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(artefacts, 'carry-draft.png') });
    await page.click('[data-testid="carry-apply"]');

    await expect
      .poll(() => page.locator('[data-testid="history-step"]').count(), { timeout: 60_000 })
      .toBeGreaterThan(stepsBefore);
    await expect
      .poll(() => page.getAttribute('.compare.studio', 'data-running'), { timeout: 60_000 })
      .toBe('false');
    const sessions = await call<{ id: string; updatedAt: string }[]>('sessions.list', {
      packId: PACK,
    });
    const latest = [...sessions].sort((x, y) => y.updatedAt.localeCompare(x.updatedAt))[0];
    if (!latest) throw new Error('no session');
    const detail = await call<{ steps: Step[] }>('sessions.get', { sessionId: latest.id });
    const step = detail.steps.find((s) => s.input.carried);
    if (!step) throw new Error('no step kept a carried mapping');
    expect(step.dials).toEqual([
      expect.objectContaining({ saeId: 'spatial-32', feature: best.feature }),
    ]);
    expect(step.dials[0]?.value).toBeCloseTo(edited, 4);
    expect(step.input.carried?.rows).toEqual([
      expect.objectContaining({ sourceFeature: feature, feature: best.feature }),
    ]);
    expect(step.input.carried?.rows[0]?.score).toBeCloseTo(best.score, 6);
    // before ≠ after: the carried dial changed the picture
    expect(step.output.changed).toBe(true);
    expect(step.output.metrics?.meanAbs ?? 0).toBeGreaterThan(0);
  }, 240_000);
});
