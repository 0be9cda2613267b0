/**
 * What the preload exposes as `window.orrery` in the desktop app. The headless WebSocket
 * client implements the same shape, so the renderer cannot tell the two apart.
 */
import type { Result } from './result';
import type { ServerMessage } from './wire';

/** The part of a dropped File the bridge needs to name (the contract has no DOM types). */
export interface DroppedFile {
  readonly name: string;
  readonly size: number;
}

export interface OrreryBridge {
  call(name: string, input: unknown): Promise<Result<unknown>>;
  onEvent(listener: (message: Extract<ServerMessage, { type: 'event' }>) => void): () => void;
  /** The file-system path of a file dropped on the page (desktop only: a browser gives none,
   * so the headless client leaves this out). */
  pathForFile?(file: DroppedFile): string;
}
