/**
 * The headless server: the built renderer over HTTP and the API over a WebSocket at /api,
 * on 127.0.0.1 by default. Sockets must come from the page's own origin, and carry the
 * token when one was given.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { OrreryApp } from '../app/compose';
import { securityHeaders, tokenMatches } from './security';
import { serveStatic } from './staticFiles';

export interface ServerOptions {
  host: string;
  port: number;
  token: string | null;
  rendererDir: string;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startServer(app: OrreryApp, options: ServerOptions): Promise<RunningServer> {
  if (!existsSync(options.rendererDir)) {
    throw new Error(
      `the renderer is not built (${options.rendererDir} is missing): run npm run build`,
    );
  }
  const httpServer = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, securityHeaders).end();
      return;
    }
    void serveStatic(options.rendererDir, req.url ?? '/', res);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 2_000_000 });
  const sockets = new Set<WebSocket>();

  httpServer.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const host = req.headers.host ?? '';
    const origin = req.headers.origin;
    const sameOrigin = origin === undefined || origin === `http://${host}`;
    if (
      url.pathname !== '/api' ||
      !sameOrigin ||
      !tokenMatches(options.token, url.searchParams.get('token'))
    ) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws));
  });

  wss.on('connection', (ws) => {
    sockets.add(ws);
    const unsubscribe = app.events.subscribe((m) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    });
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      void app.dispatcher.handleText(text).then((reply) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(reply));
      });
    });
    ws.on('close', () => {
      unsubscribe();
      sockets.delete(ws);
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const tokenPart = options.token ? `#token=${encodeURIComponent(options.token)}` : '';
  return {
    url: `http://${formatHost(options.host)}:${port}/${tokenPart}`,
    port,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await app.dispose();
    },
  };
}
