/**
 * Folders dropped on a dialog ("Open model…", "Add SAE…"): in the desktop app each dropped
 * File's path comes from the preload (`window.orrery.pathForFile`, Electron's webUtils); a
 * browser gives a page no path for a dropped file, so there the hook says, in one line, to
 * type the path instead.
 */
import { useState, type DragEvent } from 'react';

export const DROP_IN_BROWSER =
  'Dropping folders works in the desktop app; here, type or paste the folder’s path.';

export interface FolderDrop {
  /** Spread on the element that takes drops. */
  handlers: {
    onDragOver: (e: DragEvent) => void;
    onDrop: (e: DragEvent) => void;
  };
  /** The one-line note after a drop that gave no path, else null. */
  note: string | null;
}

export function useFolderDrop(onPaths: (paths: string[]) => void): FolderDrop {
  const [note, setNote] = useState<string | null>(null);
  return {
    note,
    handlers: {
      onDragOver: (e) => {
        if (e.dataTransfer.types.includes('Files')) e.preventDefault();
      },
      onDrop: (e) => {
        const files = Array.from(e.dataTransfer.files);
        if (files.length === 0) return;
        e.preventDefault();
        const pathFor = window.orrery?.pathForFile;
        const paths = pathFor ? files.map((f) => pathFor(f)).filter(Boolean) : [];
        if (paths.length === 0) setNote(DROP_IN_BROWSER);
        else {
          setNote(null);
          onPaths(paths);
        }
      },
    },
  };
}
