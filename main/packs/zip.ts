/**
 * Unpacks a zipped pack into a folder without trusting the zip. The central directory is read
 * first (no entry is inflated): entry count, total uncompressed size and each entry's
 * compression ratio are held to the limit table, names must stay inside the folder, and the
 * manifest must be there. The manifest is inflated and validated before anything else; then
 * each entry streams to disk through zlib, counted as it inflates, so an entry that inflates
 * past its declared size (a lying zip) is stopped at once and memory stays flat. Errors are
 * OrreryErrors naming the zip and the entry: `too_large` for a limit, `bad_pack` otherwise.
 */
import { createReadStream, createWriteStream, existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { limits, OrreryError } from '../../preload/contract';
import { describeZodError, ManifestSchema, namedFiles } from './manifest';

/** The caps one extraction is held to (defaults: the limit table). */
export interface ZipLimits {
  /** Entries in the central directory. */
  entries: number;
  /** Sum of the entries' uncompressed sizes, in bytes. */
  totalBytes: number;
  /** Largest uncompressed ÷ compressed size of one entry (entries over 1 MiB). */
  ratio: number;
}

export const defaultZipLimits: ZipLimits = {
  entries: limits.zipEntries,
  totalBytes: limits.zipBytes,
  ratio: limits.zipRatio,
};

/** Entries smaller than this are never refused for their ratio (a JSON file of spaces is harmless). */
const RATIO_FLOOR_BYTES = 1024 * 1024;
const MANIFEST_BYTES = 1_000_000;

interface Entry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressed: number;
  size: number;
  /** Offset of the local file header. */
  local: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

class ZipReader {
  constructor(
    readonly file: string,
    private readonly fh: fs.FileHandle,
    readonly size: number,
  ) {}

  async read(at: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.fh.read(buf, 0, length, at);
    if (bytesRead !== length) throw this.bad('it ends before its central directory says');
    return buf;
  }

  bad(problem: string): OrreryError {
    return new OrreryError('bad_pack', `${this.file}: not a readable zip (${problem})`);
  }

  /** The entries, from the central directory, without inflating anything. */
  async entries(caps: ZipLimits): Promise<Entry[]> {
    // The end record is in the last 22 + 65535 (comment) bytes.
    const tailLen = Math.min(this.size, 22 + 0xffff);
    const tail = await this.read(this.size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === SIG_EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw this.bad('no end of central directory record');
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const locAt = this.size - tailLen + eocd - 20;
      if (locAt < 0) throw this.bad('a zip64 archive without its locator');
      const loc = await this.read(locAt, 20);
      if (loc.readUInt32LE(0) !== SIG_EOCD64_LOCATOR) throw this.bad('bad zip64 locator');
      const rec = await this.read(safe(loc.readBigUInt64LE(8), this), 56);
      if (rec.readUInt32LE(0) !== SIG_EOCD64) throw this.bad('bad zip64 end record');
      count = safe(rec.readBigUInt64LE(32), this);
      cdSize = safe(rec.readBigUInt64LE(40), this);
      cdOffset = safe(rec.readBigUInt64LE(48), this);
    }
    if (count > caps.entries) {
      throw new OrreryError(
        'too_large',
        `${this.file}: ${count} entries; the limit (zipEntries) is ${caps.entries}`,
      );
    }
    if (cdOffset + cdSize > this.size) throw this.bad('its central directory runs past its end');
    // 46 bytes per entry at least, so count × 46 ≤ cdSize bounds this read by the file size.
    if (count * 46 > cdSize) throw this.bad('its central directory is shorter than its entries');
    const cd = await this.read(cdOffset, cdSize);
    const out: Entry[] = [];
    let at = 0;
    let total = 0;
    for (let i = 0; i < count; i++) {
      if (at + 46 > cd.length || cd.readUInt32LE(at) !== SIG_CENTRAL)
        throw this.bad(`central directory entry ${i} is damaged`);
      const flags = cd.readUInt16LE(at + 8);
      const method = cd.readUInt16LE(at + 10);
      const crc = cd.readUInt32LE(at + 16);
      let compressed = cd.readUInt32LE(at + 20);
      let size = cd.readUInt32LE(at + 24);
      const nameLen = cd.readUInt16LE(at + 28);
      const extraLen = cd.readUInt16LE(at + 30);
      const commentLen = cd.readUInt16LE(at + 32);
      let local = cd.readUInt32LE(at + 42);
      const end = at + 46 + nameLen + extraLen + commentLen;
      if (end > cd.length) throw this.bad(`central directory entry ${i} is damaged`);
      const name = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', at + 46, at + 46 + nameLen);
      // zip64: the sizes that overflowed 32 bits are in extra field 0x0001, in this order.
      let x = at + 46 + nameLen;
      const xEnd = x + extraLen;
      while (x + 4 <= xEnd) {
        const id = cd.readUInt16LE(x);
        const len = cd.readUInt16LE(x + 2);
        if (id === 0x0001) {
          let p = x + 4;
          const next = (): number => {
            if (p + 8 > x + 4 + len) throw this.bad(`entry "${name}": short zip64 field`);
            const v = safe(cd.readBigUInt64LE(p), this);
            p += 8;
            return v;
          };
          if (size === 0xffffffff) size = next();
          if (compressed === 0xffffffff) compressed = next();
          if (local === 0xffffffff) local = next();
        }
        x += 4 + len;
      }
      at = end;
      out.push({ name, method, flags, crc, compressed, size, local });
      total += size;
      if (total > caps.totalBytes) {
        throw new OrreryError(
          'too_large',
          `${this.file}: its entries inflate to more than ${caps.totalBytes.toLocaleString('en-US')} bytes; the limit (zipBytes) is ${caps.totalBytes.toLocaleString('en-US')}`,
        );
      }
      if (size > RATIO_FLOOR_BYTES && size > caps.ratio * Math.max(compressed, 1)) {
        throw new OrreryError(
          'too_large',
          `${this.file}: entry "${name}" inflates ${Math.round(size / Math.max(compressed, 1))}× ` +
            `(${compressed.toLocaleString('en-US')} → ${size.toLocaleString('en-US')} bytes); ` +
            `the limit (zipRatio) is ${caps.ratio}×`,
        );
      }
    }
    return out;
  }

  /** Where an entry's data starts (after its local header). */
  async dataStart(e: Entry): Promise<number> {
    const h = await this.read(e.local, 30);
    if (h.readUInt32LE(0) !== SIG_LOCAL) throw this.bad(`entry "${e.name}": bad local header`);
    const start = e.local + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
    if (start + e.compressed > this.size) throw this.bad(`entry "${e.name}" runs past its end`);
    return start;
  }
}

function safe(v: bigint, r: ZipReader): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw r.bad('a size beyond what a file can hold');
  return Number(v);
}

