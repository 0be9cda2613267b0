/**
 * Electron entry: one window on the built renderer, the API over IPC. Services come from the
 * same composition root as the headless server.
 */
import { app, BrowserWindow, dialog, ipcMain, session } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { composeApp, type OrreryApp } from '../app/compose';
import { findAppRoot, resolveConfig } from '../app/config';
import { systemChooser } from './fileDialog';
import { forwardEvents, registerIpc } from './ipc';
import { lockDownContents, lockDownSession, windowOptions } from './security';

export function rendererUrl(appRoot: string): string {
  const dev = process.env.ELECTRON_RENDERER_URL;
  if (dev && !app.isPackaged) return dev;
  return pathToFileURL(path.join(appRoot, 'out', 'renderer', 'index.html')).toString();
}

export async function createMainWindow(orrery: OrreryApp, appRoot: string): Promise<BrowserWindow> {
  const url = rendererUrl(appRoot);
  const win = new BrowserWindow(windowOptions(path.join(appRoot, 'out', 'preload', 'index.js')));
  lockDownContents(win.webContents, url);
  const stopEvents = forwardEvents(orrery, win.webContents);
  win.on('closed', stopEvents);
  win.once('ready-to-show', () => win.show());
  await win.loadURL(url);
  return win;
}

export function startDesktop(): void {
  // Refuse navigation and new windows for every web contents, including ones we never made.
  app.on('web-contents-created', (_e, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  void app.whenReady().then(async () => {
    const appRoot = findAppRoot(__dirname);
    const config = resolveConfig('desktop', appRoot, {
      home: path.join(app.getPath('userData'), 'orrery'),
    });
    // Paths come from the system file dialog, granted for their use (main/files).
    const orrery = composeApp(config, {
      chooser: systemChooser(dialog, () => BrowserWindow.getFocusedWindow()),
      warmReaders: true,
    });
    lockDownSession(session.defaultSession);
    const unregister = registerIpc(ipcMain, orrery, rendererUrl(appRoot));
    await createMainWindow(orrery, appRoot);
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) void createMainWindow(orrery, appRoot);
    });
    app.on('window-all-closed', () => {
      if (process.platform !== 'darwin') app.quit();
    });
    app.on('will-quit', () => {
      unregister();
      void orrery.dispose();
    });
  });
}

startDesktop();
