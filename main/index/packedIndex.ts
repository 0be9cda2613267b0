/**
 * A pack may ship its prebuilt feature index Brotli-compressed (`features.sqlite.br`, see
 * models/PACK_FORMAT.md). This module packs an index file for a pack, and seeds the user's
 * copy from a pack's index (decompressing a `.br`, copying a plain `.sqlite`). Both write a
 * temporary file next to the target and rename it into place, so the final name only ever
 * holds a whole file; a seeded copy is also checked to be an SQLite database.
 */
import { randomBytes, type Hash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  promises as fs,
  type ReadStream,
  type WriteStream,
} from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { Transform } from 'node:stream';
import { limits, OrreryError } from '../../preload/contract';

/** Fails a stream past `max` bytes: a shipped index decompresses to at most limits.zipBytes. */
function capBytes(src: string, max: number): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _e, done) {
      n += chunk.length;
      if (n > max)
        return done(
          new OrreryError(
            'too_large',
            `${src}: the feature index decompresses to more than ${max.toLocaleString('en-US')} bytes; the limit (zipBytes) is ${max.toLocaleString('en-US')}`,
          ),
        );
      done(null, chunk);
    },
  });
}

/** True when an index file name is Brotli-compressed (ends with `.br`). */
export function isPackedIndex(file: string): boolean {
  return file.endsWith('.br');
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Writes `dest` through `tmp`: `write(tmp)`, then rename; `tmp` is removed on failure. */
async function writeThrough(
  tmp: string,
  dest: string,
  write: (tmp: string) => Promise<void>,
): Promise<void> {
  try {
    await write(tmp);
    await fs.rename(tmp, dest);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Compresses the (closed, checkpointed) index `src` into `dest` with Brotli at its best
 * setting, through `<dest>.tmp`. Returns the compressed size in bytes.
 */
export async function packIndex(src: string, dest: string): Promise<number> {
  const { size } = await fs.stat(src);
  await writeThrough(`${dest}.tmp`, dest, (tmp) =>
    pipeline(
      createReadStream(src),
      zlib.createBrotliCompress({
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: 11, // the best (and slowest)
          [zlib.constants.BROTLI_PARAM_LGWIN]: 24, // the largest window: 16 MB
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: Math.min(size, 0xffffffff),
        },
      }),
      createWriteStream(tmp),
    ),
  );
  return (await fs.stat(dest)).size;
}

async function hasSqliteHeader(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(SQLITE_HEADER.length);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return bytesRead === buf.length && buf.equals(SQLITE_HEADER);
  } finally {
    await fh.close();
  }
}

/**
 * The pieces an unpack moves at a time: the streams' 16 KiB default made the text pack's
 * 94 MiB index take 450-580 ms to unpack here, 1 MiB pieces 200 ms (the first start's wait;
 * a pack's import checks its index the same way, packs/validatePack.ts).
 */
export const UNPACK_CHUNK = 2 ** 20;

/**
 * Puts a pack's index `src` (`.br`: decompressed as it streams; otherwise copied) at `dest`,
 * through a uniquely named `<dest>.<random>.partial` in the same folder. A corrupt or
 * truncated file throws a bad_pack OrreryError naming `src`, and leaves nothing at `dest`.
 * `digest`, if given, is fed `src`'s bytes as they are read (one read of the file gives the
 * copy and its hash; a first start hashed the 15 MB file in one piece on the API thread, then
 * read it again to unpack).
 */
export async function unpackIndex(src: string, dest: string, digest?: Hash): Promise<void> {
  await removeStalePartials(dest);
  const tmp = `${dest}.${randomBytes(6).toString('hex')}.partial`;
  const packed = isPackedIndex(src);
  await writeThrough(tmp, dest, async (t) => {
    // the one read of `src`, fed to the digest as it goes
    const read = (): ReadStream => {
      const r = createReadStream(src, { highWaterMark: UNPACK_CHUNK });
      if (digest) r.on('data', (piece) => digest.update(piece));
      return r;
    };
    const write = (): WriteStream => createWriteStream(t, { highWaterMark: UNPACK_CHUNK });
    if (packed) {
      try {
        await pipeline(
          read(),
          zlib.createBrotliDecompress({ chunkSize: UNPACK_CHUNK }),
          capBytes(src, limits.zipBytes),
          write(),
        );
      } catch (e) {
        if (e instanceof OrreryError) throw e;
        const err = e as NodeJS.ErrnoException;
        // File errors (ENOENT, ENOSPC …) name their system call; the decoder's errors do not.
        if (err.syscall === undefined)
          throw new OrreryError(
            'bad_pack',
            `${src}: the compressed feature index is corrupt or truncated (${err.message})`,
          );
        throw e;
      }
    } else if (digest) {
      await pipeline(read(), write());
    } else {
      await fs.copyFile(src, t);
    }
    if (!(await hasSqliteHeader(t)))
      throw new OrreryError(
        'bad_pack',
        `${src}: not a feature index (${packed ? 'decompresses to' : 'is'} no SQLite database)`,
      );
  });
}

/** Leftovers of an unpack that a crash interrupted (an hour old or more: not in flight). */
async function removeStalePartials(dest: string): Promise<void> {
  const dir = path.dirname(dest);
  const prefix = `${path.basename(dest)}.`;
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.partial')) continue;
    const file = path.join(dir, name);
    const st = await fs.stat(file).catch(() => null);
    if (st && Date.now() - st.mtimeMs > 3_600_000) await fs.rm(file, { force: true });
  }
}
