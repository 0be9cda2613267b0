/**
 * The headless server's API socket: a WebSocket at /api whose first message must say the
 * token, then calls in and replies and events out. Loaded by server.ts after it is listening
 * (ws and the contract's schemas take a while to load), so the page's files are served while
 * this part and the app are still loading; a socket's messages wait for the app.
 */
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { encodeMessageParts, fail, limits, type Reply } from '../../preload/contract';
import type { OrreryApp } from '../app/compose';
import { parseHello } from './gate';
import { tokenMatches } from './security';

/** How long a socket may stay open without saying the token. */
const HELLO_MS = 10_000;

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

export interface ApiSocket {
  /** Takes an upgrade request the server has already checked (path, Host, Origin). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Drops every socket. */
  close(): void;
}

export function apiSocket(app: Promise<OrreryApp>, token: string): ApiSocket {
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.frameBytes });
  wss.on('error', () => undefined);
  const sockets = new Set<WebSocket>();

  const connected = (ws: WebSocket): void => {
    sockets.add(ws);
    let unsubscribe: (() => void) | null = null;
    let closed = false;
    /** The first message is the hello; nothing after a wrong one (or none in time) is read. */
    let state: 'hello' | 'refused' | 'open' = 'hello';
    const refuse = (message: string): void => {
      state = 'refused';
      const reply: Reply = { type: 'reply', id: null, result: fail('forbidden', message) };
      send(ws, reply);
      ws.close(1008, 'token required');
    };
    const helloTimer = setTimeout(() => refuse('no token was sent'), HELLO_MS);
    // ws has already begun closing with the frame's status (1009 too big, 1007 not UTF-8);
    // terminating here would reset the socket mid-send and the client would see 1006.
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      if (state === 'refused') return;
      if (state === 'hello') {
        clearTimeout(helloTimer);
        const hello = isBinary ? null : parseHello(asBytes(data));
        if (!tokenMatches(token, hello)) return refuse('the token is missing or wrong');
        state = 'open';
        // Messages after the hello wait for the app in order (the same promise's callbacks).
        void app.then((a) => {
          if (closed) return;
          unsubscribe = a.events.subscribe((m) => send(ws, m));
          send(ws, { type: 'welcome' });
        });
        return;
      }
      const bytes = asBytes(data);
      const message = isBinary
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      void app.then((a) => a.dispatcher.handleMessage(message)).then((reply) => send(ws, reply));
    });
    ws.on('close', () => {
      closed = true;
      clearTimeout(helloTimer);
      unsubscribe?.();
      sockets.delete(ws);
    });
  };

  return {
    upgrade: (req, socket, head) => wss.handleUpgrade(req, socket, head, connected),
    close: () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
    },
  };
}
