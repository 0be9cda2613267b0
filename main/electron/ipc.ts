/**
 * Electron transport: one invoke channel for calls, one push channel for events. Calls from
 * frames that are not the app's own page, and payloads over the limit table, are refused before
 * the dispatcher sees them. Bytes (uploads, pixels) cross as typed arrays by structured clone
 * (those in shared memory copied first: unshared.ts).
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import {
  fail,
  ipcChannels,
  limits,
  overLimit,
  payloadSize,
  type Result,
} from '../../preload/contract';
import type { OrreryApp } from '../app/compose';
import { isAppUrl } from './security';
import { unshared } from './unshared';

export function registerIpc(ipcMain: IpcMain, app: OrreryApp, appUrl: string): () => void {
  ipcMain.handle(
    ipcChannels.call,
    async (event: IpcMainInvokeEvent, name: unknown, input: unknown): Promise<Result<unknown>> => {
      const frameUrl = event.senderFrame?.url ?? '';
      if (!isAppUrl(frameUrl, appUrl))
        return fail('invalid_request', 'calls are only accepted from the Orrery window');
      // The same limit table as the WebSocket: structured clone has no cap of its own.
      const size = payloadSize(input, limits.frameBytes);
      if (size > limits.frameBytes)
        return fail('too_large', overLimit('the call', size, 'frameBytes'));
      // shared memory cannot cross to the page's process (unshared.ts)
      return unshared(await app.dispatcher.dispatch(name, input));
    },
  );
  return () => ipcMain.removeHandler(ipcChannels.call);
}

export function forwardEvents(app: OrreryApp, contents: WebContents): () => void {
  return app.events.subscribe((message) => {
    if (!contents.isDestroyed()) contents.send(ipcChannels.event, message);
  });
}
