/**
 * The desktop's system file dialog, as the composition root's Chooser: the person picks a
 * folder or a file, and the path is granted (main/files) for the use it was picked for. The
 * page never names a path of its own on the desktop.
 */
import type { BrowserWindow, Dialog, OpenDialogOptions } from 'electron';
import type { ChooseRequest, Chooser } from '../files/fileService';

const FILTERS: Record<ChooseRequest['use'], OpenDialogOptions['filters']> = {
  pack: [{ name: 'Zipped pack', extensions: ['zip'] }],
  corpus: [],
  labels: [
    { name: 'Neuronpedia explanations', extensions: ['jsonl', 'json', 'gz'] },
    { name: 'All files', extensions: ['*'] },
  ],
  model: [
    { name: 'Texts (JSON lines)', extensions: ['jsonl'] },
    { name: 'All files', extensions: ['*'] },
  ],
};

const TITLES: Record<ChooseRequest['use'], string> = {
  pack: 'Choose a model pack',
  corpus: 'Choose a folder of examples',
  labels: 'Choose a Neuronpedia explanations export',
  model: 'Choose a Hugging Face model folder',
};

export function dialogOptions(request: ChooseRequest): OpenDialogOptions {
  const folder = request.kind === 'dir';
  return {
    title: request.title ?? TITLES[request.use],
    properties: folder ? ['openDirectory', 'dontAddToRecent'] : ['openFile', 'dontAddToRecent'],
    ...(folder ? {} : { filters: FILTERS[request.use] }),
  };
}

/** A Chooser over Electron's dialog, modal to the window that asked when there is one. */
export function systemChooser(dialog: Dialog, window: () => BrowserWindow | null): Chooser {
  return async (request) => {
    const win = window();
    const options = dialogOptions(request);
    const r = win
      ? await dialog.showOpenDialog(win, options)
      : await dialog.showOpenDialog(options);
    if (r.canceled) return null;
    return r.filePaths[0] ?? null;
  };
}
