/**
 * A reader's last few reads of a kind (the galaxy's map: 28 MB of blobs read and made compact,
 * ~0.5 s of CPU at 1M features under load), kept while their index file is unchanged, so a
 * second window, a reload or a switch back to an SAE does not read and encode the same map
 * again. Unchanged means SQLite's PRAGMA data_version on the reader's own connection is the
 * same: it moves whenever another connection (a build, a label import, a rename) commits.
 */
import type { Db } from '../db/connection';

export class KeptReads<T> {
  private readonly kept = new Map<string, { db: Db; version: number; value: T }>();

  /** `limit`: how many reads are kept (the oldest is dropped first). */
  constructor(private readonly limit = 2) {}

  /** The kept value of `key` read over `db`, if its file is unchanged since; else `read()`, kept. */
  get(db: Db, key: string, read: () => T): T {
    const version = Number(db.pragma('data_version', { simple: true }));
    const hit = this.kept.get(key);
    if (hit && hit.db === db && hit.version === version) {
      // most recently used last
      this.kept.delete(key);
      this.kept.set(key, hit);
      return hit.value;
    }
    const value = read();
    this.kept.delete(key);
    this.kept.set(key, { db, version, value });
    while (this.kept.size > this.limit) {
      const oldest = this.kept.keys().next().value as string;
      this.kept.delete(oldest);
    }
    return value;
  }

  /** Forgets the reads over `db` (its connection is closing). */
  forget(db: Db): void {
    for (const [key, k] of this.kept) if (k.db === db) this.kept.delete(key);
  }

  get size(): number {
    return this.kept.size;
  }
}
