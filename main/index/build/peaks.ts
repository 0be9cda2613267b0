/**
 * Per-example peaks of each feature (what the metadata associations need), stored a chunk
 * at a time as three packed arrays in one row of build_peaks: a row per peak made SQLite
 * the slowest part of a text build (millions of rows written, then deleted).
 */
import type { Db } from '../../db/connection';

export class PeakBuffer {
  private example: number[] = [];
  private feature: number[] = [];
  private activation: number[] = [];

  push(example: number, feature: number, activation: number): void {
    this.example.push(example);
    this.feature.push(feature);
    this.activation.push(activation);
  }

  clear(): void {
    this.example = [];
    this.feature = [];
    this.activation = [];
  }

  pack(): { example: Buffer; feature: Buffer; activation: Buffer } {
    const buf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    return {
      example: buf(Int32Array.from(this.example)),
      feature: buf(Int32Array.from(this.feature)),
      activation: buf(Float32Array.from(this.activation)),
    };
  }
}

/** Every feature's peaks, as corpus slots (positions in the corpus order) and values. */
export interface PeaksByFeature {
  of(feature: number): { slots: Int32Array; acts: Float32Array };
}

function view<T extends Int32Array | Float32Array>(
  b: Buffer,
  make: (buf: ArrayBuffer, off: number, len: number) => T,
): T {
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return make(copy.buffer, 0, b.byteLength / 4);
}

export function readPeaks(
  db: Db,
  saeId: string,
  dSae: number,
  slotOf: ReadonlyMap<number, number>,
): PeaksByFeature {
  const rows = db
    .prepare('select example, feature, activation from build_peaks where sae_id = ? order by chunk')
    .all(saeId) as { example: Buffer; feature: Buffer; activation: Buffer }[];
  const chunks = rows.map((r) => ({
    example: view(r.example, (b, o, l) => new Int32Array(b, o, l)),
    feature: view(r.feature, (b, o, l) => new Int32Array(b, o, l)),
    activation: view(r.activation, (b, o, l) => new Float32Array(b, o, l)),
  }));
  // Two passes into CSR by feature: count, then fill (slots stay in corpus order per chunk).
  const start = new Int32Array(dSae + 1);
  for (const c of chunks) {
    for (let i = 0; i < c.feature.length; i++) {
      const j = (c.feature[i] ?? 0) + 1;
      if (slotOf.has(c.example[i] ?? -1)) start[j] = (start[j] ?? 0) + 1;
    }
  }
  for (let j = 0; j < dSae; j++) start[j + 1] = (start[j + 1] ?? 0) + (start[j] ?? 0);
  const total = start[dSae] ?? 0;
  const slots = new Int32Array(total);
  const acts = new Float32Array(total);
  const fill = start.slice(0, dSae);
  for (const c of chunks) {
    for (let i = 0; i < c.feature.length; i++) {
      const slot = slotOf.get(c.example[i] ?? -1);
      if (slot === undefined) continue;
      const j = c.feature[i] ?? 0;
      const at = fill[j] ?? 0;
      slots[at] = slot;
      acts[at] = c.activation[i] ?? 0;
      fill[j] = at + 1;
    }
  }
  return {
    of: (j) => ({
      slots: slots.subarray(start[j] ?? 0, start[j + 1] ?? 0),
      acts: acts.subarray(start[j] ?? 0, start[j + 1] ?? 0),
    }),
  };
}
