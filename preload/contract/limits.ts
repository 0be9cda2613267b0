/** Size limits that every payload is held to at the door. */
export const limits = {
  /** Identifiers: pack ids, job ids, SAE ids. */
  idLength: 128,
  /** Paths on the user's disk. */
  pathLength: 4096,
  /** Entries one folder listing (files.list) returns; the rest are left out and it says so. */
  listEntries: 5000,
  /** Search queries. */
  queryLength: 512,
  /** Whole wire message, in characters. */
  messageLength: 1_000_000,
} as const;
