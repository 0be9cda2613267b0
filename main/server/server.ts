/**
 * The headless server: the built renderer over HTTP and the API over a WebSocket at /api,
 * on 127.0.0.1 by default. As Jupyter does it: a token always (the printed URL carries it in
 * its fragment, the page sends it in its first message), a Host allowlist against DNS
 * rebinding, and sockets only from an allowed Origin. A bad socket never takes the server down.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { encodeMessageParts, fail, limits, type Reply } from '../../preload/contract';
import type { OrreryApp } from '../app/compose';
import { allowedHosts, hostAllowed, originAllowed, parseHello } from './gate';
import { securityHeaders, tokenMatches } from './security';
import { serveStatic } from './staticFiles';

export interface ServerOptions {
  host: string;
  port: number;
  /** Required of every socket's first message; at least 16 non-space characters. */
  token: string;
  rendererDir: string;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** How long a socket may stay open without saying the token. */
const HELLO_MS = 10_000;

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** A frame at least this big goes out as fragments of its own pieces, never joined (no copy). */
const FRAGMENT_BYTES = 1 << 20;

function send(ws: WebSocket, message: unknown): void {
  if (ws.readyState !== ws.OPEN) return;
  const wire = encodeMessageParts(message);
  if (typeof wire === 'string') return ws.send(wire, { binary: false });
  const size = wire.reduce((n, p) => n + p.byteLength, 0);
  if (size < FRAGMENT_BYTES) return ws.send(Buffer.concat(wire, size), { binary: true });
  // One WebSocket message in fragments, written back to back: nothing else can come between.
  wire.forEach((part, i) => ws.send(part, { binary: true, fin: i === wire.length - 1 }));
}

function asBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

export async function startServer(app: OrreryApp, options: ServerOptions): Promise<RunningServer> {
  if (!existsSync(options.rendererDir)) {
    throw new Error(
      `the renderer is not built (${options.rendererDir} is missing): run npm run build`,
    );
  }
  if (!/^\S{16,}$/.test(options.token))
    throw new Error('the token must be at least 16 characters without spaces');
  let hosts = new Set<string>();
  const httpServer = http.createServer((req, res) => {
    if (!hostAllowed(hosts, req.headers.host)) {
      res.writeHead(403, securityHeaders).end('Host not allowed');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, securityHeaders).end();
      return;
    }
    void serveStatic(options.rendererDir, req.url ?? '/', res);
  });
  httpServer.on('clientError', (_e, socket) => socket.destroy());
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.frameBytes });
  wss.on('error', () => undefined);
  const sockets = new Set<WebSocket>();

  httpServer.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (
      url.pathname !== '/api' ||
      !hostAllowed(hosts, req.headers.host) ||
      !originAllowed(hosts, req.headers.host, req.headers.origin)
    ) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws));
  });

  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    let unsubscribe: (() => void) | null = null;
    const refuse = (message: string): void => {
      const reply: Reply = { type: 'reply', id: null, result: fail('forbidden', message) };
      send(ws, reply);
      ws.close(1008, 'token required');
    };
    const helloTimer = setTimeout(() => refuse('no token was sent'), HELLO_MS);
    // ws has already begun closing with the frame's status (1009 too big, 1007 not UTF-8);
    // terminating here would reset the socket mid-send and the client would see 1006.
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      if (unsubscribe === null) {
        clearTimeout(helloTimer);
        const token = isBinary ? null : parseHello(asBytes(data));
        if (!tokenMatches(options.token, token)) return refuse('the token is missing or wrong');
        unsubscribe = app.events.subscribe((m) => send(ws, m));
        send(ws, { type: 'welcome' });
        return;
      }
      const bytes = asBytes(data);
      const message = isBinary
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      void app.dispatcher.handleMessage(message).then((reply) => send(ws, reply));
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      unsubscribe?.();
      sockets.delete(ws);
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  hosts = allowedHosts(options.host, port);
  return {
    url: `http://${formatHost(options.host)}:${port}/#token=${encodeURIComponent(options.token)}`,
    port,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await app.dispose();
    },
  };
}
