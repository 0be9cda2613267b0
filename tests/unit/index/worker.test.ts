// The build in a worker thread: progress messages, the result, and cancel by id; the main
// thread reads the same database while the worker writes it. Label imports go the same way.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { listIndexedSaes, openIndex, searchFeatures } from '../../../main/index';
import { readSheet } from '../../../main/index/corpus';
import type { IndexWorkerReply, IndexWorkerRequest } from '../../../main/index/worker';
import { writeSyntheticExport, wordOf } from '../../support/neuronpediaExport';
import { fixture, repoRoot, tempDir } from './helpers';

function startWorker(): Worker {
  // The app starts the built worker; here tsx compiles the TypeScript entry on the fly.
  const entry = JSON.stringify(join(repoRoot, 'main/index/worker.ts'));
  return new Worker(`require('tsx/cjs'); require(${entry});`, { eval: true });
}

function until(
  w: Worker,
  pred: (r: IndexWorkerReply) => boolean,
  seen: IndexWorkerReply[],
): Promise<IndexWorkerReply> {
  return new Promise((resolve, reject) => {
    w.on('error', reject);
    w.on('message', (r: IndexWorkerReply) => {
      seen.push(r);
      if (pred(r)) resolve(r);
    });
  });
}

describe('index worker', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('builds with progress, and can be cancelled then resumed', async () => {
    const dbFile = join(tmp.dir, 'w.sqlite');
    const w = startWorker();
    try {
      const seen: IndexWorkerReply[] = [];
      const cancelAt = until(
        w,
        (r) => r.type === 'progress' && r.progress.stage === 'activations' && r.progress.done === 2,
        seen,
      );
      const req: IndexWorkerRequest = {
        type: 'build',
        id: 'b1',
        dbFile,
        packDir: fixture('text-tiny'),
        chunkExamples: 6,
      };
      w.postMessage(req);
      await cancelAt;
      w.postMessage({ type: 'cancel', id: 'b1' } satisfies IndexWorkerRequest);
      const end = await until(w, (r) => r.type !== 'progress' && r.id === 'b1', seen);
      expect(end).toMatchObject({ type: 'error', cancelled: true });

      const reader = openIndex(dbFile);
      const partial = listIndexedSaes(reader)[0];
      expect(partial?.stage).toBe('activations');
      expect(partial?.chunksDone).toBeGreaterThanOrEqual(2);

      w.postMessage({ ...req, id: 'b2' });
      const done = await until(w, (r) => r.type !== 'progress' && r.id === 'b2', seen);
      expect(done.type).toBe('done');
      if (done.type === 'done')
        expect(done.summaries[0]?.resumedFromChunk).toBe(partial?.chunksDone);
      expect(
        seen.some((r) => r.type === 'progress' && r.id === 'b2' && r.progress.stage === 'map'),
      ).toBe(true);
      expect(listIndexedSaes(reader)[0]?.stage).toBe('done');
      expect(searchFeatures(reader, { saeId: 'res1-64', limit: 5 })).toHaveLength(5);

      // Label imports are written by the worker too; the main thread reads them at once.
      const jsonl = join(tmp.dir, 'labels.jsonl');
      writeFileSync(jsonl, `${JSON.stringify({ index: 9, description: 'tide tables' })}\n`);
      w.postMessage({
        type: 'import-neuronpedia',
        id: 'i1',
        dbFile,
        saeId: 'res1-64',
        file: jsonl,
        filter: {},
      } satisfies IndexWorkerRequest);
      const imported = await until(w, (r) => r.type !== 'progress' && r.id === 'i1', seen);
      expect(imported).toMatchObject({ type: 'imported', report: { imported: 1, skipped: 0 } });
      expect(searchFeatures(reader, { saeId: 'res1-64', text: 'tide' })[0]).toMatchObject({
        idx: 9,
        labelSource: 'neuronpedia',
      });
      reader.close();
    } finally {
      await w.terminate();
    }
  }, 90_000);

  it('decodes a pack sheet off the thread, the pixels transferred', async () => {
    const w = startWorker();
    try {
      const file = join(fixture('emoji-tiny'), 'examples.png');
      const seen: IndexWorkerReply[] = [];
      const reply = until(w, (r) => r.id === 's1', seen);
      w.postMessage({ type: 'read-sheet', id: 's1', file, tile: 64 } satisfies IndexWorkerRequest);
      const r = await reply;
      expect(r.type).toBe('sheet');
      if (r.type !== 'sheet') return;
      const direct = await readSheet(file, 64);
      expect([r.sheet.width, r.sheet.height, r.sheet.tile]).toEqual([
        direct.width,
        direct.height,
        64,
      ]);
      expect(Buffer.from(r.sheet.rgba).equals(Buffer.from(direct.rgba))).toBe(true);

      const bad = until(w, (x) => x.id === 's2', seen);
      w.postMessage({
        type: 'read-sheet',
        id: 's2',
        file: join(fixture('emoji-tiny'), 'manifest.json'),
        tile: 64,
      } satisfies IndexWorkerRequest);
      expect(await bad).toMatchObject({ type: 'error', message: /not a readable PNG/ });
    } finally {
      await w.terminate();
    }
  }, 30_000);

  it('imports Neuronpedia dashboards with progress; a cancel sent with the request writes nothing', async () => {
    const dir = join(tmp.dir, 'np');
    writeSyntheticExport(dir, { features: 48, perBatch: 8, records: 4, tokens: 16 });
    const dbFile = join(tmp.dir, 'np.sqlite');
    const w = startWorker();
    try {
      const seen: IndexWorkerReply[] = [];
      const req = (id: string): IndexWorkerRequest => ({
        type: 'import-dashboards',
        id,
        dbFile,
        source: dir,
        options: {},
      });
      // The cancel is queued behind the request: the import sees it at its first wait.
      const cancelled = until(w, (r) => r.id === 'd1' && r.type !== 'progress', seen);
      w.postMessage(req('d1'));
      w.postMessage({ type: 'cancel', id: 'd1' } satisfies IndexWorkerRequest);
      expect(await cancelled).toMatchObject({ type: 'error', cancelled: true });
      const db = openIndex(dbFile);
      try {
        expect(db.prepare('select count(*) from np_features').pluck().get()).toBe(0);
        expect(listIndexedSaes(db)).toEqual([]);
      } finally {
        db.close();
      }

      const done = until(w, (r) => r.id === 'd2' && r.type !== 'progress', seen);
      w.postMessage(req('d2'));
      expect(await done).toMatchObject({
        type: 'imported-dashboards',
        report: { saeId: '6-res-jb', features: 48, activations: 192, explanations: 48 },
      });
      const stages = seen.flatMap((r) =>
        r.id === 'd2' && r.type === 'progress' ? [r.progress.stage] : [],
      );
      expect(new Set(stages)).toEqual(
        new Set(['features', 'activations', 'explanations', 'commit']),
      );
      const after = openIndex(dbFile);
      try {
        expect(searchFeatures(after, { saeId: '6-res-jb', text: wordOf(5) })[0]?.idx).toBe(5);
      } finally {
        after.close();
      }
    } finally {
      await w.terminate();
    }
  }, 60_000);
});