/** Counts inflated bytes and the CRC, failing the stream past `max` bytes. */
class Meter extends Transform {
  bytes = 0;
  crc = 0;
  constructor(
    private readonly max: number,
    private readonly over: () => Error,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) return done(this.over());
    this.crc = zlib.crc32(chunk, this.crc);
    done(null, chunk);
  }
}

/** Streams one entry's inflated bytes into `sink`, checking size and CRC. */
async function inflateTo(reader: ZipReader, e: Entry, sink: NodeJS.WritableStream): Promise<void> {
  if (e.flags & 0x1) throw reader.bad(`entry "${e.name}" is encrypted`);
  if (e.method !== 0 && e.method !== 8)
    throw reader.bad(
      `entry "${e.name}" uses compression method ${e.method} (stored and deflate only)`,
    );
  const start = await reader.dataStart(e);
  const meter = new Meter(
    e.size,
    () =>
      new OrreryError(
        'too_large',
        `${reader.file}: entry "${e.name}" inflates past the ${e.size.toLocaleString('en-US')} bytes its zip declares`,
      ),
  );
  const stages: NodeJS.ReadWriteStream[] =
    e.method === 8 ? [zlib.createInflateRaw({ chunkSize: 64 * 1024 }), meter] : [meter];
  const source =
    e.compressed === 0
      ? Readable.from([])
      : createReadStream(reader.file, {
          start,
          end: start + e.compressed - 1,
          highWaterMark: 256 * 1024,
        });
  try {
    await pipeline([source, ...stages, sink]);
  } catch (err) {
    if (err instanceof OrreryError) throw err;
    const ex = err as NodeJS.ErrnoException;
    if (ex.syscall === 'read' || ex.code === 'ENOSPC') throw err; // the disk's fault, not the zip's
    if (ex.syscall !== undefined)
      throw reader.bad(`entry "${e.name}" cannot be written (${ex.code ?? ex.message})`);
    throw reader.bad(`entry "${e.name}" does not inflate (${ex.message})`);
  }
  if (meter.bytes !== e.size)
    throw reader.bad(
      `entry "${e.name}" inflates to ${meter.bytes} bytes, not the declared ${e.size}`,
    );
  if (meter.crc >>> 0 !== e.crc >>> 0) throw reader.bad(`entry "${e.name}" fails its CRC check`);
}

