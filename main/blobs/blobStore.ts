/**
 * The blob store: a person's files (an image, a font) and the app's outputs kept once, named
 * by the SHA-256 of their bytes. Calls and session steps carry the hash, never the bytes, so a
 * 25 MB photo crosses the socket once however many times a dial turns.
 * Files sit at <dir>/<first two hex digits>/<hash>, written to a temporary name and renamed,
 * so a crash never leaves a half blob under a real name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { limits, overLimit, OrreryError } from '../../preload/contract';

export interface BlobRef {
  /** SHA-256 of the bytes, 64 lower-case hex digits. */
  hash: string;
  size: number;
}

const HASH = /^[0-9a-f]{64}$/;

export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class BlobStore {
  constructor(readonly dir: string) {}

  /** Where a blob's bytes live (whether or not they are there yet). */
  pathOf(hash: string): string {
    if (!HASH.test(hash)) throw new OrreryError('bad_input', 'a blob hash is 64 hex digits');
    return path.join(this.dir, hash.slice(0, 2), hash);
  }

  has(hash: string): boolean {
    return HASH.test(hash) && existsSync(this.pathOf(hash));
  }

  /** Keeps the bytes (once: the same bytes twice are one file) and names them. */
  put(bytes: Uint8Array): BlobRef {
    if (bytes.byteLength > limits.uploadBytes)
      throw new OrreryError('too_large', overLimit('the file', bytes.byteLength, 'uploadBytes'));
    const hash = hashBytes(bytes);
    const file = this.pathOf(hash);
    if (!existsSync(file)) {
      mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, file);
    }
    return { hash, size: bytes.byteLength };
  }

  /** A blob's path, checked to exist: the error tells the person to open the file again. */
  require(hash: string): string {
    const file = this.pathOf(hash);
    if (!existsSync(file))
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
}
