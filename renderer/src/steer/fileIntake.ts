/**
 * What a run's input panel takes from a picker, a drop or a paste: an image (PNG, JPEG, WebP)
 * for an image pack, a font (TrueType, OpenType) for a glyph pack. One list, read by the file
 * input's `accept` and by a drop or paste, which a browser does not filter: a file of another
 * kind is refused here, in words, before any byte is sent.
 */
import { useEffect, useEffectEvent, useState, type DragEvent } from 'react';

export type FileKind = 'image' | 'font';

const TYPES: Record<FileKind, { mime: string[]; ext: string[]; words: string }> = {
  image: {
    mime: ['image/png', 'image/jpeg', 'image/webp'],
    ext: ['.png', '.jpg', '.jpeg', '.webp'],
    words: 'a PNG, JPEG or WebP image',
  },
  font: {
    mime: ['font/ttf', 'font/otf'],
    ext: ['.ttf', '.otf'],
    words: 'a TrueType or OpenType font (.ttf, .otf)',
  },
};

/** The file input's accept attribute. */
export const acceptOf = (kind: FileKind): string =>
  [...TYPES[kind].mime, ...TYPES[kind].ext].join(',');

/** Null when the file is of the kind, else the sentence that says what the panel takes. */
export function refusal(kind: FileKind, file: { name: string; type: string }): string | null {
  const t = TYPES[kind];
  const name = file.name.toLowerCase();
  if (t.mime.includes(file.type) || t.ext.some((e) => name.endsWith(e))) return null;
  return `this panel opens ${t.words}`;
}

export interface FileDrop {
  /** Spread on the element that takes drops. */
  handlers: {
    onDragOver: (e: DragEvent) => void;
    onDragLeave: (e: DragEvent) => void;
    onDrop: (e: DragEvent) => void;
  };
  /** A file is being dragged over the element. */
  over: boolean;
}

/** One dropped file handed to `onFile` (the first, when several are dropped). */
export function useFileDrop(onFile: (file: File) => void): FileDrop {
  const [over, setOver] = useState(false);
  return {
    over,
    handlers: {
      onDragOver: (e) => {
        if (!e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        setOver(true);
      },
      onDragLeave: (e) => {
        // leaving for a child of the panel is not leaving the panel
        if (!(e.relatedTarget instanceof Node && e.currentTarget.contains(e.relatedTarget)))
          setOver(false);
      },
      onDrop: (e) => {
        setOver(false);
        const file = e.dataTransfer.files[0];
        if (!file) return;
        e.preventDefault();
        onFile(file);
      },
    },
  };
}

/** Whether a paste lands in a field that takes text (left to the field). */
function inTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target.matches('input, textarea, select');
}

/**
 * A file pasted on the page (a copied picture or font file, Ctrl/Cmd+V) while the panel is
 * shown, handed to `onFile`; a paste into a text field stays the field's.
 */
export function useFilePaste(onFile: (file: File) => void): void {
  // the newest onFile, without listening again on every render (the panel re-renders per run)
  const take = useEffectEvent(onFile);
  useEffect(() => {
    const onPaste = (e: ClipboardEvent): void => {
      const file = e.clipboardData?.files[0];
      if (!file || inTextField(e.target)) return;
      e.preventDefault();
      take(file);
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, []);
}
