/**
 * JSON records streamed from a file: JSON lines (gzipped or not, decompressed as they stream,
 * one line held at a time) or one JSON array (parsed whole, up to a size). Bounded: the bytes
 * once decompressed, a gzip's inflation ratio and one line's length are capped by name, so a
 * bomb is refused after megabytes. Used by the Neuronpedia label and dashboard imports.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { limits, OrreryError } from '../../preload/contract';

/** A JSON-array export is parsed whole; past this size it must be JSON lines. */
const MAX_ARRAY_BYTES = 256 * 1024 * 1024;

/** Bounds of one file (defaults: limits.labelBytes, limits.labelLineBytes). */
export interface LabelCaps {
  /** Bytes of the export once decompressed. */
  bytes: number;
  /** Bytes of one line. */
  line: number;
}

export const defaultCaps = (): LabelCaps => ({
  bytes: limits.labelBytes,
  line: limits.labelLineBytes,
});

export interface Parsed {
  /** "line 7" (JSON lines) or "record 7" (a JSON array). */
  where: string;
  json: boolean;
  value: unknown;
}

/**
 * Counts bytes as they stream and fails past the limit (the decompressed size of an import),
 * or, for a gzip, once past labelRatioFloor bytes at more than labelRatio times what was read
 * of the file (a bomb is refused after megabytes, not after parsing a gigabyte of lines).
 */
function capBytes(file: string, max: number, compressedRead?: () => number): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback) {
      n += chunk.length;
      const packed = compressedRead?.() ?? 0;
      if (compressedRead && n > limits.labelRatioFloor && n > limits.labelRatio * packed)
        return done(
          new OrreryError(
            'too_large',
            `${file}: inflates more than ${limits.labelRatio}× (${n.toLocaleString('en-US')} bytes from ${packed.toLocaleString('en-US')}); the limit (labelRatio) is ${limits.labelRatio}×`,
          ),
        );
      if (n > max)
        return done(
          new OrreryError(
            'too_large',
            `${file}: more than ${max.toLocaleString('en-US')} bytes of labels once decompressed; the limit (labelBytes) is ${max.toLocaleString('en-US')}`,
          ),
        );
      done(null, chunk);
    },
  });
}

/**
 * The lines of a stream as strings, split on \n (a trailing \r dropped), never holding more
 * than `maxLine` bytes of one line: a longer line is a too_large error naming it.
 */
async function* splitLines(input: Readable, file: string, maxLine: number): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  let held = 0;
  let n = 0;
  const tooLong = (): OrreryError =>
    new OrreryError(
      'too_large',
      `${file}: line ${n + 1} is longer than ${maxLine.toLocaleString('en-US')} bytes; the limit (labelLineBytes) is ${maxLine.toLocaleString('en-US')}`,
    );
  const text = (b: Buffer): string => {
    const s = b.toString('utf8');
    return s.endsWith('\r') ? s.slice(0, -1) : s;
  };
  for await (const c of input) {
    let chunk = c as Buffer;
    for (;;) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) break;
      if (held + nl > maxLine) throw tooLong();
      parts.push(chunk.subarray(0, nl));
      yield text(Buffer.concat(parts));
      n++;
      parts = [];
      held = 0;
      chunk = chunk.subarray(nl + 1);
    }
    held += chunk.length;
    if (held > maxLine) throw tooLong();
    if (chunk.length) parts.push(Buffer.from(chunk));
  }
  if (held > 0) yield text(Buffer.concat(parts));
}

/** The export's records in order, each parsed or marked as not JSON. */
export async function* records(file: string, caps: LabelCaps): AsyncGenerator<Parsed> {
  const head = Buffer.alloc(512);
  const fh = await open(file, 'r');
  let size: number;
  let got: number;
  try {
    size = (await fh.stat()).size;
    got = (await fh.read(head, 0, head.length, 0)).bytesRead;
  } finally {
    await fh.close();
  }
  const gzip = got >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  const first = head.subarray(0, got).toString('utf8').trimStart()[0];
  if (!gzip && first === '[') {
    if (size > MAX_ARRAY_BYTES) {
      throw new OrreryError(
        'too_large',
        `${file} is a ${Math.round(size / 2 ** 20)} MB JSON array; above ` +
          `${MAX_ARRAY_BYTES / 2 ** 20} MB export it as JSON lines`,
      );
    }
    const chunks: Buffer[] = [];
    for await (const c of createReadStream(file)) chunks.push(c as Buffer);
    let all: unknown;
    try {
      all = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      throw new OrreryError(
        'bad_input',
        `${file} starts like a JSON array but is not JSON (${(e as Error).message})`,
      );
    }
    if (!Array.isArray(all)) throw new OrreryError('bad_input', `${file} is not a JSON array`);
    for (let i = 0; i < all.length; i++) {
      yield { where: `record ${i + 1}`, json: true, value: all[i] as unknown };
    }
    return;
  }
  const raw: Readable = createReadStream(file);
  let packed = 0;
  raw.on('data', (c: Buffer) => (packed += c.length));
  const cap = capBytes(file, caps.bytes, gzip ? () => packed : undefined);
  let input: Readable;
  if (gzip) {
    const gunzip = createGunzip();
    input = raw.pipe(gunzip).pipe(cap);
    // A damaged gzip is the file's fault: said as such, not as an internal error.
    gunzip.on('error', (e) =>
      cap.destroy(new OrreryError('bad_input', `${file}: not a readable gzip file (${e.message})`)),
    );
  } else {
    input = raw.pipe(cap);
  }
  raw.on('error', (e) => cap.destroy(e));
  let n = 0;
  try {
    for await (const line of splitLines(input, file, caps.line)) {
      n++;
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        yield { where: `line ${n}`, json: false, value: null };
        continue;
      }
      yield { where: `line ${n}`, json: true, value };
    }
  } finally {
    raw.destroy();
    input.destroy();
  }
}