/** A sink that keeps what it is given (at most `max` bytes; the meter enforces it). */
function collect(): { sink: NodeJS.WritableStream; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const sink = new Transform({
    transform(chunk: Buffer, _e, done) {
      parts.push(chunk);
      done();
    },
  });
  sink.resume();
  return { sink, bytes: () => Buffer.concat(parts) };
}

/** The folder inside the zip that holds manifest.json: '' (the root) or its one top folder. */
function packRoot(file: string, entries: Entry[]): { root: string; manifest: Entry } {
  const atRoot = entries.find((e) => e.name === 'manifest.json');
  if (atRoot) return { root: '', manifest: atRoot };
  const tops = new Set(
    entries
      .map((e) => e.name.split('/')[0] ?? '')
      .filter((t, _i) => t && !t.startsWith('__MACOSX')),
  );
  const only = tops.size === 1 ? [...tops][0] : undefined;
  const inFolder = only ? entries.find((e) => e.name === `${only}/manifest.json`) : undefined;
  if (!only || !inFolder)
    throw new OrreryError(
      'bad_pack',
      `${file}: no manifest.json at the top of the zip or in its one folder`,
    );
  return { root: `${only}/`, manifest: inFolder };
}

/**
 * Extracts the pack in `file` into `dest` (an empty folder) and returns the folder holding its
 * manifest.json. See the module comment for what is checked, and when.
 */
export async function extractPackZip(
  file: string,
  dest: string,
  caps: ZipLimits = defaultZipLimits,
): Promise<string> {
  const st = await fs.stat(file).catch(() => null);
  if (!st?.isFile()) throw new OrreryError('bad_pack', `${file}: no such file`);
  const fh = await fs.open(file, 'r');
  try {
    const reader = new ZipReader(file, fh, st.size);
    const entries = await reader.entries(caps);
    const root = path.resolve(dest);
    const names = new Set<string>();
    for (const e of entries) {
      if (names.has(e.name)) throw reader.bad(`entry "${e.name}" appears twice`);
      names.add(e.name);
      const target = path.resolve(root, e.name);
      if (
        e.name.includes('\\') ||
        e.name.includes('\0') ||
        path.isAbsolute(e.name) ||
        !(target === root || target.startsWith(root + path.sep))
      ) {
        throw new OrreryError(
          'bad_pack',
          `${file}: entry "${e.name}" would be written outside the pack`,
        );
      }
    }
    // The manifest first: a zip that is no pack is refused before anything is written.
    const { root: prefix, manifest } = packRoot(file, entries);
    if (manifest.size > MANIFEST_BYTES)
      throw new OrreryError(
        'too_large',
        `${file}: manifest.json is ${manifest.size} bytes; the limit is ${MANIFEST_BYTES}`,
      );
    const kept = collect();
    await inflateTo(reader, manifest, kept.sink);
    let raw: unknown;
    try {
      raw = JSON.parse(kept.bytes().toString('utf8'));
    } catch (e) {
      throw new OrreryError(
        'bad_pack',
        `${file}: ${prefix}manifest.json is not valid JSON (${(e as Error).message})`,
      );
    }
    const parsed = ManifestSchema.safeParse(raw);
    if (!parsed.success)
      throw new OrreryError(
        'bad_pack',
        `${file}: ${prefix}manifest.json: ${describeZodError(parsed.error)}`,
      );

    // Every file the manifest names must be in the zip: refused before a byte is written.
    for (const rel of namedFiles(parsed.data)) {
      if (!names.has(`${prefix}${rel}`))
        throw new OrreryError(
          'bad_pack',
          `${file}: ${prefix}manifest.json names ${rel}, which the zip does not hold`,
        );
    }
    for (const e of entries) {
      if (e.name.endsWith('/')) continue;
      if (e.name.startsWith('__MACOSX/')) continue;
      const target = path.resolve(root, e.name);
      await fs.mkdir(path.dirname(target), { recursive: true });
      await inflateTo(reader, e, createWriteStream(target, { flags: 'wx' }));
    }
    const folder = path.join(root, prefix);
    if (!existsSync(path.join(folder, 'manifest.json')))
      throw new OrreryError('bad_pack', `${file}: manifest.json was not unpacked`);
    return prefix ? folder.replace(/[\\/]$/, '') : root;
  } finally {
    await fh.close();
  }
}
