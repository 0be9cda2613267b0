/**
 * Which paths on this machine the page may name. Two sources of permission:
 *
 * - roots: folders the person allowed (served mode: `--allow DIR`, default the home folder),
 *   plus the packs folders; everything below a root may be used for anything.
 * - grants: a path the person picked in the desktop's system file dialog (or dropped on the
 *   window), granted for the one use it was picked for (a pack, an examples folder, a label
 *   file); a folder's grant covers what is inside it. Grants are kept in a small JSON file so
 *   that an examples folder indexed yesterday still opens today.
 *
 * A path is resolved with realpath (of its longest existing prefix, so a missing file inside a
 * root is still answered by the service that reads it), so neither `..` nor a symlink leaves a
 * root. Below a root, hidden files and folders (a name starting with ".") are refused, as
 * Jupyter does by default: ~/.ssh is inside the home folder but is not offered.
 *
 * Every refusal is `forbidden` with the same message whether the path exists or not; the
 * message echoes only what the caller sent.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { OrreryError, PathUseSchema, type PathUse } from '../../preload/contract';

export interface PathPolicyOptions {
  /** Folders below which every path may be used. Missing ones are left out. */
  roots: readonly string[];
  /** Where desktop grants are kept across launches; none: grants last this launch only. */
  grantsFile?: string;
}

interface Grant {
  path: string;
  use: PathUse;
}

/** The most of what the caller sent that a refusal echoes. */
const SHOWN = 200;

/** realpath of the longest existing prefix, then the rest as written (it does not exist yet). */
function resolveReal(p: string): string {
  const abs = path.resolve(p);
  const rest: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      const real = realpathSync.native(cur);
      return rest.length ? path.join(real, ...rest.reverse()) : real;
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return abs;
      rest.push(path.basename(cur));
      cur = up;
    }
  }
}

/** The part of `p` below `root`, or null when `p` is not `root` or inside it. */
function below(root: string, p: string): string[] | null {
  if (p === root) return [];
  const rel = path.relative(root, p);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return rel.split(path.sep);
}

const hidden = (parts: readonly string[]): boolean => parts.some((s) => s.startsWith('.'));

export class PathPolicy {
  private readonly rootList: string[];
  private readonly grants: Grant[] = [];

  constructor(private readonly options: PathPolicyOptions) {
    const roots = new Set<string>();
    for (const r of options.roots) {
      if (!path.isAbsolute(r) || !existsSync(r)) continue;
      roots.add(realpathSync.native(r));
    }
    this.rootList = [...roots];
    if (options.grantsFile) this.grants.push(...readGrants(options.grantsFile));
  }

  /** The roots the folder picker starts from (realpaths). */
  roots(): string[] {
    return [...this.rootList];
  }

  /** Folders granted on the desktop (any use): the picker offers them beside the roots. */
  grantedFolders(): string[] {
    return this.grants.map((g) => g.path).filter((p) => !this.rootList.includes(p));
  }

  /**
   * Grants a path the person picked in the system dialog (never a path the page sent) for one
   * use, and returns it resolved: the page names it from then on.
   */
  grant(picked: string, use: PathUse): string {
    if (!path.isAbsolute(picked)) throw new Error(`a granted path must be absolute: ${picked}`);
    const real = resolveReal(picked);
    if (!this.grants.some((g) => g.path === real && g.use === use)) {
      this.grants.push({ path: real, use });
      if (this.options.grantsFile) writeGrants(this.options.grantsFile, this.grants);
    }
    return real;
  }

  /**
   * The path to use for `p`, resolved (realpath); `forbidden` when it is not below a root or a
   * grant for `use`. `use` 'browse' (the picker) accepts any grant.
   */
  check(p: string, use: PathUse | 'browse'): string {
    if (typeof p !== 'string' || p.includes('\0') || !path.isAbsolute(p)) throw this.refuse(p);
    const real = resolveReal(p);
    for (const root of this.rootList) {
      const parts = below(root, real);
      if (parts && !hidden(parts)) return real;
    }
    for (const g of this.grants) {
      if (use !== 'browse' && g.use !== use) continue;
      const parts = below(g.path, real);
      if (parts && !hidden(parts)) return real;
    }
    throw this.refuse(p);
  }

  /** True when `p` may be used (for the picker's entries: links that leave a root are hidden). */
  allows(p: string, use: PathUse | 'browse'): boolean {
    try {
      this.check(p, use);
      return true;
    } catch {
      return false;
    }
  }

  /** One message for every refusal: nothing in it depends on what is on the disk. */
  private refuse(p: unknown): OrreryError {
    const s = typeof p === 'string' ? p : String(p);
    const shown = JSON.stringify(s.length > SHOWN ? `${s.slice(0, SHOWN)}…` : s);
    return new OrreryError(
      'forbidden',
      `${shown} is not in a folder Orrery may use. Choose it with Browse…; a served Orrery reads only the folders given with --allow (hidden files and folders are never offered).`,
    );
  }
}

function readGrants(file: string): Grant[] {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (!Array.isArray(raw)) return [];
    return raw.filter(
      (g): g is Grant =>
        typeof g === 'object' &&
        g !== null &&
        typeof (g as Grant).path === 'string' &&
        path.isAbsolute((g as Grant).path) &&
        PathUseSchema.options.includes((g as Grant).use),
    );
  } catch {
    // No file yet, or a damaged one: no grants (the person picks again).
    return [];
  }
}

function writeGrants(file: string, grants: readonly Grant[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(grants, null, 1));
  renameSync(tmp, file);
}
