// The index reader pool with real worker threads over a real SQLite index: searches, cards
// (in the contract's field names) and map positions (typed arrays handed over, not copied)
// come back from reader threads; concurrent reads spread over the threads; a failing read
// names its error and leaves the pool serving; release closes the readers' connections; a
// reader started before the pool (the server's early reader) is taken as its first thread.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMapArrays, FeatureCardSchema } from '../../../preload/contract';
import { openIndex, refreshLabels, type SearchHit } from '../../../main/index';
import type { CardRead } from '../../../main/index/card';
import type { MapRead } from '../../../main/index/mapRead';
import { startEarlyWorker } from '../../../main/app/earlyWorker';
import { ReaderPool } from '../../../main/services/index/readers';
import { repoRoot, tempDir } from './helpers';

const SAE = 'r';
const N = 500;
const tmp = tempDir();
const file = join(tmp.dir, 'readers.sqlite');
let pool: ReaderPool;

beforeAll(() => {
  const db = openIndex(file);
  db.prepare(
    `insert into saes (sae_id, hook, kind, d_sae, d_in, architecture, built_at)
     values (?, 'h', 'text-lm', ?, 4, 'topk', 'now')`,
  ).run(SAE, N);
  const add = db.prepare(
    `insert into features (sae_id, idx, auto_label, auto_source, density, max_act, mean_act, cluster)
     values (?, ?, ?, 'top-tokens', 0.01, ?, 1, 0)`,
  );
  db.prepare(
    `insert into examples (id, name, body, meta) values (1, 'ex one', 'a b c', '{}')`,
  ).run();
  db.prepare(
    `insert into top_examples (sae_id, idx, rank, example_id, activation, position, window)
     values (?, 7, 0, 1, 3.5, 1, ?)`,
  ).run(SAE, JSON.stringify({ tokens: ['a', 'b', 'c'], acts: [0, 3.5, 0], start: 0, focus: 1 }));
  db.prepare(
    `insert into clusters (sae_id, id, label, size, cx, cy, cz) values (?, 0, 'all', ?, 1, 2, 3)`,
  ).run(SAE, N);
  db.transaction(() => {
    for (let i = 0; i < N; i++) add.run(SAE, i, i % 5 === 0 ? `harbour ${i}` : `field ${i}`, i);
  })();
  refreshLabels(db, SAE);
  const blob = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  db.prepare(
    'insert into map_blobs(sae_id, count, idx, xyz, cluster, density) values (?, ?, ?, ?, ?, ?)',
  ).run(
    SAE,
    N,
    blob(Uint32Array.from({ length: N }, (_, i) => i)),
    blob(Float32Array.from({ length: N * 3 }, (_, i) => i / 3)),
    blob(new Uint32Array(N)),
    blob(new Float32Array(N).fill(0.01)),
  );
  db.close();
  pool = new ReaderPool({ file: join(repoRoot, 'main/index/readerEntry.ts'), tsx: true }, 2);
});

afterAll(async () => {
  await pool.close();
  tmp.cleanup();
});

describe('index reader pool', () => {
  it('searches, reads a card and the map in reader threads', async () => {
    const hits = await pool.run<SearchHit[]>({
      type: 'search',
      file,
      query: { saeId: SAE, text: 'harb', limit: 500 },
    });
    expect(hits.length).toBe(N / 5);
    expect(hits.every((h) => (h.label ?? '').startsWith('harbour'))).toBe(true);

    const card = await pool.run<CardRead | null>({ type: 'card', file, saeId: SAE, idx: 7 });
    expect(card).not.toBeNull();
    // the reader's card is the contract's card: it parses as is
    expect(FeatureCardSchema.parse(card?.card)).toEqual(card?.card);
    expect(card?.card.topExamples[0]).toMatchObject({ tokens: ['a', 'b', 'c'], activation: 3.5 });
    expect(card?.needThumbs).toEqual([]);
    expect(await pool.run({ type: 'card', file, saeId: SAE, idx: N + 1 })).toBeNull();

    // the reader sends the map compact (mapWire.ts): quantised positions, no ids when point i is i
    const read = await pool.run<MapRead>({ type: 'map', file, saeId: SAE });
    expect(read.map.count).toBe(N);
    expect(read.map.features).toBeNull();
    const map = decodeMapArrays(read.map);
    const halfStep = Math.max(...read.map.box.step) / 2;
    for (const i of [0, 299, N * 3 - 1])
      expect(Math.abs((map.positions[i] ?? NaN) - i / 3)).toBeLessThanOrEqual(halfStep * 1.0001);
    expect(map.features[7]).toBe(7);
    expect(read.clusters).toEqual([{ id: 0, label: 'all', size: N, centroid: [1, 2, 3] }]);
  });

  it('spreads concurrent reads over its threads', async () => {
    const reads = Array.from({ length: 8 }, (_, i) =>
      pool.run<SearchHit[]>({ type: 'search', file, query: { saeId: SAE, text: `${i * 5}` } }),
    );
    const all = await Promise.all(reads);
    expect(pool.started).toBe(2);
    all.forEach((hits, i) => expect(hits.map((h) => h.idx)).toContain(i * 5));
  });

  it('names a failed read and keeps serving', async () => {
    await expect(
      pool.run({ type: 'search', file: join(tmp.dir, 'missing.sqlite'), query: { saeId: SAE } }),
    ).rejects.toThrow(/missing\.sqlite|unable to open|directory/i);
    const hits = await pool.run<SearchHit[]>({
      type: 'search',
      file,
      query: { saeId: SAE, text: 'field 1' },
    });
    expect(hits.length).toBeGreaterThan(0);
  });

  it('takes a reader started before it (the early reader of the server) as its first thread', async () => {
    const entry = { file: join(repoRoot, 'main/index/readerEntry.ts'), tsx: true };
    const early = startEarlyWorker(entry);
    const own = new ReaderPool(entry, 1);
    try {
      const worker = early.take();
      expect(worker).not.toBeNull();
      expect(early.take()).toBeNull();
      expect(own.adopt(worker as NonNullable<typeof worker>)).toBe(true);
      expect(own.started).toBe(1);
      const hits = await own.run<SearchHit[]>({
        type: 'search',
        file,
        query: { saeId: SAE, text: 'harbour', limit: 500 },
      });
      expect(hits.length).toBe(N / 5);
      // one thread only, the adopted one; a pool already running takes no other
      expect(own.started).toBe(1);
      const other = startEarlyWorker(entry).take();
      expect(own.adopt(other as NonNullable<typeof other>)).toBe(false);
      await other?.terminate();
    } finally {
      await own.close();
    }
  });

  it('closes its connections on release, so the file can be replaced', async () => {
    await pool.release(file);
    for (const ext of ['-wal', '-shm']) rmSync(`${file}${ext}`, { force: true });
    const hits = await pool.run<SearchHit[]>({
      type: 'search',
      file,
      query: { saeId: SAE, text: 'harbour' },
    });
    expect(hits.length).toBeGreaterThan(0);
  });
});
