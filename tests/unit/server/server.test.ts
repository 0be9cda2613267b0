import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { composeApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import { isLoopback, newToken, parseServerArgs } from '../../../main/server/args';
import { decodeFrame, encodeMessage, limits } from '../../../preload/contract';
import { startServer, type RunningServer } from '../../../main/server/server';
import { cleanupTmp, repoRoot, tmpDir } from '../../support/tmp';

const running: RunningServer[] = [];

afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
  cleanupTmp();
});

const TOKEN = 'test-token-0123456789abcdef';

async function serve(token: string = TOKEN, host = '127.0.0.1'): Promise<RunningServer> {
  const rendererDir = tmpDir();
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Orrery</title>');
  mkdirSync(path.join(rendererDir, 'assets'));
  writeFileSync(path.join(rendererDir, 'assets', 'a.js'), 'console.log(1)');
  const app = composeApp(resolveConfig('headless', repoRoot, { home: tmpDir(), models: tmpDir() }));
  const s = await startServer(app, { host, port: 0, token, rendererDir });
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

function ask(ws: WebSocket, message: string | Uint8Array): Promise<unknown> {
  return new Promise((resolve) => {
    ws.once('message', (data: WebSocket.RawData, isBinary: boolean) =>
      resolve(isBinary ? decodeFrame(data as Buffer) : JSON.parse(data.toString())),
    );
    ws.send(message);
  });
}

/** A socket that has said the token, ready for calls. */
async function authed(port: number, token = TOKEN): Promise<WebSocket> {
  const ws = await socket(`ws://127.0.0.1:${port}/api`);
  expect(await ask(ws, JSON.stringify({ type: 'hello', token }))).toEqual({ type: 'welcome' });
  return ws;
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));
}

