/**
 * The headless server's HTTP door for bulk replies (main/server/httpCall.ts): index.map POSTed
 * with the token in a header comes back as the socket's ORB1 frame, byte for byte; requests
 * without the token, from another origin or site, naming another host, with a body a form could
 * send, too big, or naming a call the door does not take are refused before any call runs.
 */
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import { startServer, type RunningServer } from '../../../main/server/server';
import {
  decodeFrame,
  encodeMessage,
  HTTP_CALL_PATH,
  limits,
  TOKEN_HEADER,
  type CallOutput,
  type Reply,
} from '../../../preload/contract';
import { MAP_PACK_ID, MAP_SAE_ID, writeMapIndex } from '../../support/mapIndex';
import { modelsWith } from '../../support/composed';
import { cleanupTmp, repoRoot, tmpDir } from '../../support/tmp';

const TOKEN = 'http-door-token-0123456789';
const N = 5000;
let server: RunningServer;
let base: string;

beforeAll(async () => {
  const rendererDir = tmpDir();
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Orrery</title>');
  mkdirSync(path.join(rendererDir, 'assets'));
  const home = tmpDir();
  writeMapIndex(home, N);
  const app = composeApp(
    resolveConfig('headless', repoRoot, { home, models: modelsWith(['text-tiny']) }),
  );
  server = await startServer(app, { host: '127.0.0.1', port: 0, token: TOKEN, rendererDir });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.close();
  cleanupTmp();
});

const mapCall = JSON.stringify({
  type: 'call',
  id: 7,
  call: 'index.map',
  input: { packId: MAP_PACK_ID, saeId: MAP_SAE_ID },
});

interface Answer {
  status: number;
  type: string;
  body: Buffer;
}

/** A raw request (any Host, Origin or Sec-Fetch-Site; fetch would not let us set them all). */
function post(
  headers: Record<string, string>,
  body: string | Buffer = mapCall,
  method = 'POST',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: HTTP_CALL_PATH,
        method,
        headers: {
          Host: `127.0.0.1:${server.port}`,
          'Content-Type': 'application/json',
          [TOKEN_HEADER]: TOKEN,
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : body);
  });
}

function reply(a: Answer): Reply {
  return (
    a.type.startsWith('application/octet-stream')
      ? decodeFrame(new Uint8Array(a.body))
      : JSON.parse(a.body.toString('utf8'))
  ) as Reply;
}

describe('HTTP door for bulk replies', () => {
  it('answers index.map from the page’s origin with the socket’s frame, byte for byte', async () => {
    const a = await post({ Origin: base, 'Sec-Fetch-Site': 'same-origin' });
    expect(a.status).toBe(200);
    expect(a.type).toBe('application/octet-stream');
    const r = reply(a);
    expect(r).toMatchObject({ type: 'reply', id: 7, result: { ok: true } });
    const map = (r.result as { ok: true; value: CallOutput<'index.map'> }).value;
    expect(map.count).toBe(N);
    expect(map.positions).toBeInstanceOf(Uint16Array);
    expect(map.positions.length).toBe(N * 3);
    // The same call through the dispatcher, as the socket would send it.
    const app = await server.app;
    const viaSocket = await app.dispatcher.handleMessage(mapCall);
    expect(Buffer.from(encodeMessage(viaSocket) as Uint8Array).equals(a.body)).toBe(true);
  });

  it('takes a call from a client that is not a browser (no Origin) when the token is right', async () => {
    const a = await post({});
    expect(a.status).toBe(200);
    expect(reply(a).result.ok).toBe(true);
  });

  it('refuses a missing or wrong token, another origin or site, and another Host', async () => {
    const refused = async (headers: Record<string, string>, status: number): Promise<void> => {
      const a = await post(headers);
      expect(a.status).toBe(status);
      // the door's own refusals say why as a reply (the Host gate answers plain text before it)
      if (a.type.startsWith('application/json'))
        expect(reply(a).result).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      else expect(a.body.toString('utf8')).toBe('Host not allowed');
    };
    await refused({ [TOKEN_HEADER]: '' }, 403);
    await refused({ [TOKEN_HEADER]: TOKEN.slice(0, -1) + 'x' }, 403);
    await refused({ [TOKEN_HEADER]: TOKEN + 'x' }, 403);
    await refused({ Origin: 'http://evil.example' }, 403);
    await refused({ Origin: `http://evil.example:${server.port}` }, 403);
    await refused({ Origin: base, 'Sec-Fetch-Site': 'cross-site' }, 403);
    await refused({ Origin: base, 'Sec-Fetch-Site': 'same-site' }, 403);
    // DNS rebinding: another site's name as Host (and Origin) is refused before anything else.
    await refused(
      { Host: `evil.example:${server.port}`, Origin: `http://evil.example:${server.port}` },
      403,
    );
  });

  it('refuses a body a form could send, a body over the limit, other methods and other calls', async () => {
    expect((await post({ 'Content-Type': 'text/plain' })).status).toBe(415);
    const big = Buffer.alloc(limits.messageBytes + 1024, 0x20);
    const tooBig = await post({}, big);
    expect(tooBig.status).toBe(413);
    expect(reply(tooBig).result).toMatchObject({ ok: false, error: { code: 'too_large' } });
    expect((await post({}, '', 'GET')).status).toBe(405);
    const other = await post(
      {},
      JSON.stringify({ type: 'call', id: 1, call: 'packs.list', input: {} }),
    );
    expect(other.status).toBe(400);
    expect(reply(other).result).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    const notJson = await post({}, '{not json');
    expect(notJson.status).toBe(400);
  });

  it('passes the input through the contract: a bad input is a bad_input reply', async () => {
    const a = await post(
      {},
      JSON.stringify({ type: 'call', id: 2, call: 'index.map', input: { packId: 3 } }),
    );
    expect(a.status).toBe(200);
    expect(reply(a)).toMatchObject({ id: 2, result: { ok: false, error: { code: 'bad_input' } } });
  });
});
