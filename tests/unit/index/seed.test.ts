// The copy of a pack's shipped index in the data folder follows the shipped file by content:
// seeded once with the file's hash, kept while it is unchanged (also when only its time
// changed, as a fresh checkout does), re-seeded when a rebuilt index of the same compressed
// size ships (the size alone once decided), and a record from before hashes were kept is
// trusted and given one. Real SQLite files, packed and unpacked for real.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openIndex } from '../../../main/index';
import { packIndex } from '../../../main/index/packedIndex';
import { syncSeed } from '../../../main/index/seed';
import { tempDir } from './helpers';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function shipped(name: string): Promise<string> {
  const db = openIndex(join(tmp.dir, `${name}.sqlite`));
  db.close();
  const out = join(tmp.dir, `${name}.sqlite.br`);
  await packIndex(join(tmp.dir, `${name}.sqlite`), out);
  return out;
}

const sidecar = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(file.replace(/\.sqlite$/, '.seed.json'), 'utf8')) as Record<
    string,
    unknown
  >;

describe('syncSeed', () => {
  it('follows the shipped index by content, not by size alone', async () => {
    const src = { shipped: await shipped('a'), version: '1.0.0' };
    const file = join(tmp.dir, 'copy.sqlite');
    let released = 0;
    const release = (): void => void released++;
    expect(await syncSeed(src, file, release)).toEqual({ outcome: 'seeded' });
    // the fresh copy is the shipped bytes: recorded as checked whole (main/db/recover.ts), so
    // its first open checks its structure only
    const st = statSync(file);
    expect(JSON.parse(readFileSync(`${file}.checked`, 'utf8'))).toEqual({
      size: st.size,
      mtimeMs: st.mtimeMs,
      ino: st.ino,
    });
    const first = sidecar(file);
    // hashed as it was unpacked: the shipped file's own hash
    expect(first.sha256).toBe(createHash('sha256').update(readFileSync(src.shipped)).digest('hex'));
    expect(await syncSeed(src, file, release)).toEqual({ outcome: 'kept' });
    // a fresh checkout: the same bytes with another time are still the same index
    const later = new Date(Date.now() + 60_000);
    utimesSync(src.shipped, later, later);
    expect(await syncSeed(src, file, release)).toEqual({ outcome: 'kept' });
    expect(sidecar(file).sha256).toBe(first.sha256);
    // the record of an earlier shipped file of exactly this size but other content
    const side = file.replace(/\.sqlite$/, '.seed.json');
    writeFileSync(side, JSON.stringify({ ...sidecar(file), sha256: 'f'.repeat(64), mtimeMs: 1 }));
    const r = await syncSeed(src, file, release);
    expect(r.outcome).toBe('reseeded');
    expect(released).toBe(1);
    expect(sidecar(file).sha256).toBe(first.sha256);
    // a record from before hashes were kept (same name, version and size): kept, given a hash
    const { sha256: _drop, mtimeMs: _time, ...legacy } = sidecar(file);
    writeFileSync(side, JSON.stringify(legacy));
    expect(await syncSeed(src, file, release)).toEqual({ outcome: 'kept' });
    expect(sidecar(file).sha256).toBe(first.sha256);
    expect(released).toBe(1);
  });
});
