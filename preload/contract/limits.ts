/**
 * The one limit table. Every transport (Electron IPC, the WebSocket, the dispatcher) and every
 * call is held to these; a payload over one is refused with code `too_large`, naming the limit.
 * The numbers are sized so that no ordinary file comes near them: a photo or a font is uploaded
 * once as bytes (`blobs.put`) and then named by its hash.
 */
const MiB = 1024 * 1024;

export const limits = {
  /** Identifiers: pack ids, job ids, SAE ids. */
  idLength: 128,
  /** Paths on the user's disk. */
  pathLength: 4096,
  /** Entries one folder listing (files.list) returns; the rest are left out and it says so. */
  listEntries: 5000,
  /** Search queries. */
  queryLength: 512,
  /** The JSON part of one message (call, reply or event), in UTF-8 bytes. */
  messageBytes: 4 * MiB,
  /** One uploaded file (an image or a font), in bytes. */
  uploadBytes: 64 * MiB,
  /** One binary WebSocket frame: its JSON header plus its byte payloads. */
  frameBytes: 64 * MiB + 4 * MiB,
  /** Typed arrays carried in one binary frame. */
  frameBuffers: 64,
  /** Pixels of any image decoded from input (width × height). */
  imagePixels: 40_000_000,
  /** A zipped pack: entries, total uncompressed bytes, and one entry's compression ratio. */
  zipEntries: 10_000,
  zipBytes: 2 * 1024 * MiB,
  zipRatio: 100,
  /** Label imports (Neuronpedia exports): one line, and the whole file once decompressed. */
  labelLineBytes: 1 * MiB,
  labelBytes: 1024 * MiB,
  /** A gzipped label export may inflate at most this many times (checked past the floor). */
  labelRatio: 50,
  labelRatioFloor: 16 * MiB,
  /** Nesting depth of a recipe's JSON values (step inputs). */
  recipeDepth: 16,
} as const;

export type LimitName = keyof typeof limits;

/** The message a `too_large` error carries: what was over which limit, in a person's words. */
export function overLimit(what: string, size: number, limit: LimitName): string {
  return `${what} is ${size.toLocaleString('en-US')} bytes; the limit (${limit}) is ${limits[limit].toLocaleString('en-US')}`;
}
