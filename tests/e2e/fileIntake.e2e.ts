/**
 * A file dropped or pasted on a run's input panel (renderer/src/steer/fileIntake.ts): an image
 * pasted on the page (not into a text field) is opened like one picked. An image dropped on
 * an image pack's panel is uploaded and run like one opened through the picker; a file of
 * another kind is refused in words, nothing sent and nothing run; a file dropped elsewhere on
 * the page is refused by the window (a browser would open it in the app's place). The drag is real DOM drag
 * events carrying a real File (DataTransfer), as a browser makes for a drop from the desktop.
 * Screenshots of the panel at 1280×720 and 1920×1080.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artefacts } from '../support/browser';
import { sharedApp } from '../support/sharedApp';
import { fixturePacks } from '../support/tmp';

const { page } = sharedApp([path.join(fixturePacks, 'emoji-tiny')]);

const runs = async (): Promise<number> =>
  Number(await page.getAttribute('.compare.studio', 'data-runs'));

async function settled(): Promise<void> {
  await expect
    .poll(() => page.getAttribute('.compare.studio', 'data-running'), { timeout: 60_000 })
    .toBe('false');
}

/**
 * Drags a file over the input panel and, unless `leave`, drops it. `kind` 'png' makes a 48×48
 * picture on a canvas; 'text' a few words of plain text.
 */
function drag(kind: 'png' | 'text', name: string, leave = false): Promise<string> {
  return page.evaluate(`(async () => {
    let blob;
    if (${JSON.stringify(kind)} === 'png') {
      const c = document.createElement('canvas');
      c.width = c.height = 48;
      const g = c.getContext('2d');
      g.fillStyle = '#d03030';
      g.fillRect(0, 0, 48, 48);
      g.fillStyle = '#30a0d0';
      g.fillRect(12, 12, 24, 24);
      blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    } else blob = new Blob(['not a picture'], { type: 'text/plain' });
    const dt = new DataTransfer();
    dt.items.add(new File([blob], ${JSON.stringify(name)}, { type: blob.type }));
    const panel = document.querySelector('[data-testid="input-panel"]');
    const fire = (type) =>
      panel.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    fire('dragover');
    // React renders a drag-over (not a discrete event) in a task of its own: wait for it
    for (let i = 0; i < 100 && !panel.className.includes('drop-over'); i++)
      await new Promise((r) => requestAnimationFrame(r));
    const during = panel.className;
    fire(${leave ? "'dragleave'" : "'drop'"});
    return during;
  })()`);
}

describe('a file dropped on the input panel (headless, chromium)', () => {
  it('uploads and runs a dropped or pasted image; refuses a dropped text file in words', async () => {
    await page.selectOption('#pack-picker', 'orrery-emoji-tiny');
    await page.waitForSelector('[data-testid="image-before"]', { timeout: 60_000 });
    await expect.poll(runs, { timeout: 60_000 }).toBeGreaterThan(0);
    await settled();

    // dragging over marks the panel; leaving it clears the mark
    expect(await drag('png', 'square.png', true)).toContain('drop-over');
    expect(await page.getAttribute('[data-testid="input-panel"]', 'class')).not.toContain(
      'drop-over',
    );

    const before = await runs();
    expect(await drag('png', 'square.png')).toContain('drop-over');
    await expect.poll(runs, { timeout: 60_000 }).toBeGreaterThan(before);
    await settled();
    expect(await page.locator('.upload-status').count()).toBe(0);
    // the run's input is the dropped file, not an example
    expect(await page.inputValue('select[aria-label="Example"]')).toBe('');
    expect(await page.getAttribute('[data-testid="input-panel"]', 'class')).not.toContain(
      'drop-over',
    );

    const after = await runs();
    await drag('text', 'notes.txt');
    await expect
      .poll(() => page.textContent('.upload-status.error'), { timeout: 10_000 })
      .toContain('Could not open notes.txt: this panel opens a PNG, JPEG or WebP image');
    expect(await runs()).toBe(after);
    expect(await page.inputValue('select[aria-label="Example"]')).toBe('');

    // dropped anywhere else, a file is refused (no drop shown, nothing opened in the app's
    // place: the window's guard, renderer/src/components/dropGuard.ts) and nothing runs
    const elsewhere = await page.evaluate(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['x'], 'elsewhere.png', { type: 'image/png' }));
      const at = document.querySelector('.compare.studio');
      const over = new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true });
      at.dispatchEvent(over);
      const drop = new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true });
      at.dispatchEvent(drop);
      return { over: over.defaultPrevented, effect: dt.dropEffect, drop: drop.defaultPrevented };
    })()`);
    expect(elsewhere).toEqual({ over: true, effect: 'none', drop: true });
    expect(await runs()).toBe(after);

    // a picture pasted on the page is opened; pasted into a text field, it is the field's
    const paste = (selector: string): Promise<boolean> =>
      page.evaluate(`(async () => {
        const c = document.createElement('canvas');
        c.width = c.height = 40;
        const g = c.getContext('2d');
        g.fillStyle = '#20c060';
        g.fillRect(0, 0, 40, 40);
        const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
        const dt = new DataTransfer();
        dt.items.add(new File([blob], 'image.png', { type: 'image/png' }));
        const e = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
        document.querySelector(${JSON.stringify(selector)}).dispatchEvent(e);
        return e.defaultPrevented;
      })()`);
    expect(await paste('input[aria-label="Feature number"]')).toBe(false);
    expect(await runs()).toBe(after);
    const pasted = await runs();
    expect(await paste('.compare.studio')).toBe(true);
    await expect.poll(runs, { timeout: 60_000 }).toBeGreaterThan(pasted);
    await settled();
    expect(await page.locator('.upload-status').count()).toBe(0);
    await expect
      .poll(() => page.textContent('[data-testid="history"]'), { timeout: 10_000 })
      .toContain('image.png');

    for (const [width, height] of [
      [1280, 720],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width, height });
      await page.screenshot({ path: path.join(artefacts, `drop-file-${width}.png`) });
    }
    await page.setViewportSize({ width: 1280, height: 720 });
  });
});
