/**
 * The renderer's one client interface. It picks the transport once (the preload's bridge in
 * the desktop app, the WebSocket in headless mode) and types every call by the contract.
 */
import type {
  CallInput,
  CallName,
  CallOutput,
  EventName,
  EventPayload,
  OrreryBridge,
  Result,
} from '../../../preload/contract';
import { apiUrl, tokenOf, WebSocketBridge } from './wsBridge';

declare global {
  interface Window {
    orrery?: OrreryBridge;
    /** The page's own API as Results, for end-to-end tests and scripts (no more than the page has). */
    __orreryCall?: (name: string, input: unknown) => Promise<Result<unknown>>;
  }
}

export interface OrreryClient {
  readonly transport: 'ipc' | 'websocket';
  call<K extends CallName>(name: K, input: CallInput<K>): Promise<Result<CallOutput<K>>>;
  on<K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void): () => void;
}

export function createClient(
  bridge: OrreryBridge,
  transport: OrreryClient['transport'],
): OrreryClient {
  return {
    transport,
    call: (name, input) => bridge.call(name, input) as never,
    on: (event, listener) =>
      bridge.onEvent((m) => {
        if (m.event === event) listener(m.payload as never);
      }),
  };
}

let client: OrreryClient | null = null;
let socket: WebSocketBridge | null = null;

export function getClient(): OrreryClient {
  if (!client) {
    const bridge: OrreryBridge =
      window.orrery ??
      (socket = new WebSocketBridge(
        apiUrl(window.location),
        tokenOf(window.location),
        window.location.origin,
      ));
    client = createClient(bridge, window.orrery ? 'ipc' : 'websocket');
    window.__orreryCall = (name, input) => bridge.call(name, input);
  }
  return client;
}

/** Opens the API socket now (headless mode; the desktop app's bridge is always there). */
export function openClientEarly(): void {
  getClient();
  socket?.open();
}
