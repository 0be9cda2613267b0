import { existsSync, readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobStore, hashBytes } from '../../../main/blobs/blobStore';
import { limits, OrreryError } from '../../../preload/contract';
import { cleanupTmp, tmpDir } from '../../support/tmp';

afterEach(() => cleanupTmp());

describe('blob store', () => {
  it('keeps bytes once, named by their SHA-256', () => {
    const store = new BlobStore(tmpDir());
    const bytes = new TextEncoder().encode('a photo, say');
    const a = store.put(bytes);
    const b = store.put(bytes);
    expect(a).toEqual(b);
    expect(a.hash).toBe(hashBytes(bytes));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(store.read(a.hash).equals(Buffer.from(bytes))).toBe(true);
    expect(existsSync(store.pathOf(a.hash))).toBe(true);
    // no temporary files left behind
    expect(
      readdirSync(store.dir, { recursive: true }).filter((f) => String(f).endsWith('.tmp')),
    ).toEqual([]);
  });

  it('names what is wrong: a hash that is not one, a missing blob, a file over the limit', () => {
    const store = new BlobStore(tmpDir());
    const code = (f: () => unknown): string => {
      try {
        f();
        return 'ok';
      } catch (e) {
        return e instanceof OrreryError ? e.code : String(e);
      }
    };
    expect(code(() => store.pathOf('../../etc/passwd'))).toBe('bad_input');
    expect(code(() => store.read('0'.repeat(64)))).toBe('not_found');
    expect(store.has('0'.repeat(64))).toBe(false);
    expect(code(() => store.put(new Uint8Array(limits.uploadBytes + 1)))).toBe('too_large');
  });
});