/** A raw HTTP request with any Host header (fetch will not let a page set Host). */
function rawGet(port: number, host: string, extra: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/', headers: { Host: host, ...extra } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
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

  it('with an app still loading, serves the page and holds a socket until the app is composed', async () => {
    const rendererDir = tmpDir();
    writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Orrery</title>');
    let compose: () => void = () => undefined;
    const loading = new Promise<void>((resolve) => (compose = resolve));
    let composedAt = -1;
    let step = 0;
    const s = await startServer(
      async () => {
        await loading;
        composedAt = ++step;
        return composeApp(
          resolveConfig('headless', repoRoot, { home: tmpDir(), models: tmpDir() }),
        );
      },
      { host: '127.0.0.1', port: 0, token: TOKEN, rendererDir },
    );
    running.push(s);
    // The page's files come while the app has not been composed.
    const page = await fetch(`http://127.0.0.1:${s.port}/`);
    expect(await page.text()).toContain('<title>Orrery</title>');
    expect(composedAt).toBe(-1);
    // A socket's hello and a call sent at once are answered in order, once the app is there.
    const ws = await socket(`ws://127.0.0.1:${s.port}/api`);
    const seen: unknown[] = [];
    const two = new Promise<void>((resolve) =>
      ws.on('message', (data: WebSocket.RawData) => {
        seen.push({ at: ++step, ...(JSON.parse(data.toString()) as object) });
        if (seen.length === 2) resolve();
      }),
    );
    ws.send(JSON.stringify({ type: 'hello', token: TOKEN }));
    ws.send(JSON.stringify({ type: 'call', id: 1, call: 'packs.list', input: {} }));
    compose();
    await two;
    expect(composedAt).toBe(1);
    expect(seen).toMatchObject([
      { at: 2, type: 'welcome' },
      { at: 3, type: 'reply', id: 1, result: { ok: true } },
    ]);
    expect(await s.app).toBeDefined();
    ws.close();
  });

  it('closes with a connection still open (a request half sent, a kept-alive one): dropped, not waited for', async () => {
    const s = await serve();
    const base = `http://127.0.0.1:${s.port}`;
    // a kept-alive connection after a whole request
    const agent = new http.Agent({ keepAlive: true });
    const page = await new Promise<number>((resolve, reject) =>
      http
        .get(`${base}/`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
        .on('error', reject),
    );
    expect(page).toBe(200);
    // a request whose headers never end (what the server's own timeouts leave for a minute)
    const half = net.connect(s.port, '127.0.0.1');
    await new Promise<void>((resolve) => half.once('connect', () => resolve()));
    half.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const dropped = new Promise<void>((resolve) => half.once('close', () => resolve()));
    half.on('error', () => undefined);
    running.splice(running.indexOf(s), 1);
    await s.close();
    await dropped;
    agent.destroy();
  });

  it('answers calls over the WebSocket; a malformed message gets ok:false and the next call works', async () => {
    const s = await serve();
    const ws = await authed(s.port);
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

  it('refuses sockets from other origins and requests naming another host (DNS rebinding)', async () => {
    const s = await serve();
    const port = s.port;
    await expect(
      socket(`ws://127.0.0.1:${port}/api`, { Origin: 'http://evil.example' }),
    ).rejects.toThrow('403');
    // A page at evil.example rebound to 127.0.0.1 sends its own name as Host and Origin.
    await expect(
      socket(`ws://127.0.0.1:${port}/api`, {
        Host: `evil.example:${port}`,
        Origin: `http://evil.example:${port}`,
      }),
    ).rejects.toThrow('403');
    expect(await rawGet(port, `evil.example:${port}`)).toBe(403);
    expect(await rawGet(port, `127.0.0.1:${port}`)).toBe(200);
    expect(await rawGet(port, `localhost:${port}`)).toBe(200);
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const own = await socket(`ws://127.0.0.1:${port}/api`, { Origin: origin });
      own.close();
    }
  });

  it('requires the token in the first message, also on loopback, and drops sockets without it', async () => {
    const s = await serve();
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/#token=${TOKEN}`);
    const wrong = await socket(`ws://127.0.0.1:${s.port}/api`);
    const refused = (await ask(
      wrong,
      JSON.stringify({ type: 'hello', token: 'x'.repeat(26) }),
    )) as {
      result: { error: { code: string } };
    };
    expect(refused.result.error.code).toBe('forbidden');
    expect(await closed(wrong)).toBe(1008);
    // A call before the token is refused, not answered.
    const early = await socket(`ws://127.0.0.1:${s.port}/api`);
    const reply = (await ask(
      early,
      JSON.stringify({ type: 'call', id: 1, call: 'packs.list', input: {} }),
    )) as { result: { ok: boolean; error: { code: string } } };
    expect(reply.result).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // The token in a query string counts for nothing.
    const query = await socket(`ws://127.0.0.1:${s.port}/api?token=${TOKEN}`);
    const q = (await ask(
      query,
      JSON.stringify({ type: 'call', id: 1, call: 'packs.list', input: {} }),
    )) as {
      result: { ok: boolean };
    };
    expect(q.result.ok).toBe(false);
    const ws = await authed(s.port);
    ws.close();
  });

  it('takes bytes as a binary frame, keeps them by hash, and survives a frame over the limit', async () => {
    const s = await serve();
    const ws = await authed(s.port);
    const bytes = new Uint8Array(3_000_000).map((_, i) => (i * 7) & 255);
    const put = (await ask(
      ws,
      encodeMessage({
        type: 'call',
        id: 5,
        call: 'blobs.put',
        input: { bytes, name: 'a.png' },
      }) as Uint8Array,
    )) as { id: number; result: { ok: boolean; value: { hash: string; size: number } } };
    expect(put.result.ok).toBe(true);
    expect(put.result.value.size).toBe(3_000_000);
    expect(put.result.value.hash).toMatch(/^[0-9a-f]{64}$/);
    const got = (await ask(
      ws,
      JSON.stringify({
        type: 'call',
        id: 6,
        call: 'blobs.get',
        input: { hash: put.result.value.hash },
      }),
    )) as { result: { ok: boolean; value: { bytes: Uint8Array } } };
    expect(got.result.ok).toBe(true);
    expect(Buffer.from(got.result.value.bytes).equals(Buffer.from(bytes))).toBe(true);
    // A text message over messageBytes is refused by name; the socket stays usable.
    const big = (await ask(ws, 'x'.repeat(limits.messageBytes + 1))) as {
      result: { error: { code: string; message: string } };
    };
    expect(big.result.error.code).toBe('too_large');
    expect(big.result.error.message).toContain('messageBytes');
    // A frame over the socket's cap closes that socket only; the server goes on.
    const victim = await authed(s.port);
    const closing = closed(victim);
    victim.send(new Uint8Array(limits.frameBytes + 16));
    expect(await closing).toBe(1009);
    const after = await authed(s.port);
    const health = (await ask(
      after,
      JSON.stringify({ type: 'call', id: 7, call: 'packs.list', input: {} }),
    )) as {
      result: { ok: boolean };
    };
    expect(health.result.ok).toBe(true);
    after.close();
    ws.close();
  });
});

describe('server arguments', () => {
  it('defaults to loopback and parses --port', () => {
    expect(parseServerArgs([])).toMatchObject({ host: '127.0.0.1', port: 5178, token: null });
    expect(newToken()).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(newToken()).not.toBe(newToken());
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
    expect(() => parseServerArgs(['--host', '0.0.0.0', '--token', ' '.repeat(16)])).toThrow(
      /no spaces/,
    );
    expect(() => parseServerArgs(['--host', '127.evil.example'])).toThrow(/IP address/);
    expect(() => parseServerArgs(['--host', 'evil.example'])).toThrow(/IP address/);
    expect(isLoopback('127.0.0.2')).toBe(true);
    expect(isLoopback('127.0.0.1.evil.example')).toBe(false);
    expect(parseServerArgs(['--host', '[::1]']).host).toBe('::1');
  });
});
