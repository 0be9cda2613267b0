/**
 * The headless transport: an OrreryBridge over the server's WebSocket. The first message says
 * the token the page's URL carries in its fragment (never in a URL the server logs). Calls and
 * replies that carry bytes go as binary frames (preload/contract/binary.ts); calls whose replies
 * are bulk bytes go as HTTP requests (./httpCall.ts). Calls made while
 * the socket is down wait for it; a lost socket reconnects with backoff and fails the calls in
 * flight with code "unavailable".
 */
import { httpCall } from './httpCall';
import type { OrreryBridge, Result, ServerMessage } from '../../../preload/contract';
import { decodeFrame, encodeMessage, wireSize } from '../../../preload/contract/binary';
import { httpCalls } from '../../../preload/contract/httpCalls';
import { limits, overLimit } from '../../../preload/contract/limits';

type EventListener = Parameters<OrreryBridge['onEvent']>[0];

export function apiUrl(location: Location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api`;
}

/** The launch token from the page URL's fragment (`#token=…`), if any. */
export function tokenOf(location: Location): string {
  return new URLSearchParams(location.hash.replace(/^#/, '')).get('token') ?? '';
}

export class WebSocketBridge implements OrreryBridge {
  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (r: Result<unknown>) => void>();
  private readonly listeners = new Set<EventListener>();
  private opened: Promise<void> | null = null;
  private retryMs = 250;
  private welcomed = false;

  /**
   * `origin`: where calls with bulk replies go over HTTP (httpCall.ts), or null to send every
   * call on the socket.
   */
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly origin: string | null = null,
  ) {}

  /** The socket is open and the server has welcomed it. */
  private isOpen(): boolean {
    return this.welcomed && this.socket?.readyState === WebSocket.OPEN;
  }

  /** Opens the socket now, before a first call needs it (the page's start). */
  open(): void {
    void this.connect().catch(() => undefined);
  }

  private connect(): Promise<void> {
    if (this.opened) return this.opened;
    this.opened = new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(this.url);
      ws.binaryType = 'arraybuffer';
      this.socket = ws;
      this.welcomed = false;
      ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token: this.token }));
      ws.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
        if (!this.welcomed) {
          this.welcomed = typeof e.data === 'string' && e.data.includes('"welcome"');
          if (this.welcomed) {
            this.retryMs = 250;
            resolve();
          }
          return;
        }
        this.receive(e.data);
      };
      ws.onclose = (e) => {
        this.socket = null;
        this.welcomed = false;
        this.opened = null;
        for (const [id, settle] of this.pending) {
          this.pending.delete(id);
          settle({
            ok: false,
            error: { code: 'unavailable', message: 'the connection to Orrery was lost' },
          });
        }
        reject(new Error('closed'));
        if (e.code === 1008) return; // refused (the token): retrying will not help
        setTimeout(() => void this.connect().catch(() => undefined), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 5000);
      };
    });
    return this.opened;
  }

  private receive(data: string | ArrayBuffer): void {
    let message: ServerMessage;
    try {
      message = (
        typeof data === 'string' ? JSON.parse(data) : decodeFrame(new Uint8Array(data))
      ) as ServerMessage;
    } catch {
      return;
    }
    if (message.type === 'event') {
      for (const l of this.listeners) l(message);
    } else if (message.type === 'reply' && message.id !== null) {
      const settle = this.pending.get(message.id);
      this.pending.delete(message.id);
      settle?.(message.result);
    }
  }

  async call(name: string, input: unknown): Promise<Result<unknown>> {
    const id = this.nextId++;
    // A bulk reply (the map) comes faster as a response body, and needs no open socket.
    if (this.origin !== null && httpCalls.has(name))
      return httpCall(this.origin, this.token, id, name, input);
    const wire = encodeMessage({ type: 'call', id, call: name, input });
    const size = wireSize(wire);
    const limit = typeof wire === 'string' ? 'messageBytes' : 'frameBytes';
    if (size > limits[limit] && (typeof wire !== 'string' || new Blob([wire]).size > limits[limit]))
      return { ok: false, error: { code: 'too_large', message: overLimit(name, size, limit) } };
    // On an open socket the call goes out now, in the caller's task (a dial's pointermove
    // sends before React renders the move); otherwise once the socket is open.
    if (!this.isOpen()) {
      try {
        await this.connect();
      } catch {
        return {
          ok: false,
          error: { code: 'unavailable', message: 'cannot reach the Orrery server' },
        };
      }
    }
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.socket?.send(wire);
    });
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    void this.connect().catch(() => undefined);
    return () => this.listeners.delete(listener);
  }
}
