/**
 * The maps of a shipped index, beside it (`features.map.orb` beside `features.sqlite.br`;
 * models/PACK_FORMAT.md), so a first start draws the galaxy without waiting for the index to
 * be unpacked (issue 19: a 94 MB index takes ~0.3 s of Brotli, on the start's critical path).
 * One ORB1 frame (preload/contract/binary.ts): per SAE, what index.status and index.map answer
 * (its sizes, and the map as index.map sends it). It names the shipped file it was made from
 * by size and a hash of its first 64 KiB, so a sidecar left from an older index is not used.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, promises as fs, readFileSync, readSync, statSync } from 'node:fs';
import { decodeFrame, encodeMessage, limits } from '../../preload/contract';
import type { Db } from '../db/connection';
import { readMap, type MapRead } from './mapRead';
import { listIndexedSaes } from './search';

const HEAD_BYTES = 64 * 1024;
const FORMAT = 1;

export interface ShippedSae {
  saeId: string;
  /** the SAE's width and examples, as index.status reports them */
  features: number;
  examples: number;
  built: boolean;
  map: MapRead | null;
}

export interface ShippedMaps {
  saes: ShippedSae[];
}

/** Where the maps of shipped index `index` go: `features.sqlite.br` → `features.map.orb`. */
export function shippedMapPath(index: string): string {
  return `${index.replace(/\.sqlite(\.br)?$/, '')}.map.orb`;
}

/** What names the shipped file: its size and a hash of its first bytes. */
function fingerprint(index: string): { bytes: number; head: string } {
  const bytes = statSync(index).size;
  const buf = Buffer.alloc(Math.min(HEAD_BYTES, bytes));
  const fd = openSync(index, 'r');
  try {
    readSync(fd, buf, 0, buf.byteLength, 0);
  } finally {
    closeSync(fd);
  }
  return { bytes, head: createHash('sha256').update(buf).digest('hex') };
}

/**
 * Writes the maps of every SAE in `db` (the unpacked copy of `index`) beside `index`.
 * Returns the sidecar's path and size.
 */
export async function writeShippedMaps(
  db: Db,
  index: string,
): Promise<{ file: string; bytes: number }> {
  const saes: ShippedSae[] = listIndexedSaes(db).map((s) => ({
    saeId: s.saeId,
    features: s.dSae,
    examples: s.nExamples,
    built: Boolean(s.builtAt),
    map: s.builtAt ? readMap(db, s.saeId) : null,
  }));
  const frame = encodeMessage({ format: FORMAT, index: fingerprint(index), saes });
  const file = shippedMapPath(index);
  const bytes = typeof frame === 'string' ? Buffer.from(frame) : frame;
  await fs.writeFile(`${file}.tmp`, bytes);
  await fs.rename(`${file}.tmp`, file);
  return { file, bytes: bytes.byteLength };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when `m` has index.map's arrays, each of the length `count` asks. */
function wellFormed(m: unknown): m is MapRead {
  if (!isObject(m) || !isObject(m.map) || !Array.isArray(m.clusters)) return false;
  const w = m.map;
  const n = w.count;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return false;
  const c = w.cluster;
  return (
    (w.features === null || (w.features instanceof Uint32Array && w.features.length === n)) &&
    w.positions instanceof Uint16Array &&
    w.positions.length === n * 3 &&
    w.density instanceof Uint16Array &&
    w.density.length === n &&
    (c instanceof Uint8Array || c instanceof Uint16Array || c instanceof Int32Array) &&
    c.length === n &&
    isObject(w.box) &&
    isObject(w.densityScale) &&
    typeof w.radius === 'number' &&
    m.clusters.every((k) => isObject(k) && typeof k.id === 'number' && typeof k.label === 'string')
  );
}

/**
 * The maps beside shipped index `index`, or null when there are none, they were made from
 * another file, or they cannot be read (the index itself is then the only source).
 */
export function readShippedMaps(index: string): ShippedMaps | null {
  let frame: Buffer;
  try {
    const file = shippedMapPath(index);
    // no bigger than a frame may be (a pack is someone else's file)
    if (statSync(file).size > limits.frameBytes) return null;
    frame = readFileSync(file);
  } catch {
    return null;
  }
  try {
    const m = decodeFrame(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
    if (!isObject(m) || m.format !== FORMAT || !isObject(m.index) || !Array.isArray(m.saes))
      return null;
    const now = fingerprint(index);
    if (m.index.bytes !== now.bytes || m.index.head !== now.head) return null;
    const saes: ShippedSae[] = [];
    for (const s of m.saes as unknown[]) {
      if (!isObject(s) || typeof s.saeId !== 'string') return null;
      if (typeof s.features !== 'number' || typeof s.examples !== 'number') return null;
      if (s.map !== null && !wellFormed(s.map)) return null;
      saes.push({
        saeId: s.saeId,
        features: s.features,
        examples: s.examples,
        built: s.built === true,
        map: s.map,
      });
    }
    return { saes };
  } catch {
    return null;
  }
}
