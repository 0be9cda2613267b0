/**
 * The blob store: a person's files (an image, a font) and the app's outputs kept once, named
 * by the SHA-256 of their bytes. Calls and session steps carry the hash, never the bytes, so a
 * 25 MB photo crosses the socket once however many times a dial turns.
 * Files sit at <dir>/<first two hex digits>/<hash>, written to a temporary name and renamed,
 * so a crash never leaves a half blob under a real name.
 *
 * A blob's mtime is when it was last written or named by a run (`put` of bytes already kept and
 * `require` set it to now), so the collector (./collect.ts) keeps whatever was used within its
 * grace period, also by another process sharing the folder. Within this process a caller can
 * also `pin` hashes for as long as it needs them (a run between reading its source and the
 * commit of the step that names it).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { limits, overLimit, OrreryError } from '../../preload/contract';

export interface BlobRef {
  /** SHA-256 of the bytes, 64 lower-case hex digits. */
  hash: string;
  size: number;
}

export const BLOB_HASH = /^[0-9a-f]{64}$/;

export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The time blobs are stamped with when used; tests pass their own. */
export type BlobClock = () => Date;

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

export class BlobStore {
  private readonly pins = new Map<string, number>();

  constructor(
    readonly dir: string,
    private readonly clock: BlobClock = () => new Date(),
  ) {}

  /** Where a blob's bytes live (whether or not they are there yet). */
  pathOf(hash: string): string {
    if (!BLOB_HASH.test(hash)) throw new OrreryError('bad_input', 'a blob hash is 64 hex digits');
    return path.join(this.dir, hash.slice(0, 2), hash);
  }

  has(hash: string): boolean {
    return BLOB_HASH.test(hash) && existsSync(this.pathOf(hash));
  }

  /** Marks a kept blob as used now; false when it is not there. */
  private touch(file: string): boolean {
    const t = this.clock();
    try {
      utimesSync(file, t, t);
      return true;
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  }

  /** Keeps the bytes (once: the same bytes twice are one file) and names them. */
  put(bytes: Uint8Array): BlobRef {
    if (bytes.byteLength > limits.uploadBytes)
      throw new OrreryError('too_large', overLimit('the file', bytes.byteLength, 'uploadBytes'));
    const hash = hashBytes(bytes);
    const file = this.pathOf(hash);
    // Bytes already kept are stamped as used; a file the collector took meanwhile is written.
    if (!this.touch(file)) {
      mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, file);
      this.touch(file);
    }
    return { hash, size: bytes.byteLength };
  }

  /**
   * A blob's path, checked to exist and stamped as used: the error tells the person to open
   * the file again.
   */
  require(hash: string): string {
    const file = this.pathOf(hash);
    if (!this.touch(file))
      throw new OrreryError(
        'not_found',
        `no uploaded file has hash ${hash.slice(0, 12)}…: open the file again`,
      );
    return file;
  }

  read(hash: string): Buffer {
    return readFileSync(this.require(hash));
  }

  size(hash: string): number {
    return statSync(this.require(hash)).size;
  }

  /** Keeps `hashes` from the collector until the returned function is called (once). */
  pin(hashes: Iterable<string>): () => void {
    const held = [...new Set(hashes)];
    for (const h of held) this.pins.set(h, (this.pins.get(h) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const h of held) {
        const n = (this.pins.get(h) ?? 1) - 1;
        if (n > 0) this.pins.set(h, n);
        else this.pins.delete(h);
      }
    };
  }

  isPinned(hash: string): boolean {
    return this.pins.has(hash);
  }

  /**
   * Deletes a kept blob unless it is pinned or was used at or after `cutoff`; the bytes freed,
   * or null when it stays. Synchronous, so no `put` or `require` of this process runs between
   * the check and the delete; against another process sharing the folder the file is first
   * renamed aside and its time read again there: one that was stamped meanwhile goes back.
   */
  removeUnused(hash: string, cutoff: Date): number | null {
    const file = this.pathOf(hash);
    if (this.isPinned(hash)) return null;
    const aside = `${file}.${randomBytes(6).toString('hex')}.gc`;
    try {
      if (statSync(file).mtimeMs >= cutoff.getTime()) return null;
      renameSync(file, aside);
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
    const st = statSync(aside);
    if (st.mtimeMs >= cutoff.getTime()) {
      // used meanwhile: back under its name (unless it was written again, the same bytes)
      if (existsSync(file)) unlinkSync(aside);
      else renameSync(aside, file);
      return null;
    }
    unlinkSync(aside);
    return st.size;
  }
}
