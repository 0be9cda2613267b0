/**
 * Where each index file lives and how it gets there. A pack's index is a SQLite file in the
 * user's data folder (a pack that ships an index, plain or Brotli-compressed, has it copied or
 * decompressed there on first use, so renames and notes never touch the app folder); an index
 * over a folder of the person's own examples is a file of its own, named by a hash of the
 * folder's path, with a sidecar that remembers the path. Files are checked on first use (a
 * damaged one is moved aside and reported) and keep one connection here for short writes
 * (renames, notes) and status; reads go to the reader threads.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Db } from '../../db/connection';
import type { Recovery } from '../../db/recover';
import { listIndexedSaes, openIndex } from '../../index/index';
import { syncSeed } from '../../index/seed';
import { readShippedMaps, type ShippedMaps } from '../../index/shippedMap';
import type { PackService } from '../../packs/packService';

/** Beside an index over a person's folder: which pack and folder it is for. */
export const CORPUS_SIDECAR = '.corpus.json';

export interface IndexPlace {
  file: string;
  packDir: string;
  corpusDir?: string;
}

export class IndexFiles {
  private readonly connections = new Map<string, Db>();
  /** `${file}#${saeId}` of builds in progress */
  readonly building = new Set<string>();
  /** Seeds in progress by index file, so concurrent first calls share one copy. */
  private readonly seeding = new Map<string, Promise<void>>();
  /** Seeds that failed, by index file: their next use seeds again and reports why. */
  private readonly seedFailed = new Set<string>();
  /** The maps shipped beside a pack's index (shippedMap.ts), read once, by pack. */
  private readonly shippedMaps = new Map<string, ShippedMaps | null>();
  /** First-use checks in progress by index file (checkFirst). */
  private readonly checking = new Map<string, Promise<Recovery | null>>();

  constructor(
    private readonly packs: PackService,
    readonly indexDir: string,
    /** Told when an index file was not a usable database and was moved aside. */
    private readonly onRecovered: (r: Recovery) => void,
    /** Told before a file is replaced or removed (readers close their connections). */
    private readonly onRelease: (file: string) => void = () => undefined,
    /**
     * A file's first-use check off this thread (a reader's; whole or by structure, as
     * main/db/recover.ts checks it): true when it passed. Without
     * it, or when it did not pass, the check runs here, with recovery.
     */
    private readonly checkElsewhere: ((file: string) => Promise<boolean>) | null = null,
  ) {}

  /** The person's copy of a pack's index (over the pack's own examples). */
  copyOf(packId: string): string {
    return path.join(this.indexDir, `${packId}.sqlite`);
  }

  isBuilding(file: string): boolean {
    return [...this.building].some((k) => k.startsWith(`${file}#`));
  }

  /**
   * The pack's index file, seeded from the pack's own index (`.br`: decompressed) through a
   * temporary file, so the final name never holds half a copy; re-seeded, with the person's
   * edits, when the pack ships a different one (seed.ts).
   */
  async place(packId: string, corpus?: string): Promise<IndexPlace> {
    const { pack } = await this.packs.find(packId);
    mkdirSync(this.indexDir, { recursive: true });
    if (corpus !== undefined) {
      const corpusDir = path.resolve(corpus);
      const hash = createHash('sha256').update(corpusDir).digest('hex').slice(0, 12);
      const file = path.join(this.indexDir, `${packId}~${hash}.sqlite`);
      if (existsSync(file) && !this.connections.has(file) && !this.isBuilding(file))
        this.check(file);
      return { file, packDir: pack.dir, corpusDir };
    }
    const file = this.copyOf(packId);
    const shipped = pack.manifest.index;
    const building = this.isBuilding(file);
    if (existsSync(file) && !building && !this.connections.has(file)) {
      // First use in this run: check the file. A damaged copy of a shipped index is moved
      // aside (with its seed record) and seeded again below, instead of starting empty.
      const recovered = await this.checkFirst(file);
      if (recovered && shipped && pack.hasIndex) {
        this.release(file);
        for (const ext of ['', '-wal', '-shm']) rmSync(`${file}${ext}`, { force: true });
        const side = file.replace(/\.sqlite$/, '.seed.json');
        if (existsSync(side)) renameSync(side, `${recovered.movedTo}.seed.json`);
      }
    }
    if (shipped && pack.hasIndex && !building) {
      let seed = this.seeding.get(file);
      if (!seed) {
        seed = syncSeed(
          { shipped: path.join(pack.dir, shipped), version: pack.manifest.version },
          file,
          () => this.release(file),
        )
          .then(
            () => void this.seedFailed.delete(file),
            (e: unknown) => {
              this.seedFailed.add(file);
              throw e;
            },
          )
          .finally(() => this.seeding.delete(file));
        this.seeding.set(file, seed);
      }
      await seed;
    }
    return { file, packDir: pack.dir };
  }

