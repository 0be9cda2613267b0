/**
 * Thumbnails of a pack's own examples, cut from the pack's sprite sheet, for an index that
 * ships without them (the emoji pack's 3,664 PNG thumbnails would be 20 MB that Brotli
 * cannot shrink, while the pack already holds the sheet). The sheet is decoded on first use
 * and dropped after a minute without a request, so its pixels (about 60 MB for the emoji
 * pack) do not stay in memory. The app decodes it in a worker thread (`read`): a 12 MB PNG
 * takes about a second, which the API thread should not spend.
 */
import path from 'node:path';
import type { LoadedPack } from '../packs/packReader';
import { readSheet, sheetThumb, type Sheet } from './corpus';

interface Entry {
  sheet: Promise<Sheet>;
  timer: NodeJS.Timeout | null;
}

export class PackThumbs {
  private readonly sheets = new Map<string, Entry>();

  constructor(
    private readonly idleMs = 60_000,
    private readonly read: (file: string, tile: number) => Promise<Sheet> = readSheet,
  ) {}

  /** The thumbnail of example `id` (its line in the pack's examples file), or null. */
  async thumb(pack: LoadedPack, id: number): Promise<Buffer | null> {
    const m = pack.manifest;
    if (m.kind === 'text-lm' || !m.examples) return null;
    const file = path.join(pack.dir, m.examples.sheet);
    let entry = this.sheets.get(file);
    if (!entry) {
      entry = { sheet: this.read(file, m.examples.tile), timer: null };
      this.sheets.set(file, entry);
      entry.sheet.catch(() => this.sheets.delete(file));
    }
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.sheets.delete(file), this.idleMs);
    entry.timer.unref();
    const sheet = await entry.sheet;
    const t = sheet.tile;
    const capacity =
      m.kind === 'image-vae'
        ? Math.floor(sheet.width / t) * Math.floor(sheet.height / t)
        : Math.floor(sheet.height / t);
    if (id < 0 || id >= capacity) return null;
    return sheetThumb(m.kind, sheet, id);
  }

  /** How many sheets are decoded now (for tests). */
  get held(): number {
    return this.sheets.size;
  }

  close(): void {
    for (const e of this.sheets.values()) if (e.timer) clearTimeout(e.timer);
    this.sheets.clear();
  }
}
