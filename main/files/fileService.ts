/**
 * The files calls: `files.list` (the served folder picker: the allowed roots, or the folders
 * and files of a folder inside one) and `files.choose` (the desktop's system file dialog,
 * whose pick is granted). Paths arrive here already checked by the guard (main/files/guard.ts).
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import {
  limits,
  OrreryError,
  type FileEntry,
  type FileListing,
  type PathUse,
} from '../../preload/contract';
import type { PathPolicy } from './pathPolicy';

/** What the desktop's system dialog is asked for; it answers a path, or null when cancelled. */
export interface ChooseRequest {
  use: PathUse;
  kind: 'dir' | 'file';
  title?: string;
}
export type Chooser = (request: ChooseRequest) => Promise<string | null>;

export class FileService {
  constructor(
    private readonly policy: PathPolicy,
    /** The system file dialog; absent in the headless server. */
    private readonly chooser: Chooser | null,
  ) {}

  list(dir: string | undefined): FileListing {
    if (dir === undefined) {
      const tops = [...this.policy.roots(), ...this.policy.grantedFolders()];
      return {
        dir: null,
        parent: null,
        truncated: false,
        entries: tops.map((p) => ({ name: p, path: p, kind: 'dir', size: 0 })),
      };
    }
    let dirents: Dirent[];
    try {
      if (!statSync(dir).isDirectory()) throw new Error('not a folder');
      dirents = readdirSync(dir, { withFileTypes: true });
    } catch {
      // Inside an allowed root, so saying what is wrong gives nothing away.
      throw new OrreryError('not_found', `${dir} is not a folder that can be read`);
    }
    const entries: FileEntry[] = [];
    for (const d of dirents) {
      if (d.name.startsWith('.')) continue;
      const full = path.join(dir, d.name);
      let entry: FileEntry | null = null;
      if (d.isSymbolicLink()) {
        // A link is offered only when where it leads is allowed too.
        if (!this.policy.allows(full, 'browse')) continue;
        entry = describe(d.name, full);
      } else if (d.isDirectory()) entry = { name: d.name, path: full, kind: 'dir', size: 0 };
      else if (d.isFile()) entry = describe(d.name, full);
      if (entry) entries.push(entry);
    }
    entries.sort((a, b) =>
      a.kind !== b.kind ? (a.kind === 'dir' ? -1 : 1) : a.name.localeCompare(b.name),
    );
    const isTop = [...this.policy.roots(), ...this.policy.grantedFolders()].includes(dir);
    return {
      dir,
      parent: isTop ? null : path.dirname(dir),
      truncated: entries.length > limits.listEntries,
      entries: entries.slice(0, limits.listEntries),
    };
  }

  async choose(request: ChooseRequest): Promise<{ path: string | null }> {
    if (!this.chooser) {
      throw new OrreryError(
        'unavailable',
        'the system file dialog is in the desktop app only; browse the allowed folders instead',
      );
    }
    const picked = await this.chooser(request);
    if (picked === null) return { path: null };
    return { path: this.policy.grant(picked, request.use) };
  }
}

function describe(name: string, full: string): FileEntry | null {
  try {
    const st = statSync(full);
    if (st.isDirectory()) return { name, path: full, kind: 'dir', size: 0 };
    if (st.isFile()) return { name, path: full, kind: 'file', size: st.size };
  } catch {
    // a broken link or a file gone meanwhile: not offered
  }
  return null;
}
