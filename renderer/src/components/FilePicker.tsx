/**
 * Choosing a folder or a file without naming paths the person was not offered. Served, a small
 * picker over `files.list` walks only the roots the server allows (`--allow`); in the desktop
 * app, `files.choose` opens the system dialog, and main grants what is picked.
 *
 * Keys in the picker: arrows move, Enter opens a folder (or chooses a file), Backspace goes up,
 * Escape closes the picker (not the dialog under it).
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { FileEntry, FileListing, PathUse } from '../../../preload/contract';
import { getClient } from '../api/client';
import { useCall } from '../api/useCall';
import { Dialog } from './Dialog';

/** What a Browse… button picks: a folder, a file, or either (a pack folder or its .zip). */
export type PickKind = 'dir' | 'file' | 'dir-or-file';

export interface BrowseSpec {
  use: PathUse;
  kind: PickKind;
  /** File name endings a file must have to be chosen (".zip"); none: any file. */
  accept?: readonly string[];
  title: string;
}

const accepts = (spec: BrowseSpec, e: FileEntry): boolean =>
  e.kind === 'file' &&
  spec.kind !== 'dir' &&
  (!spec.accept || spec.accept.some((a) => e.name.toLowerCase().endsWith(a)));

/** The last part of a path, whichever the separator. */
const baseName = (p: string): string => p.split(/[\\/]/).filter(Boolean).pop() ?? p;

