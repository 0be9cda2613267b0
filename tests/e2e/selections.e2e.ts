/**
 * Selections that act, on the default packs in chromium: a lasso opens the selection panel
 * ranked by activation on the current input, and one composite dial from it changes the
 * output; a saved selection survives a server restart and exports as JSON; "more like these"
 * with three red emoji makes a dial that reddens an unrelated emoji (hue and saturation of the
 * decoded pixels), and with three Bible texts a dial that raises the share of Bible tokens in
 * a generation from an unrelated prompt. Screenshots at 1280×720 and 1920×1080.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../main/runtime/text/tokenizer';
import { artefacts, launchChromium } from '../support/browser';
import { startHeadless, type ServerHandle } from '../support/headless';
import { apiCall, galaxyHook } from '../support/page';
import { cleanupTmp, repoRoot, testAllow, tmpDir } from '../support/tmp';
import { cpSync } from 'node:fs';

const EMOJI = path.join(repoRoot, 'models', 'emoji');
const TEXT = path.join(repoRoot, 'models', 'text-fortunes');

interface Dial {
  saeId: string;
  feature: number;
  method: string;
  value: number;
  members?: { feature: number; weight: number }[];
  label?: string;
}

let browser: BrowserContext;
let server: ServerHandle;
let page: Page;
let home: string;
let models: string;

async function open(): Promise<void> {
  const allow = testAllow.flatMap((d) => ['--allow', d]);
  server = await startHeadless(['--home', home, '--models', models, ...allow]);
  page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForSelector('body[data-orrery-ready="true"]');
}

async function settled(): Promise<void> {
  await expect
    .poll(() => page.getAttribute('.compare.studio', 'data-running'), { timeout: 120_000 })
    .toBe('false');
}

/** The dials of the session's newest step: what the app last ran. */
async function lastStepDials(packId: string): Promise<Dial[]> {
  const sessions = await apiCall<{ id: string }[]>(page, 'sessions.list', { packId });
  const id = sessions[0]?.id;
  if (!id) return [];
  const d = await apiCall<{ steps: { dials: Dial[] }[] }>(page, 'sessions.get', { sessionId: id });
  return d.steps.at(-1)?.dials ?? [];
}

/**
 * Turns the composite dial whose label starts with `label` to the end of its travel (8× its
 * typical strength) by typing, and waits for the run that used it; resolves with that dial as
 * the run had it.
 */
async function composite(label: string): Promise<Dial[]> {
  const dial = page.locator('[data-testid="composite-dial"]', { hasText: label });
  await dial.waitFor({ timeout: 120_000 });
  const max = Number(await dial.locator('[role="slider"]').getAttribute('aria-valuemax'));
  expect(max).toBeGreaterThan(0);
  const value = Number(max.toFixed(2));
  await dial.locator('input.dial-value').fill(String(value));
  await dial.locator('input.dial-value').press('Enter');
  const turned = async (): Promise<Dial[]> =>
    (await lastStepDials(currentPack)).filter(
      (d) =>
        d.members !== undefined &&
        (d.label ?? '').startsWith(label) &&
        Math.abs(d.value - value) < 1e-6,
    );
  await expect.poll(async () => (await turned()).length, { timeout: 120_000 }).toBe(1);
  await settled();
  return turned();
}

let currentPack = '';

/**
 * Redness of RGBA pixels by hue and saturation: the share of pixels that are saturated
 * (S ≥ 0.35, V ≥ 0.2) with a hue within 30° of red, and the mean saturation.
 */
