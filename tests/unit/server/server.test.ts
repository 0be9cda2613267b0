import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { composeApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import { parseServerArgs } from '../../../main/server/args';
import { startServer, type RunningServer } from '../../../main/server/server';
import { cleanupTmp, repoRoot, tmpDir } from '../../support/tmp';

const running: RunningServer[] = [];

afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
  cleanupTmp();
});

async function serve(token: string | null = null): Promise<RunningServer> {
  const rendererDir = tmpDir();
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Orrery</title>');
  mkdirSync(path.join(rendererDir, 'assets'));
  writeFileSync(path.join(rendererDir, 'assets', 'a.js'), 'console.log(1)');
  const app = composeApp(resolveConfig('headless', repoRoot, { home: tmpDir(), models: tmpDir() }));
  const s = await startServer(app, { host: '127.0.0.1', port: 0, token, rendererDir });
  running.push(s);
  return s;
}

function socket(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

function ask(ws: WebSocket, message: string): Promise<unknown> {
  return new Promise((resolve) => {
    ws.once('message', (data: WebSocket.RawData) => resolve(JSON.parse(data.toString())));
    ws.send(message);
  });
}

describe('headless server', () => {
  it('serves the renderer with a strict CSP and nothing outside its folder', async () => {
    const s = await serve();
    const base = `http://127.0.0.1:${s.port}`;
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("object-src 'none'");
    expect(await page.text()).toContain('<title>Orrery</title>');
    expect((await fetch(`${base}/assets/a.js`)).headers.get('content-type')).toContain(
      'javascript',
    );
    expect((await fetch(`${base}/..%2f..%2fetc%2fpasswd`)).status).toBeGreaterThanOrEqual(400);
    expect((await fetch(`${base}/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });

  it('answers calls over the WebSocket; a malformed message gets ok:false and the next call works', async () => {
    const s = await serve();
    const ws = await socket(`ws://127.0.0.1:${s.port}/api`);
    const bad = (await ask(ws, '{"type":"call","id":1,"call":"packs.list","input":{"x":1}}')) as {
      result: { ok: boolean; error: { code: string; message: string } };
    };
    expect(bad.result.ok).toBe(false);
    expect(bad.result.error.code).toBe('bad_input');
    expect(bad.result.error.message).toMatch(/packs\.list/);
    const garbage = (await ask(ws, 'garbage')) as { id: null; result: { ok: boolean } };
    expect(garbage).toMatchObject({ id: null, result: { ok: false } });
    const good = (await ask(
      ws,
      JSON.stringify({ type: 'call', id: 2, call: 'app.health', input: {} }),
    )) as {
      id: number;
      result: { ok: boolean; value: { onnx: { ok: boolean } } };
    };
    expect(good.id).toBe(2);
    expect(good.result.ok).toBe(true);
    expect(good.result.value.onnx.ok).toBe(true);
    ws.close();
  });

  it('refuses sockets from other origins', async () => {
    const s = await serve();
    await expect(
      socket(`ws://127.0.0.1:${s.port}/api`, { Origin: 'http://evil.example' }),
    ).rejects.toThrow('403');
    const own = await socket(`ws://127.0.0.1:${s.port}/api`, {
      Origin: `http://127.0.0.1:${s.port}`,
    });
    own.close();
  });

  it('requires the token when one was given', async () => {
    const token = 'a-long-enough-token-123';
    const s = await serve(token);
    expect(s.url).toContain(`#token=${token}`);
    await expect(socket(`ws://127.0.0.1:${s.port}/api`)).rejects.toThrow('403');
    await expect(socket(`ws://127.0.0.1:${s.port}/api?token=wrong`)).rejects.toThrow('403');
    const ws = await socket(`ws://127.0.0.1:${s.port}/api?token=${token}`);
    ws.close();
  });
});

describe('server arguments', () => {
  it('defaults to loopback and parses --port', () => {
    expect(parseServerArgs([])).toMatchObject({ host: '127.0.0.1', port: 5178, token: null });
    expect(parseServerArgs(['--port', '0']).port).toBe(0);
    expect(parseServerArgs(['--port=8123']).port).toBe(8123);
  });

  it('refuses another address without a token, and bad values', () => {
    expect(() => parseServerArgs(['--host', '0.0.0.0'])).toThrow(/token/);
    expect(() => parseServerArgs(['--host', '0.0.0.0', '--token', 'short'])).toThrow(
      /16 characters/,
    );
    expect(parseServerArgs(['--host', '0.0.0.0', '--token', 'x'.repeat(16)]).host).toBe('0.0.0.0');
    expect(() => parseServerArgs(['--port', '70000'])).toThrow(/--port/);
    expect(() => parseServerArgs(['--frobnicate'])).toThrow(/unknown option/);
  });
});