const formatSize = (n: number): string =>
  n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(0)} KB`
      : n < 1024 ** 3
        ? `${(n / 1024 ** 2).toFixed(1)} MB`
        : `${(n / 1024 ** 3).toFixed(1)} GB`;

export function FilePicker({
  spec,
  onPick,
  onClose,
}: {
  spec: BrowseSpec;
  onPick: (path: string) => void;
  onClose: () => void;
}) {
  // The folder shown (null: the roots) and, per folder, which entry is highlighted. Nothing
  // is highlighted when a folder opens: Choose then takes the folder shown.
  const [dir, setDir] = useState<string | null>(null);
  const [mark, setMark] = useState<{ dir: string | null; index: number }>({ dir, index: -1 });
  const { result } = useCall('files.list', dir === null ? {} : { dir });
  const listing: FileListing | null = result?.ok ? result.value : null;
  const error = result && !result.ok ? result.error.message : null;
  const shown = listing !== null && listing.dir === dir;
  const selected = shown && mark.dir === dir ? mark.index : -1;
  const setSelected = (f: (i: number) => number): void => setMark({ dir, index: f(selected) });
  const open = (to: string | null): void => setDir(to);
  const list = useRef<HTMLUListElement>(null);

  useEffect(() => list.current?.focus(), [listing]);
  useEffect(() => {
    list.current?.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  const entries = listing?.entries ?? [];
  const current = entries[selected] ?? null;
  const up = (): void => {
    if (error) open(null);
    else if (listing?.dir != null) open(listing.parent);
  };
  /** What "Choose" takes: the highlighted folder or accepted file, else the folder shown. */
  const choice: string | null =
    current && listing?.dir != null && current.kind === 'dir' && spec.kind !== 'file'
      ? current.path
      : current && accepts(spec, current)
        ? current.path
        : spec.kind !== 'file'
          ? (listing?.dir ?? (current?.kind === 'dir' ? current.path : null))
          : null;

  const activate = (e: FileEntry | null): void => {
    if (!e) return;
    if (e.kind === 'dir') open(e.path);
    else if (accepts(spec, e)) onPick(e.path);
  };

  const onKeyDown = (e: KeyboardEvent): void => {
    const last = entries.length - 1;
    const keys: Record<string, () => void> = {
      ArrowDown: () => setSelected((i) => Math.min(last, i + 1)),
      ArrowUp: () => setSelected((i) => Math.max(0, i - 1)),
      Home: () => setSelected(() => 0),
      End: () => setSelected(() => Math.max(0, last)),
      PageDown: () => setSelected((i) => Math.min(last, i + 10)),
      PageUp: () => setSelected((i) => Math.max(0, i - 10)),
      Enter: () => (current ? activate(current) : choice && onPick(choice)),
      Backspace: up,
      ArrowLeft: up,
      ArrowRight: () => current?.kind === 'dir' && activate(current),
    };
    const act = keys[e.key];
    if (!act) return;
    e.preventDefault();
    e.stopPropagation();
    act();
  };

  return (
    <Dialog title={spec.title} onEscape={onClose}>
      <div className="picker-where">
        <button
          type="button"
          aria-label="Up one folder"
          title="Up one folder (Backspace)"
          disabled={listing?.dir == null && !error}
          onClick={up}
        >
          ↑
        </button>
        <span className="path" data-testid="picker-dir">
          {listing?.dir ?? 'Folders you may use'}
        </span>
      </div>
      <ul
        ref={list}
        className="picker-list"
        role="listbox"
        aria-label="Folders and files"
        tabIndex={0}
        onKeyDown={onKeyDown}
      >
        {entries.map((e, i) => (
          <li
            key={e.path}
            role="option"
            aria-selected={i === selected}
            className={e.kind === 'file' && !accepts(spec, e) ? 'dim' : undefined}
            onClick={() => setMark({ dir, index: i })}
            onDoubleClick={() => activate(e)}
          >
            <span className="picker-icon" aria-hidden="true">
              {e.kind === 'dir' ? '▸' : '·'}
            </span>
            <span className="picker-name">{e.name}</span>
            {e.kind === 'file' && <span className="picker-size">{formatSize(e.size)}</span>}
          </li>
        ))}
        {listing && entries.length === 0 && (
          <li className="dim picker-empty">
            {listing.dir === null ? 'No folders are allowed (start with --allow DIR).' : 'Empty'}
          </li>
        )}
      </ul>
      {listing?.truncated && <p className="muted">Only the first entries are shown.</p>}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <div className="row">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="primary"
          disabled={choice === null}
          title={choice ?? undefined}
          onClick={() => choice && onPick(choice)}
        >
          {choice ? `Choose “${baseName(choice)}”` : 'Choose'}
        </button>
      </div>
    </Dialog>
  );
}

/**
 * Browse…: the system dialog in the desktop app (a pack folder or its .zip: two buttons, since
 * most systems' dialogs pick one or the other), the served picker otherwise.
 */
export function BrowseButton({
  spec,
  disabled = false,
  onPath,
}: {
  spec: BrowseSpec;
  disabled?: boolean;
  onPath: (path: string) => void;
}) {
  const [picking, setPicking] = useState(false);
  const desktop = getClient().transport === 'ipc';

  const browse = async (kind: 'dir' | 'file'): Promise<void> => {
    if (desktop) {
      const r = await getClient().call('files.choose', { use: spec.use, kind, title: spec.title });
      if (r.ok) {
        if (r.value.path) onPath(r.value.path);
        return;
      }
      // No system dialog here: the served picker instead.
    }
    setPicking(true);
  };

  const buttons =
    desktop && spec.kind === 'dir-or-file'
      ? [
          { label: 'Folder…', kind: 'dir' as const },
          { label: `${spec.accept?.[0] ?? 'File'}…`, kind: 'file' as const },
        ]
      : [{ label: 'Browse…', kind: spec.kind === 'file' ? ('file' as const) : ('dir' as const) }];

  return (
    <>
      {buttons.map((b) => (
        <button key={b.label} type="button" disabled={disabled} onClick={() => void browse(b.kind)}>
          {b.label}
        </button>
      ))}
      {picking && (
        <FilePicker
          spec={spec}
          onClose={() => setPicking(false)}
          onPick={(p) => {
            setPicking(false);
            onPath(p);
          }}
        />
      )}
    </>
  );
}
