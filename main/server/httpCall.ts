/**
 * The headless server's HTTP door for bulk replies (preload/contract/httpCalls.ts): POST
 * /api/call with the socket's call message as a JSON body and the launch token in a header;
 * the answer is the socket's reply, an ORB1 frame written in its pieces (no join, no copy) or
 * JSON. The same gates as the socket, in the same order: Host (server.ts), Origin, token; and
 * two that keep other sites' pages out without relying on the token alone: a fetch from another
 * site says so (Sec-Fetch-Site), and a JSON body or the token header cannot be sent cross-site
 * without a CORS preflight, which this server never grants. Loaded lazily with the socket's code.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  encodeMessageParts,
  fail,
  httpCalls,
  limits,
  overLimit,
  TOKEN_HEADER,
  type ErrorCode,
  type Reply,
} from '../../preload/contract';
import type { OrreryApp } from '../app/compose';
import { originAllowed } from './gate';
import { securityHeaders, tokenMatches } from './security';

export interface HttpCallOptions {
  app: Promise<OrreryApp>;
  token: string;
  /** The `host:port` names this server answers to (gate.ts allowedHosts). */
  hosts: ReadonlySet<string>;
}

function answer(res: ServerResponse, status: number, reply: Reply): void {
  const wire = encodeMessageParts(reply);
  const headers = { ...securityHeaders, 'Cache-Control': 'no-store' };
  if (typeof wire === 'string') {
    const body = Buffer.from(wire, 'utf8');
    res.writeHead(status, {
      ...headers,
      'Content-Type': 'application/json',
      'Content-Length': body.byteLength,
    });
    res.end(body);
    return;
  }
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/octet-stream',
    'Content-Length': wire.reduce((n, p) => n + p.byteLength, 0),
  });
  for (const part of wire) res.write(part);
  res.end();
}

function refuse(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  answer(res, status, { type: 'reply', id: null, result: fail(code, message) });
}

/** The request's body as text, or null once it passes `max` bytes (the rest is not read). */
function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.byteLength;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        resolve(null);
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    req.on('error', reject);
  });
}

/** The call a message names, if it is a JSON object with a string `call`. */
function callOf(text: string): string | null {
  try {
    const m = JSON.parse(text) as { call?: unknown } | null;
    return typeof m?.call === 'string' ? m.call : null;
  } catch {
    return null;
  }
}

export async function serveCall(
  req: IncomingMessage,
  res: ServerResponse,
  o: HttpCallOptions,
): Promise<void> {
  if (req.method !== 'POST') {
    res.writeHead(405, { ...securityHeaders, Allow: 'POST' }).end();
    return;
  }
  if (!originAllowed(o.hosts, req.headers.host, req.headers.origin))
    return refuse(res, 403, 'forbidden', 'calls are only taken from Orrery’s own page');
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin')
    return refuse(res, 403, 'forbidden', 'calls are only taken from Orrery’s own page');
  const given = req.headers[TOKEN_HEADER];
  if (!tokenMatches(o.token, typeof given === 'string' ? given : null))
    return refuse(res, 403, 'forbidden', 'the token is missing or wrong');
  if (!/^application\/json(;|$)/i.test(req.headers['content-type'] ?? ''))
    return refuse(res, 415, 'invalid_request', 'a call is a JSON message (application/json)');
  const text = await readBody(req, limits.messageBytes);
  if (text === null)
    return refuse(
      res,
      413,
      'too_large',
      overLimit('the message', limits.messageBytes + 1, 'messageBytes'),
    );
  const call = callOf(text);
  if (call === null || !httpCalls.has(call))
    return refuse(
      res,
      400,
      'invalid_request',
      `${call ?? 'this message'} is not taken over HTTP: use the API socket`,
    );
  const app = await o.app;
  answer(res, 200, await app.dispatcher.handleMessage(text));
}
