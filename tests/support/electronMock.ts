/**
 * A stand-in for the `electron` module, for unit tests that load the real Electron main entry:
 * it records what the entry asks of Electron (the window's options, app, web-contents and IPC
 * handlers, the permission and header handlers, the file dialog's calls) in `electronCalls`,
 * and answers the dialog with `electronCalls.picked`. A test mocks the module with it:
 *
 *   vi.mock('electron', () => import('../../support/electronMock').then((m) => m.electronModule));
 *
 * and imports `electronCalls` from here: the mock and the test share this one module.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type Handler = (...args: unknown[]) => unknown;

export const electronCalls = {
  appHandlers: new Map<string, Handler>(),
  contentsHandlers: new Map<string, Handler>(),
  ipcHandlers: new Map<string, Handler>(),
  windowOptions: null as null | Record<string, unknown>,
  windowOpenHandler: null as null | Handler,
  permissionHandler: null as null | Handler,
  permissionCheck: null as null | Handler,
  headersHandler: null as null | Handler,
  loadedUrl: '',
  /** app.getPath's folder: set it before the entry loads, else a new temp folder. */
  userData: '',
  /** What the system file dialog answers, and what it was asked. */
  picked: [] as string[],
  dialogCalls: [] as unknown[][],
};

const calls = electronCalls;

const webContents = {
  on: (event: string, fn: Handler) => calls.contentsHandlers.set(event, fn),
  setWindowOpenHandler: (fn: Handler) => {
    calls.windowOpenHandler = fn;
  },
  send: () => undefined,
  isDestroyed: () => false,
};

class BrowserWindow {
  webContents = webContents;
  constructor(options: Record<string, unknown>) {
    calls.windowOptions = options;
  }
  static getAllWindows(): unknown[] {
    return [];
  }
  static getFocusedWindow(): null {
    return null;
  }
  on(): void {}
  once(): void {}
  show(): void {}
  async loadURL(url: string): Promise<void> {
    calls.loadedUrl = url;
  }
}

export const electronModule = {
  app: {
    on: (event: string, fn: Handler) => calls.appHandlers.set(event, fn),
    whenReady: () => Promise.resolve(),
    getPath: () =>
      calls.userData || (calls.userData = mkdtempSync(path.join(os.tmpdir(), 'orrery-electron-'))),
    isPackaged: false,
    quit: () => undefined,
  },
  BrowserWindow,
  dialog: {
    showOpenDialog: (...args: unknown[]) => {
      calls.dialogCalls.push(args);
      return Promise.resolve({ canceled: calls.picked.length === 0, filePaths: calls.picked });
    },
  },
  ipcMain: {
    handle: (channel: string, fn: Handler) => calls.ipcHandlers.set(channel, fn),
    removeHandler: (channel: string) => calls.ipcHandlers.delete(channel),
  },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (fn: Handler) => {
        calls.permissionHandler = fn;
      },
      setPermissionCheckHandler: (fn: Handler) => {
        calls.permissionCheck = fn;
      },
      webRequest: {
        onHeadersReceived: (fn: Handler) => {
          calls.headersHandler = fn;
        },
      },
    },
  },
};
