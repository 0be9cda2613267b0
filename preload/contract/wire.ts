/**
 * Envelopes shared by both transports (Electron IPC and the headless WebSocket).
 * A request names a call and carries its raw input; main validates the input against
 * the call's schema. Events are pushed to every client.
 */
import { z } from 'zod';
import type { Result } from './result';
import type { EventName, EventPayload } from './api';
import { limits } from './limits';

export { ipcChannels } from './channels';

export const RequestSchema = z
  .object({
    type: z.literal('call'),
    id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    call: z.string().max(limits.idLength),
    input: z.unknown(),
  })
  .strict();
export type Request = z.infer<typeof RequestSchema>;

export type Reply = { type: 'reply'; id: number | null; result: Result<unknown> };
export type EventMessageOf<K extends EventName> = {
  type: 'event';
  event: K;
  payload: EventPayload<K>;
};
/** Any event message, discriminated by `event`. */
export type EventMessage = { [K in EventName]: EventMessageOf<K> }[EventName];
export type ServerMessage = Reply | EventMessage;
