/**
 * The headless transport: an OrreryBridge over the server's WebSocket. Calls made while the
 * socket is down wait for it (up to a limit); a lost socket reconnects with backoff and
 * fails the calls in flight with code "unavailable".
 */
import type { OrreryBridge, Result, ServerMessage } from '../../../preload/contract';

type EventListener = Parameters<OrreryBridge['onEvent']>[0];

export function apiUrl(location: Location): string {
  const token = new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

export class WebSocketBridge implements OrreryBridge {
  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (r: Result<unknown>) => void>();
  private readonly listeners = new Set<EventListener>();
  private opened: Promise<void> | null = null;
  private retryMs = 250;

  constructor(private readonly url: string) {}

  private connect(): Promise<void> {
    if (this.opened) return this.opened;
    this.opened = new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.socket = ws;
      ws.onopen = () => {
        this.retryMs = 250;
        resolve();
      };
      ws.onmessage = (e) => this.receive(String(e.data));
      ws.onclose = () => {
        this.socket = null;
        this.opened = null;
        for (const [id, settle] of this.pending) {
          this.pending.delete(id);
          settle({
            ok: false,
            error: { code: 'unavailable', message: 'the connection to Orrery was lost' },
          });
        }
        reject(new Error('closed'));
        setTimeout(() => void this.connect().catch(() => undefined), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 5000);
      };
    });
    return this.opened;
  }

  private receive(text: string): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(text) as ServerMessage;
    } catch {
      return;
    }
    if (message.type === 'event') {
      for (const l of this.listeners) l(message);
    } else if (message.id !== null) {
      const settle = this.pending.get(message.id);
      this.pending.delete(message.id);
      settle?.(message.result);
    }
  }

  async call(name: string, input: unknown): Promise<Result<unknown>> {
    try {
      await this.connect();
    } catch {
      return {
        ok: false,
        error: { code: 'unavailable', message: 'cannot reach the Orrery server' },
      };
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.socket?.send(JSON.stringify({ type: 'call', id, call: name, input }));
    });
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    void this.connect().catch(() => undefined);
    return () => this.listeners.delete(listener);
  }
}
