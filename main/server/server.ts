/**
 * The headless server: the built renderer over HTTP and the API over a WebSocket at /api,
 * on 127.0.0.1 by default. As Jupyter does it: a token always (the printed URL carries it in
 * its fragment, the page sends it in its first message), a Host allowlist against DNS
 * rebinding, and sockets only from an allowed Origin. A bad socket never takes the server down.
 * Calls with bulk replies (the map) may come as HTTP requests at /api/call, behind the same
 * gates (httpCall.ts).
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OrreryApp } from '../app/compose';
import { HTTP_CALL_PATH } from '../../preload/contract/httpCalls';
import { allowedHosts, hostAllowed, originAllowed } from './gate';
import { securityHeaders } from './security';
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
  /** The app, once composed (at once when given composed; else after the server listens). */
  app: Promise<OrreryApp>;
  close(): Promise<void>;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The next turn of the event loop: what is waiting (a page's request) goes first. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A loader app starts once the server has had no request for this long since it listened (if
 * nothing else starts it first). Loading holds the main thread (~0.15 s here, a second or more
 * at high load). A page that asks within IDLE_MS gets its HTML and scripts first. One that asks
 * later mostly finds the app loaded: a browser started with the URL (0.25-0.5 s), a person
 * pasting it. With 3 s, a launched browser's page waited ~0.3 s for the socket's welcome (cold
 * start). The cost: a tab opened 0.1-0.3 s after the URL in a browser already running waits
 * for the load to end for its HTML (responseStart 140-240 ms, against 20-50 ms with 3 s; the
 * galaxy's first frame came no later).
 */
const IDLE_MS = 100;

/**
 * Listens at once and serves the page's files. `app` may be a loader: loading holds the main
 * thread for a second or more, so it starts (with the socket's code) once a page's scripts have
 * been sent (no response left in flight), a socket asks for the API, or the server has had no
 * request for IDLE_MS since it listened, whichever comes first; the page runs its scripts while
 * the app loads. A socket waits for both.
 */
export async function startServer(
  app: OrreryApp | (() => Promise<OrreryApp>),
  options: ServerOptions,
): Promise<RunningServer> {
  if (!existsSync(options.rendererDir)) {
    throw new Error(
      `the renderer is not built (${options.rendererDir} is missing): run npm run build`,
    );
  }
  if (!/^\S{16,}$/.test(options.token))
    throw new Error('the token must be at least 16 characters without spaces');
  let hosts = new Set<string>();
  // When a loader app starts (see above): `go` once; `quiet` (re)arms the idle timer.
  let go: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (go = resolve));
  let idle: NodeJS.Timeout | null = null;
  let waiting = typeof app === 'function';
  // Static responses not yet sent, and whether a script was among those sent.
  let sending = 0;
  let scriptSent = false;
  const goNow = (): void => {
    if (idle) clearTimeout(idle);
    waiting = false;
    go();
  };
  const quiet = (): void => {
    if (idle) clearTimeout(idle);
    if (waiting) idle = setTimeout(goNow, IDLE_MS);
  };
  const httpServer = http.createServer((req, res) => {
    if (!hostAllowed(hosts, req.headers.host)) {
      res.writeHead(403, securityHeaders).end('Host not allowed');
      return;
    }
    const path = req.url ?? '/';
    if (path.split('?')[0] === HTTP_CALL_PATH) {
      // A bulk reply over HTTP (httpCall.ts): it needs the app, so the app starts now.
      goNow();
      void api
        .then(() => import('./httpCall'))
        .then((door) => door.serveCall(req, res, { app: composed, token: options.token, hosts }))
        .catch(() => {
          if (!res.headersSent) res.writeHead(500, securityHeaders);
          res.end();
        });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, securityHeaders).end();
      return;
    }
    if (idle) clearTimeout(idle);
    // Counted until the response has gone to the socket: the page asks for its scripts
    // together (index.js and the galaxy's modulepreload), and the app's load would hold the
    // rest of them back.
    sending++;
    if (/\.js(\?|$)/.test(path)) scriptSent = true;
    res.once('close', () => {
      sending--;
      if (sending > 0) return;
      if (scriptSent) goNow();
      else quiet();
    });
    void serveStatic(options.rendererDir, path, res);
  });
  httpServer.on('clientError', (_e, socket) => socket.destroy());

  const listening = new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => resolve());
  });
  // The socket's code (ws, the contract's schemas) loads, then on the next turn the app (if it
  // is a loader): a page's requests in between are served.
  let setApp: (a: OrreryApp | Promise<OrreryApp>) => void = () => undefined;
  const composed = new Promise<OrreryApp>((resolve) => (setApp = resolve));
  if (waiting) void listening.then(quiet);
  else goNow();
  const api = Promise.all([listening, started])
    .then(nextTurn)
    .then(async () => (await import('./apiSocket')).apiSocket(composed, options.token));
  if (typeof app === 'function') void api.then(nextTurn, nextTurn).then(() => setApp(app()));
  else setApp(app);
  // Failing to listen is thrown below; the app's own failure is the caller's (RunningServer.app).
  composed.catch(() => undefined);
  api.catch(() => undefined);

  httpServer.on('upgrade', (req, socket, head) => {
    goNow();
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
    void api.then((a) => a.upgrade(req, socket, head));
  });

  await listening;
  const port = (httpServer.address() as AddressInfo).port;
  hosts = allowedHosts(options.host, port);
  return {
    url: `http://${formatHost(options.host)}:${port}/#token=${encodeURIComponent(options.token)}`,
    port,
    app: composed,
    close: async () => {
      (await api.catch(() => null))?.close();
      // Every HTTP connection goes too, idle or not: a browser's kept-alive one held the close
      // (and the process's exit on SIGTERM) for seconds, a minute once.
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeAllConnections();
      await closed;
      await (await composed.catch(() => null))?.dispose();
    },
  };
}
