/**
 * The top bar's dialogs as actions, so the button, the keyboard (Ctrl/⌘+O) and the tests open
 * them the same way: "Open model…" (a Hugging Face folder with its SAEs) and "Import pack…".
 */
import { mod, type NoPayload, registerActions } from './registry';

declare module './registry' {
  interface ActionPayloads {
    'open-model': NoPayload;
    'import-pack': NoPayload;
  }
}

export function registerDialogActions(show: {
  openModel: () => void;
  importPack: () => void;
}): () => void {
  return registerActions([
    {
      name: 'open-model',
      label: 'Open a model…',
      shortcut: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'o',
      perform: () => show.openModel(),
    },
    {
      name: 'import-pack',
      label: 'Import a model pack…',
      perform: () => show.importPack(),
    },
  ]);
}
