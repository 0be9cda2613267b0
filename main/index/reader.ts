/**
 * A reader thread of the index (main/services/index/readers.ts keeps a pool of them): search,
 * cards, map positions, sheet decoding and exports (Neuronpedia zip, map CSV), each on read-only connections kept per file, so
 * no index read runs on the thread that serves dial calls. Started from its own entry
 * (readerEntry.ts).
 */
import type { MessagePort } from 'node:worker_threads';
import { OrreryError, type ErrorCode } from '../../preload/contract/errors';
import { openDatabase, type Db } from '../db/connection';
import { checkDatabase } from '../db/recover';
import { readCard, readTitles } from './card';
import { readSheet } from './corpus';
import { mapCsv, neuronpediaZip, type NeuronpediaExportOptions } from './dashboards/export';
import { openIndex } from './open';
import { searchFeatures, type SearchQuery } from './search';
import { KeptReads } from './keptReads';
import { readMap, sharedMapRead, type MapRead } from './mapRead';
import { warmInBackground } from './warm';

export type ReaderRequest =
  | { type: 'search'; id: number; file: string; query: SearchQuery }
  | { type: 'card'; id: number; file: string; saeId: string; idx: number }
  | { type: 'titles'; id: number; file: string; saeId: string; features: number[] }
  | { type: 'map'; id: number; file: string; saeId: string }
  | { type: 'sheet'; id: number; file: string; tile: number }
  /**
   * The first-use check of `file` on a connection of its own (closed after): true when ok.
   * Whole (quick_check) up to `wholeCheckBytes` (default WHOLE_CHECK_BYTES), by structure
   * above it, as when the API thread opens a file with recovery (main/db/recover.ts).
   */
  | { type: 'check'; id: number; file: string; wholeCheckBytes?: number }
  /** The SAE's features as a zipped Neuronpedia export, or its map as CSV: a file's bytes. */
  | {
      type: 'export';
      id: number;
      file: string;
      saeId: string;
      what: 'neuronpedia' | 'map';
      options?: NeuronpediaExportOptions;
    }
  /** Close this reader's connection to `file` (it is about to be replaced or removed). */
  /** Close the connection to `file`, or every connection when null (before the pool ends). */
  | { type: 'release'; id: number; file: string | null };

export type ReaderReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; message: string; code?: ErrorCode };

export function serveReader(port: MessagePort): void {
  const dbs = new Map<string, Db>();
  const maps = new KeptReads<MapRead | null>();
  const db = (file: string): Db => {
    let d = dbs.get(file);
    if (!d) {
      d = openIndex(file, { readonly: true });
      dbs.set(file, d);
      // the search pages mapped while the reader is idle (warm.ts): a first search then
      // meets no page faults
      warmInBackground(d);
    }
    return d;
  };
  const ok = (id: number, value: unknown, transfer: ArrayBuffer[] = []): void =>
    port.postMessage({ id, ok: true, value } satisfies ReaderReply, transfer);
  port.on('message', (m: ReaderRequest) => {
    void (async () => {
      try {
        switch (m.type) {
          case 'search':
            ok(m.id, searchFeatures(db(m.file), m.query));
            return;
          case 'card':
            ok(m.id, readCard(db(m.file), m.saeId, m.idx));
            return;
          case 'titles':
            ok(m.id, readTitles(db(m.file), m.saeId, m.features));
            return;
          case 'map': {
            const d = db(m.file);
            // Kept while the file is unchanged (keptReads.ts), in shared memory: it goes to the
            // API thread as a reference, neither copied nor handed over (sharedMapRead).
            ok(
              m.id,
              maps.get(d, `${m.file}#${m.saeId}`, () => {
                const r = readMap(d, m.saeId);
                return r && sharedMapRead(r);
              }),
            );
            return;
          }
          case 'check': {
            let good = false;
            try {
              const d = openDatabase(m.file, { readonly: true });
              try {
                checkDatabase(d, m.file, m.wholeCheckBytes);
                good = true;
              } finally {
                d.close();
              }
            } catch {
              // not a database, or damaged: the API thread opens it with recovery
            }
            ok(m.id, good);
            return;
          }
          case 'sheet': {
            const sheet = await readSheet(m.file, m.tile);
            ok(m.id, sheet, [sheet.rgba.buffer as ArrayBuffer]);
            return;
          }
          case 'export': {
            const d = db(m.file);
            if (m.what === 'map') {
              const { csv } = mapCsv(d, m.saeId);
              ok(m.id, { name: `${m.saeId}-map.csv`, mime: 'text/csv', bytes: Buffer.from(csv) });
              return;
            }
            const z = await neuronpediaZip(d, m.saeId, m.options);
            ok(m.id, { name: z.name, mime: 'application/zip', bytes: z.bytes }, [
              z.bytes.buffer as ArrayBuffer,
            ]);
            return;
          }
          case 'release':
            for (const [file, db] of dbs) {
              if (m.file !== null && file !== m.file) continue;
              maps.forget(db);
              db.close();
              dbs.delete(file);
            }
            ok(m.id, true);
            return;
        }
      } catch (e) {
        port.postMessage({
          id: m.id,
          ok: false,
          message: (e as Error).message,
          ...(e instanceof OrreryError ? { code: e.code } : {}),
        } satisfies ReaderReply);
      }
    })();
  });
}
