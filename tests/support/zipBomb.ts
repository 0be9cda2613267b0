/**
 * Zips written byte by byte for tests and the bench: any entry sizes a zip may declare,
 * honest or not, and a deflate bomb (gigabytes of zeros in about a megabyte) made without
 * inflating it: one 1 MiB block of zeros deflated with a full flush, repeated.
 */
import zlib from 'node:zlib';

export interface RawEntry {
  name: string;
  /** The bytes as stored (deflated when method is 8). */
  data: Buffer;
  method: 0 | 8;
  crc: number;
  /** Uncompressed size the zip declares. */
  size: number;
}

export function stored(name: string, bytes: Buffer | string): RawEntry {
  const data = Buffer.from(bytes);
  return { name, data, method: 0, crc: zlib.crc32(data), size: data.length };
}

export function deflated(name: string, bytes: Buffer | string): RawEntry {
  const raw = Buffer.from(bytes);
  return {
    name,
    data: zlib.deflateRawSync(raw),
    method: 8,
    crc: zlib.crc32(raw),
    size: raw.length,
  };
}

/** `mib` MiB of zeros, deflated (about 1 KiB per MiB), with its true CRC and size. */
export function zeroBomb(name: string, mib: number): RawEntry {
  const zeros = Buffer.alloc(1024 * 1024);
  const block = zlib.deflateRawSync(zeros, { finishFlush: zlib.constants.Z_FULL_FLUSH, level: 9 });
  const parts: Buffer[] = [];
  let crc = 0;
  for (let i = 0; i < mib; i++) {
    parts.push(block);
    crc = zlib.crc32(zeros, crc);
  }
  parts.push(Buffer.from([0x03, 0x00])); // the final, empty block
  return { name, data: Buffer.concat(parts), method: 8, crc, size: mib * 1024 * 1024 };
}

/** A zip archive of the entries, exactly as given (sizes and CRCs are not checked). */
export function writeZip(entries: RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(0x800, 6);
    h.writeUInt16LE(e.method, 8);
    h.writeUInt32LE(e.crc >>> 0, 14);
    h.writeUInt32LE(e.data.length, 18);
    h.writeUInt32LE(Math.min(e.size, 0xfffffffe), 22);
    h.writeUInt16LE(name.length, 26);
    locals.push(h, name, e.data);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(0x800, 8);
    c.writeUInt16LE(e.method, 10);
    c.writeUInt32LE(e.crc >>> 0, 16);
    c.writeUInt32LE(e.data.length, 20);
    c.writeUInt32LE(Math.min(e.size, 0xfffffffe), 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offset, 42);
    centrals.push(c, name);
    offset += 30 + name.length + e.data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
