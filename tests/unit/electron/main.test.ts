/**
 * Loads the real Electron main entry with `electron` mocked, and checks what it asks of
 * Electron: the window's security options, blocked navigation and windows, denied
 * permissions, the CSP header, and an IPC door that validates every payload.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { limits } from '../../../preload/contract';
import { electronCalls as h } from '../../support/electronMock';

vi.mock('electron', () => import('../../support/electronMock').then((m) => m.electronModule));

beforeAll(async () => {
  delete process.env.ELECTRON_RENDERER_URL;
  await import('../../../main/electron/main');
  await vi.waitFor(() => expect(h.loadedUrl).not.toBe(''));
});

describe('Electron main entry', () => {
  it('opens an isolated, sandboxed window without Node', () => {
    const prefs = (h.windowOptions?.webPreferences ?? {}) as Record<string, unknown>;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(String(prefs.preload)).toMatch(/out[\\/]preload[\\/]index\.js$/);
    expect(h.loadedUrl).toMatch(/^file:.*out\/renderer\/index\.html$/);
  });

  it('blocks navigation away from the app and every new window', () => {
    const nav = h.contentsHandlers.get('will-navigate');
    expect(nav).toBeDefined();
    const away = { preventDefault: vi.fn() };
    nav?.(away, 'https://evil.example/');
    expect(away.preventDefault).toHaveBeenCalled();
    const home = { preventDefault: vi.fn() };
    nav?.(home, h.loadedUrl);
    expect(home.preventDefault).not.toHaveBeenCalled();
    const redirect = { preventDefault: vi.fn() };
    h.contentsHandlers.get('will-redirect')?.(redirect, 'http://127.0.0.1:1/');
    expect(redirect.preventDefault).toHaveBeenCalled();
    expect(h.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    const webview = { preventDefault: vi.fn() };
    h.contentsHandlers.get('will-attach-webview')?.(webview);
    expect(webview.preventDefault).toHaveBeenCalled();
    expect(h.appHandlers.has('web-contents-created')).toBe(true);
  });

  it('denies every permission request and sets a strict CSP', () => {
    const callback = vi.fn();
    h.permissionHandler?.({}, 'media', callback);
    expect(callback).toHaveBeenCalledWith(false);
    expect(h.permissionCheck?.()).toBe(false);
    const done = vi.fn();
    h.headersHandler?.({ responseHeaders: {} }, done);
    const csp = (done.mock.calls[0]?.[0] as { responseHeaders: Record<string, string[]> })
      .responseHeaders['Content-Security-Policy'];
    expect(csp?.[0]).toContain("default-src 'self'");
    expect(csp?.[0]).toContain("object-src 'none'");
  });

  it('validates every IPC payload before a service sees it', async () => {
    const handle = h.ipcHandlers.get('orrery:call');
    expect(handle).toBeDefined();
    const fromApp = { senderFrame: { url: h.loadedUrl } };
    const good = (await handle?.(fromApp, 'app.health', {})) as { ok: boolean };
    expect(good.ok).toBe(true);
    const bad = (await handle?.(fromApp, 'packs.import', { from: 12 })) as {
      ok: boolean;
      error: { code: string };
    };
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    const unknown = (await handle?.(fromApp, 'fs.readFile', { path: '/etc/passwd' })) as {
      error: { code: string };
    };
    expect(unknown.error.code).toBe('unknown_call');
    const foreign = (await handle?.(
      { senderFrame: { url: 'https://evil.example/' } },
      'app.health',
      {},
    )) as {
      ok: boolean;
      error: { code: string };
    };
    expect(foreign).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    const huge = (await handle?.(fromApp, 'blobs.put', {
      bytes: new Uint8Array(limits.frameBytes + 1),
    })) as { error: { code: string; message: string } };
    expect(huge.error.code).toBe('too_large');
    expect(huge.error.message).toContain('frameBytes');
    const bytes = new Uint8Array([137, 80, 78, 71]);
    const put = (await handle?.(fromApp, 'blobs.put', { bytes, name: 'x.png' })) as {
      ok: boolean;
      value: { hash: string; size: number };
    };
    expect(put).toMatchObject({ ok: true, value: { size: 4 } });
  });

  it('grants the path picked in the system file dialog, and refuses paths it did not pick', async () => {
    const handle = h.ipcHandlers.get('orrery:call');
    const fromApp = { senderFrame: { url: h.loadedUrl } };
    const dir = mkdtempSync(path.join(os.tmpdir(), 'orrery-picked-'));
    const labels = { packId: 'no-pack', saeId: 'sae', from: path.join(dir, 'labels.jsonl') };
    const before = (await handle?.(fromApp, 'index.importLabels', labels)) as {
      error: { code: string };
    };
    expect(before.error.code).toBe('forbidden');
    h.picked = [labels.from];
    const chosen = await handle?.(fromApp, 'files.choose', { use: 'labels', kind: 'file' });
    expect(chosen).toEqual({ ok: true, value: { path: labels.from } });
    expect(h.dialogCalls.at(-1)?.[0]).toMatchObject({
      properties: ['openFile', 'dontAddToRecent'],
    });
    const after = (await handle?.(fromApp, 'index.importLabels', labels)) as {
      ok: boolean;
      error?: { code: string };
    };
    expect(after.error?.code).not.toBe('forbidden');
    const elsewhere = (await handle?.(fromApp, 'packs.import', { from: labels.from })) as {
      error: { code: string };
    };
    expect(elsewhere.error.code).toBe('forbidden');
    h.picked = [];
    expect(await handle?.(fromApp, 'files.choose', { use: 'corpus', kind: 'dir' })).toEqual({
      ok: true,
      value: { path: null },
    });
    expect(h.dialogCalls.at(-1)?.[0]).toMatchObject({
      properties: ['openDirectory', 'dontAddToRecent'],
    });
  });
});
