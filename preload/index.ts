/**
 * The sandboxed preload: exposes `window.orrery` (the OrreryBridge) and nothing else. It
 * only forwards: main validates every payload against the contract. `pathForFile` gives a
 * dropped file's path (Electron's webUtils), which the page cannot read itself.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { OrreryBridge } from './contract/bridge';
import { ipcChannels } from './contract/channels';

const bridge: OrreryBridge = {
  call: (name, input) => ipcRenderer.invoke(ipcChannels.call, name, input),
  onEvent: (listener) => {
    const handler = (_event: IpcRendererEvent, message: Parameters<typeof listener>[0]): void =>
      listener(message);
    ipcRenderer.on(ipcChannels.event, handler);
    return () => {
      ipcRenderer.removeListener(ipcChannels.event, handler);
    };
  },
  // A dropped folder's path ("Open model…", "Add SAE…"): the page sees only File objects.
  // (what crosses contextBridge from the page is the page's File)
  pathForFile: (file) => webUtils.getPathForFile(file as File),
};

contextBridge.exposeInMainWorld('orrery', bridge);
