/**
 * A text run's streamed tokens are shown in the animation frame that flushes them
 * (renderer/src/steer/useSteerRun.ts), not one frame later: in the page, each text.token event
 * of the after row registers an animation-frame callback right after the app's own handler ran
 * (so after the app's flush, in the same frame), which reads the after text. Every reading must
 * show the run streaming, its after text beginning with the tokens received so far. A flush
 * that only scheduled a React render would leave the DOM a frame behind: the reading would see
 * the last run's text, not streaming.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedApp } from '../support/sharedApp';
import { fixturePacks } from '../support/tmp';

const { page } = sharedApp([path.join(fixturePacks, 'text-tiny')]);

/**
 * Installed before the app loads: wraps the API socket's onmessage (the page's bridge). Once
 * a run has streamed a token, the next reply (and whatever follows it) reaches the app two
 * animation frames late, so that every run streams across a frame whatever the machine's
 * speed; each after token then takes a reading in the frame that flushes it.
 */
const frameProbe = `(() => {
  const checks = (window.__streamChecks = []);
  let job = null;
  let after = [];
  let streaming = false;
  let held = null;
  const isReply = (data) => {
    if (typeof data === 'string') return data.includes('"type":"reply"');
    const n = Math.min(new DataView(data).getUint32(4, true), 4096);
    return new TextDecoder().decode(new Uint8Array(data, 8, n)).includes('"type":"reply"');
  };
  const token = (data) => {
    if (typeof data !== 'string' || !data.includes('"text.token"')) return;
    const t = JSON.parse(data).payload;
    if (!t || t.row !== 'after') return;
    if (t.jobId !== job) { job = t.jobId; after = []; }
    streaming = true;
    after[t.index] = t.text;
    const expected = after.join('');
    requestAnimationFrame(() => {
      const view = document.querySelector('.compare-view');
      const el = document.querySelector('[data-testid="text-after"]');
      const prompt = el && el.querySelector('.prompt-text');
      const shown = el ? el.textContent.slice(prompt ? prompt.textContent.length : 0) : '';
      const state = view ? view.dataset.streaming : null;
      checks.push({ ok: state === 'true' && shown.startsWith(expected), expected, shown, streaming: state });
    });
  };
  const own = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
  Object.defineProperty(WebSocket.prototype, 'onmessage', {
    get() { return own.get.call(this); },
    set(fn) {
      const deliver = (e) => { const r = fn(e); token(e.data); return r; };
      own.set.call(this, (e) => {
        if (held) { held.push(e); return; }
        if (streaming && isReply(e.data)) {
          streaming = false;
          held = [e];
          requestAnimationFrame(() => requestAnimationFrame(() => {
            const queue = held;
            held = null;
            for (const m of queue) deliver(m);
          }));
          return;
        }
        return deliver(e);
      });
    },
  });
})()`;

interface Check {
  ok: boolean;
  expected: string;
  shown: string;
  streaming: string | null;
}

async function settled(): Promise<void> {
  await expect
    .poll(async () => page.getAttribute('.compare.studio', 'data-running'), { timeout: 60_000 })
    .toBe('false');
}

const runs = async (): Promise<number> =>
  Number(await page.getAttribute('.compare.studio', 'data-runs'));

describe('streamed text (headless, chromium)', () => {
  it('each after token is on the page in the frame that flushes it', async () => {
    await page.addInitScript(frameProbe);
    await page.reload();
    await page.waitForSelector('body[data-orrery-ready="true"]');
    await page.selectOption('#pack-picker', 'orrery-text-tiny');
    await expect.poll(runs, { timeout: 60_000 }).toBeGreaterThan(0);
    await settled();
    await page.getByRole('button', { name: 'Side by side' }).click();

    await page.fill('input[aria-label="Feature number"]', '5');
    await page.getByRole('button', { name: 'Add dial' }).click();
    const knob = page.locator('[data-testid="dial-5"] .knob');
    await knob.waitFor();
    const box = await knob.boundingBox();
    if (!box) throw new Error('no knob');
    await page.evaluate('window.__streamChecks.length = 0');
    const before = await runs();
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width / 2, y);
    await page.mouse.down();
    for (let i = 1; i <= 6; i++)
      await page.mouse.move(box.x + box.width / 2 + 30 * i, y, { steps: 2 });
    await page.mouse.up();
    await expect.poll(runs, { timeout: 60_000 }).toBeGreaterThan(before);
    await settled();

    const checks = (await page.evaluate('window.__streamChecks')) as Check[];
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });
});