  /**
   * What index.status and index.map can answer before the pack's index is in the data folder:
   * the maps shipped beside it (shippedMap.ts), while the copy is not there yet (a first start:
   * it is being unpacked, or not yet asked for) and no seed of it has failed. Null otherwise:
   * the copy is the source.
   */
  async shippedBeforeCopy(packId: string): Promise<ShippedMaps | null> {
    const { pack } = await this.packs.find(packId);
    const shipped = pack.manifest.index;
    if (!shipped || !pack.hasIndex) return null;
    const file = this.copyOf(packId);
    if (existsSync(file) || this.seedFailed.has(file) || this.isBuilding(file)) {
      this.shippedMaps.delete(packId);
      return null;
    }
    let maps = this.shippedMaps.get(packId);
    if (maps === undefined) {
      maps = readShippedMaps(path.join(pack.dir, shipped));
      this.shippedMaps.set(packId, maps);
    }
    return maps;
  }

  /** The folders of the person's own examples that this pack has an index over. */
  corpora(packId: string): { path: string; built: string[] }[] {
    if (!existsSync(this.indexDir)) return [];
    const out: { path: string; built: string[] }[] = [];
    for (const name of readdirSync(this.indexDir).sort()) {
      if (!name.startsWith(`${packId}~`) || !name.endsWith(CORPUS_SIDECAR)) continue;
      const side = path.join(this.indexDir, name);
      let info: { packId?: unknown; corpus?: unknown };
      try {
        info = JSON.parse(readFileSync(side, 'utf8')) as typeof info;
      } catch {
        continue; // a torn sidecar: its index is still there, under its hash
      }
      if (info.packId !== packId || typeof info.corpus !== 'string') continue;
      const file = side.slice(0, -CORPUS_SIDECAR.length);
      const built = existsSync(file)
        ? listIndexedSaes(this.db(file))
            .filter((x) => x.builtAt)
            .map((x) => x.saeId)
        : [];
      out.push({ path: info.corpus, built });
    }
    return out;
  }

  /** Closes every connection to one index file (this one and the readers'). */
  release(file: string): void {
    this.connections.get(file)?.close();
    this.connections.delete(file);
    this.onRelease(file);
  }

  /** This thread's connection to `file` (opened, migrated, checked on first use). */
  db(file: string): Db {
    let db = this.connections.get(file);
    if (!db) {
      db = openIndex(file, { onRecovered: this.onRecovered });
      this.connections.set(file, db);
    }
    return db;
  }

  /**
   * Opens `file` on first use, checked: by checkElsewhere when there is one (the connection
   * here then opens without a second check), else (or when that check fails) here with
   * recovery. Returns the recovery when there was one.
   */
  checkFirst(file: string): Promise<Recovery | null> {
    if (this.connections.has(file)) return Promise.resolve(null);
    // Concurrent first calls share one check (and one reader request).
    let checking = this.checking.get(file);
    if (!checking) {
      checking = this.openChecked(file).finally(() => this.checking.delete(file));
      this.checking.set(file, checking);
    }
    return checking;
  }

  private async openChecked(file: string): Promise<Recovery | null> {
    const good = this.checkElsewhere ? await this.checkElsewhere(file).catch(() => false) : false;
    if (this.connections.has(file)) return null; // opened while the check ran
    if (good) {
      this.connections.set(file, openIndex(file));
      return null;
    }
    return this.check(file);
  }

  /** Opens `file` (checked, recovered if damaged); returns the recovery when there was one. */
  private check(file: string): Recovery | null {
    let seen: Recovery | null = null;
    const db = openIndex(file, {
      onRecovered: (r) => {
        seen = r;
        this.onRecovered(r);
      },
    });
    this.connections.set(file, db);
    return seen;
  }

  close(): void {
    for (const db of this.connections.values()) db.close();
    this.connections.clear();
  }
}
