/** Fan-out of server events to every connected client (IPC windows, WebSocket sockets). */
import type { EventMessage, EventName, EventPayload } from '../../preload/contract';

export type EventListener = (message: EventMessage) => void;

export class EventHub {
  private readonly listeners = new Set<EventListener>();

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit<K extends EventName>(event: K, payload: EventPayload<K>): void {
    const message = { type: 'event', event, payload } as EventMessage;
    for (const l of this.listeners) l(message);
  }
}
