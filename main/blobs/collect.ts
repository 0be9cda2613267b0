/**
 * Garbage collection of the blob store. Mark: the hashes the sessions database names (asked of
 * its worker, see SessionStore.blobHashes) — steps of every branch, undone or not, stay in the
 * tree and so keep their blobs; a removed session's steps are gone and free theirs. Sweep: every
 * kept blob that is not marked, not pinned, and not used within the grace period (its mtime:
 * written, or named by a run, see BlobStore) is deleted, one file at a time, each checked again
 * just before (BlobStore.removeUnused). Leftovers of a crash (`*.tmp` half writes, `*.gc`
 * files set aside) older than the grace period go too.
 *
 * The grace period keeps what the page holds but no step names yet: a file opened a moment
 * ago, an output on its way to its step. What is stamped after the mark (a run that names an
 * old upload again) is newer than the cutoff, which is taken before the mark, so it stays.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { BLOB_HASH, type BlobStore } from './blobStore';

/** A day: an upload the page has not yet run survives the session it was opened in. */
export const BLOB_GRACE_MS = 24 * 60 * 60 * 1000;

export interface CollectOptions {
  /** Blobs used this long before `now` or since stay whether named or not. */
  graceMs?: number;
  now?: () => Date;
}

export interface Collected {
  /** Blobs kept (named, pinned or recent). */
  kept: number;
  keptBytes: number;
  /** Blobs deleted, and crash leftovers. */
  removed: number;
  freedBytes: number;
}

const LEFTOVER = /^[0-9a-f]{64}\.[0-9a-f]+\.(tmp|gc)$/;

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Deletes the blobs nothing needs. `referenced` is asked after the cutoff is fixed (so a blob
 * used between the two counts as recent); the file walk is asynchronous and each delete is one
 * synchronous check-and-remove, so the API thread keeps answering.
 */
export async function collectBlobs(
  store: BlobStore,
  referenced: () => Promise<Iterable<string>>,
  options: CollectOptions = {},
): Promise<Collected> {
  const now = options.now ?? (() => new Date());
  const cutoff = new Date(now().getTime() - (options.graceMs ?? BLOB_GRACE_MS));
  const marked = new Set(await referenced());
  const out: Collected = { kept: 0, keptBytes: 0, removed: 0, freedBytes: 0 };
  for (const shard of await listDir(store.dir)) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue;
    const folder = path.join(store.dir, shard);
    for (const name of await listDir(folder)) {
      const file = path.join(folder, name);
      if (BLOB_HASH.test(name) && name.startsWith(shard)) {
        const freed = marked.has(name) ? null : store.removeUnused(name, cutoff);
        if (freed === null) {
          out.kept++;
          out.keptBytes += await stat(file).then(
            (s) => s.size,
            () => 0,
          );
        } else {
          out.removed++;
          out.freedBytes += freed;
        }
      } else if (LEFTOVER.test(name)) {
        const s = await stat(file).catch(() => null);
        if (s && s.mtimeMs < cutoff.getTime()) {
          await unlink(file).catch(() => undefined);
          out.removed++;
          out.freedBytes += s.size;
        }
      }
    }
  }
  return out;
}

/**
 * The app's collector: once shortly after start-up, in the background, and on demand
 * (`blobs.collect`); one collection at a time (a call during one gets its result).
 */
export class BlobCollector {
  private running: Promise<Collected> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: BlobStore,
    private readonly referenced: () => Promise<Iterable<string>>,
    private readonly options: CollectOptions = {},
  ) {}

  collect(): Promise<Collected> {
    this.running ??= collectBlobs(this.store, this.referenced, this.options).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /**
   * Collects once `delayMs` from now, off every call's path: a failure is reported, not thrown,
   * and the timer does not keep the process alive.
   */
  startLater(delayMs: number, report: (r: Collected | Error) => void): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.collect().then(report, (e: unknown) =>
        report(e instanceof Error ? e : new Error(String(e))),
      );
    }, delayMs);
    this.timer.unref();
  }

  /** Cancels a collection not yet started and waits for one under way. */
  async dispose(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