function redness(rgba: Uint8Array): { redShare: number; saturation: number } {
  let red = 0;
  let sat = 0;
  const n = rgba.length / 4;
  for (let i = 0; i < n; i++) {
    const r = (rgba[i * 4] ?? 0) / 255;
    const g = (rgba[i * 4 + 1] ?? 0) / 255;
    const b = (rgba[i * 4 + 2] ?? 0) / 255;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const s = max > 0 ? (max - min) / max : 0;
    sat += s;
    if (s < 0.35 || max < 0.2 || max === min) continue;
    let h =
      max === r
        ? ((g - b) / (max - min)) % 6
        : max === g
          ? (b - r) / (max - min) + 2
          : (r - g) / (max - min) + 4;
    h *= 60;
    if (h < 0) h += 360;
    if (h <= 30 || h >= 330) red++;
  }
  return { redShare: red / n, saturation: sat / n };
}

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await page?.close();
  await server?.stop();
  await browser?.close();
  cleanupTmp();
});

describe.runIf(existsSync(path.join(EMOJI, 'features.sqlite.br')))(
  'selections on the emoji pack',
  () => {
    beforeAll(async () => {
      home = tmpDir();
      models = tmpDir();
      cpSync(EMOJI, path.join(models, 'emoji'), { recursive: true });
      currentPack = 'orrery-emoji';
      await open();
    });

    it('ranks a lasso by activation on the input; one dial from it changes the output', async () => {
      await expect
        .poll(() => galaxyHook<boolean>(page, 'ready'), { timeout: 120_000, interval: 250 })
        .toBe(true);
      await page.keyboard.press('l');
      const rect = await galaxyHook<{ left: number; top: number; width: number; height: number }>(
        page,
        'canvasRect',
      );
      const cx = rect.left + rect.width * 0.45;
      const cy = rect.top + rect.height * 0.5;
      await page.mouse.move(cx - rect.width * 0.3, cy);
      await page.mouse.down();
      for (let k = 1; k <= 24; k++) {
        const a = (2 * Math.PI * k) / 24;
        await page.mouse.move(
          Math.round(cx - rect.width * 0.3 * Math.cos(a)),
          Math.round(cy + rect.height * 0.35 * Math.sin(a)),
        );
      }
      await page.mouse.up();
      const panel = page.locator('[data-testid="selection-panel"]');
      await expect.poll(() => panel.getAttribute('data-state'), { timeout: 60_000 }).toBe('ready');
      const selected = await galaxyHook<number[]>(page, 'selection');
      expect(selected.length).toBeGreaterThan(10);
      const rows = await panel.locator('.selection-list li').evaluateAll((els) =>
        els.map((e) => ({
          feature: Number(e.getAttribute('data-feature')),
          max: Number(e.getAttribute('data-max')),
        })),
      );
      expect(rows.length).toBe(Math.min(40, selected.length));
      // strongest first, and each value is what the worker reports as active for the input
      expect(rows.map((r) => r.max)).toEqual([...rows.map((r) => r.max)].sort((a, b) => b - a));
      const active = await apiCall<{ strongest: { feature: number; value: number }[] }>(
        page,
        'image.active',
        { packId: 'orrery-emoji', saeId: 'latent-1024', source: { example: 0 }, topK: 64 },
      );
      const strongest = new Map(active.strongest.map((s) => [s.feature, s.value]));
      const inLasso = active.strongest.filter((s) => selected.includes(s.feature));
      expect(rows[0]?.feature).toBe(inLasso[0]?.feature);
      for (const r of rows) expect(r.max).toBeCloseTo(strongest.get(r.feature) ?? 0, 4);
      // every row named, as index.titles reads the index (one call for the list, no cards)
      const named = await apiCall<{ titles: { feature: number; label: string }[] }>(
        page,
        'index.titles',
        { packId: 'orrery-emoji', saeId: 'latent-1024', features: rows.map((r) => r.feature) },
      );
      expect(named.titles.map((t) => t.feature)).toEqual(rows.map((r) => r.feature));
      await expect
        .poll(() =>
          panel
            .locator('.selection-list li .selection-title')
            .evaluateAll((els) => els.map((e) => e.getAttribute('title'))),
        )
        .toEqual(named.titles.map((t) => t.label));

      await panel.getByRole('button', { name: 'One dial from the selection' }).click();
      const [dial] = await composite('8 lasso features');
      expect(dial?.members?.map((m) => m.feature)).toEqual(rows.slice(0, 8).map((r) => r.feature));
      await expect
        .poll(async () =>
          Number(
            /pixel Δ ([\d.]+)/.exec(
              (await page.textContent('[data-testid="image-distance"]')) ?? '',
            )?.[1] ?? 0,
          ),
        )
        .toBeGreaterThan(1);
      for (const [w, h] of [
        [1280, 720],
        [1920, 1080],
      ] as const) {
        await page.setViewportSize({ width: w, height: h });
        await page.waitForTimeout(300);
        await page.screenshot({ path: path.join(artefacts, `selection-${w}x${h}.png`) });
      }
      await page.setViewportSize({ width: 1440, height: 900 });
      // the first open unpacks the shipped index: give a loaded machine room
    }, 300_000);

    it('saves a selection that survives a restart and exports it as JSON', async () => {
      const panel = page.locator('[data-testid="selection-panel"]');
      const count = (await galaxyHook<number[]>(page, 'selection')).length;
      await panel.getByLabel('Selection name').fill('Lassoed middle');
      await panel.getByRole('button', { name: 'Save selection' }).click();
      await expect
        .poll(() => panel.locator('[data-testid="selection-status"]').textContent())
        .toBe('Saved as “Lassoed middle”.');
      const [file] = await Promise.all([
        page.waitForEvent('download'),
        panel.getByRole('button', { name: 'JSON' }).click(),
      ]);
      const out = path.join(artefacts, 'selection.json');
      await file.saveAs(out);
      const json = JSON.parse(readFileSync(out, 'utf8')) as {
        orrery: string;
        name: string;
        features: { feature: number; max: number | null }[];
      };
      expect(json.orrery).toBe('selection');
      expect(json.name).toBe('Lassoed middle');
      expect(json.features).toHaveLength(count);

      await page.close();
      await server.stop();
      await open();
      // the pack is open again (a run has shown its output) before its saved selections are asked
      await page.waitForSelector('.compare.studio[data-running="false"]:not([data-runs="0"])', {
        timeout: 120_000,
      });
      const picker = page.getByLabel('Open a saved selection');
      await picker.waitFor({ timeout: 60_000 });
      await picker.selectOption('Lassoed middle');
      const reopened = page.locator('[data-testid="selection-panel"]');
      await expect
        .poll(() => reopened.getAttribute('data-state'), { timeout: 60_000 })
        .toBe('ready');
      expect(await reopened.locator('h2').textContent()).toContain('Lassoed middle');
      expect(await reopened.locator('h2').textContent()).toContain(
        `${count.toLocaleString('en-US')} features`,
      );
    }, 300_000);

    it('"more like these" with three red emoji makes a dial that reddens a cloud', async () => {
      const info = await apiCall<{ examples: { index: number; name: string }[] }>(
        page,
        'runtime.open',
        { packId: 'orrery-emoji' },
      );
      const index = (name: string): number =>
        info.examples.find((e) => e.name === name)?.index ?? -1;
      await page
        .locator('[data-testid="selection-panel"]')
        .getByLabel('Close the selection')
        .click();
      await page.getByRole('button', { name: 'More like these…' }).click();
      const like = page.locator('[data-testid="more-like-panel"]');
      for (const name of ['red heart', 'red apple', 'tomato']) {
        await like.getByLabel('Find pack examples').fill(name);
        await like.getByRole('button', { name: `Like ${name}`, exact: true }).click();
      }
      expect(await like.locator('[data-testid="chosen-like"] .chip').count()).toBe(3);
      await like.getByLabel('Find pack examples').fill('red');
      await page.setViewportSize({ width: 1280, height: 720 });
      await page.screenshot({ path: path.join(artefacts, 'selection-more-like-1280x720.png') });
      await page.setViewportSize({ width: 1440, height: 900 });
      await like.getByRole('button', { name: 'Make a dial' }).click();
      const dial = await composite('More like red heart');
      const cloud = index('cloud');
      expect(cloud).toBeGreaterThanOrEqual(0);
      const run = await apiCall<{ before: Uint8Array; after: Uint8Array }>(page, 'image.steer', {
        packId: 'orrery-emoji',
        source: { example: cloud },
        dials: dial,
      });
      const before = redness(run.before);
      const after = redness(run.after);
      console.log(
        `[selections] cloud red share ${before.redShare.toFixed(3)} → ${after.redShare.toFixed(3)}, ` +
          `saturation ${before.saturation.toFixed(3)} → ${after.saturation.toFixed(3)}`,
      );
      expect(after.redShare).toBeGreaterThan(before.redShare + 0.1);
      expect(after.saturation).toBeGreaterThan(before.saturation);
      await page.screenshot({ path: path.join(artefacts, 'selection-more-like-red.png') });
    });
  },
);

describe.runIf(existsSync(path.join(TEXT, 'features.sqlite.br')))(
  '"more like these" on the text pack',
  () => {
    beforeAll(async () => {
      await page?.close();
      await server?.stop();
      home = tmpDir();
      models = tmpDir();
      cpSync(TEXT, path.join(models, 'text-fortunes'), { recursive: true });
      currentPack = 'orrery-text-fortunes';
      await open();
    });

    it('three Bible texts make a dial that raises the share of Bible tokens', async () => {
      // Bible tokens: those more frequent (per token) in the pack's Bible examples than in the rest.
      const manifest = JSON.parse(readFileSync(path.join(TEXT, 'manifest.json'), 'utf8')) as {
        model: { tokenizer: string; vocab_size: number };
      };
      const tok = await TextTokenizer.load(
        path.join(TEXT, manifest.model.tokenizer),
        manifest.model.vocab_size,
      );
      const inBible = new Map<number, number>();
      const elsewhere = new Map<number, number>();
      let nb = 0;
      let ne = 0;
      for (const line of readFileSync(path.join(TEXT, 'examples.jsonl'), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const ex = JSON.parse(line) as { text: string; meta?: { source?: string } };
        const bible = ex.meta?.source === 'bible';
        for (const id of tok.encode(ex.text)) {
          const m = bible ? inBible : elsewhere;
          m.set(id, (m.get(id) ?? 0) + 1);
          if (bible) nb++;
          else ne++;
        }
      }
      const isBible = (id: number): boolean =>
        (inBible.get(id) ?? 0) / nb > (elsewhere.get(id) ?? 0) / ne;

      await page.getByRole('button', { name: 'More like these…' }).click();
      const like = page.locator('[data-testid="more-like-panel"]');
      await like.getByLabel('Find pack examples').fill('bible');
      // examples whose metadata says source=bible (a fortune that names the Bible does not)
      const verses = like.locator('.like-matches li').filter({ hasText: /· bible ·/ });
      await verses.first().waitFor();
      for (let k = 0; k < 3; k++) {
        await verses
          .nth(k)
          .getByRole('button', { name: /^Like / })
          .click();
      }
      expect(await like.locator('[data-testid="chosen-like"] .chip').count()).toBe(3);
      await like.getByRole('button', { name: 'Make a dial' }).click();
      const dial = await composite('More like');
      const gen = await apiCall<{
        before: { tokenIds: number[]; text: string };
        after: { tokenIds: number[]; text: string };
      }>(page, 'text.generate', {
        packId: 'orrery-text-fortunes',
        prompt: 'My computer program',
        dials: dial,
        sampling: { maxTokens: 32, temperature: 0, seed: 0 },
      });
      const share = (ids: number[]): number => ids.filter(isBible).length / Math.max(1, ids.length);
      const before = share(gen.before.tokenIds);
      const after = share(gen.after.tokenIds);
      console.log(
        `[selections] Bible-token share ${before.toFixed(2)} → ${after.toFixed(2)}: ` +
          `${JSON.stringify(gen.before.text)} → ${JSON.stringify(gen.after.text)}`,
      );
      expect(after).toBeGreaterThan(before + 0.1);
      await page.screenshot({ path: path.join(artefacts, 'selection-more-like-bible.png') });
    });
  },
);
