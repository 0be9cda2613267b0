/**
 * The feature index through the API: a build in its own worker thread with progress, then
 * the map as typed arrays, search, a feature card, a rename that sticks, labels imported
 * from a Neuronpedia export, its dashboards imported as a job and exported back (zip, map CSV).
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeApp, type OrreryApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import { loadPositions, openIndex } from '../../../main/index';
import { decodeMapArrays, type CallOutput, type Progress } from '../../../preload/contract';
import { writeSyntheticExport, wordOf } from '../../support/neuronpediaExport';
import { cleanupTmp, fixturePacks, repoRoot, testAllow, tmpDir } from '../../support/tmp';
import { callOk, composeTestApp, modelsWith } from '../../support/composed';

let app: OrreryApp;
const ref = { packId: 'orrery-text-tiny', saeId: 'res1-64' };

beforeAll(() => {
  app = composeTestApp(modelsWith(['text-tiny']));
});

afterAll(async () => {
  await app.dispose();
  cleanupTmp();
});

const call = <T>(name: string, input: unknown): Promise<T> => callOk<T>(app, name, input);

describe('feature index through the API', () => {
  it('says an unbuilt index is not built, and refuses to read it', async () => {
    expect(await call('index.status', ref)).toMatchObject({ built: false });
    const r = await app.dispatcher.dispatch('index.map', ref);
    expect(r).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('builds in a worker with progress, then serves map, search, card and rename', async () => {
    const progress: Progress[] = [];
    app.events.subscribe((m) => {
      if (m.event === 'job.progress') progress.push(m.payload);
    });
    const status = await call<CallOutput<'index.status'>>('index.build', {
      ...ref,
      jobId: 'build-1',
    });
    expect(status).toMatchObject({ built: true, features: 64 });
    expect(progress.length).toBeGreaterThan(0);
    expect(new Set(progress.map((p) => p.jobId))).toEqual(new Set(['build-1']));

    const map = await call<CallOutput<'index.map'>>('index.map', ref);
    expect(map.positions).toBeInstanceOf(Uint16Array);
    const { positions: xyz, features } = decodeMapArrays(map);
    expect(xyz.length).toBe(map.count * 3);
    expect(features.length).toBe(map.count);
    expect(xyz.every(Number.isFinite)).toBe(true);
    // The positions the galaxy gets are the stored ones within half a quantisation step per axis.
    const db = openIndex(status.file, { readonly: true });
    try {
      const stored = loadPositions(db, ref.saeId);
      expect(stored?.count).toBe(map.count);
      expect(Array.from(features)).toEqual(Array.from(stored?.idx ?? []));
      xyz.forEach((v, i) => {
        const step = map.box.step[i % 3] ?? 0;
        expect(Math.abs(v - (stored?.xyz[i] ?? NaN))).toBeLessThanOrEqual(step / 2 + 1e-6);
      });
    } finally {
      db.close();
    }

    const first = features[0] ?? 0;
    const card = await call<CallOutput<'index.feature'>>('index.feature', {
      ...ref,
      feature: first,
    });
    expect(card.feature).toBe(first);
    expect(card.maxActivation).toBeGreaterThan(0);

    const renamed = await call<CallOutput<'index.rename'>>('index.rename', {
      ...ref,
      feature: first,
      label: 'Zebra crossing',
      notes: 'mine',
    });
    expect(renamed).toMatchObject({ label: 'Zebra crossing', labelSource: 'user', notes: 'mine' });
    const hits = await call<CallOutput<'index.search'>>('index.search', { ...ref, query: 'zebr' });
    expect(hits.hits[0]).toMatchObject({ feature: first, label: 'Zebra crossing' });

    // A list's titles in one read: in the order asked, each as its card says it (the rename
    // too), a feature the SAE does not have left out.
    const second = features[1] ?? 1;
    const titles = await call<CallOutput<'index.titles'>>('index.titles', {
      ...ref,
      features: [second, 999_999, first],
    });
    const secondCard = await call<CallOutput<'index.feature'>>('index.feature', {
      ...ref,
      feature: second,
    });
    expect(titles.titles).toEqual([
      {
        feature: second,
        label: secondCard.label,
        swatch: secondCard.effect?.swatch ?? null,
        words: secondCard.effect?.words ?? [],
      },
      {
        feature: first,
        label: 'Zebra crossing',
        swatch: renamed.effect?.swatch ?? null,
        words: renamed.effect?.words ?? [],
      },
    ]);
  });

  it('imports Neuronpedia labels from a file in the worker; a rename still wins', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'explanations.jsonl');
    writeFileSync(
      file,
      [
        { modelId: 'tiny', layer: 'res1-64', index: 7, description: 'harbour words' },
        { modelId: 'tiny', layer: 'res1-64', index: 8, description: 'semicolons' },
        { modelId: 'tiny', layer: 'other', index: 9, description: 'not this SAE' },
        { modelId: 'tiny', layer: 'res1-64', index: 640, description: 'no such feature' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    await call('index.rename', { ...ref, feature: 8, label: 'Mine' });
    const report = await call<CallOutput<'index.importLabels'>>('index.importLabels', {
      ...ref,
      from: file,
      layer: 'res1-64',
      jobId: 'labels-1',
    });
    expect(report).toEqual({
      imported: 2,
      skipped: 1,
      problems: ['line 4: index 640 is not a feature of res1-64 (0…63)'],
    });
    const card = await call<CallOutput<'index.feature'>>('index.feature', { ...ref, feature: 7 });
    expect(card).toMatchObject({ label: 'harbour words', labelSource: 'neuronpedia' });
    expect(
      await call<CallOutput<'index.feature'>>('index.feature', { ...ref, feature: 8 }),
    ).toMatchObject({ label: 'Mine', labelSource: 'user' });
    const hits = await call<CallOutput<'index.search'>>('index.search', {
      ...ref,
      query: 'harb',
      labelSource: 'neuronpedia',
    });
    expect(hits.hits.map((h) => h.feature)).toEqual([7]);

    const missing = await app.dispatcher.dispatch('index.importLabels', {
      ...ref,
      from: path.join(dir, 'nope.jsonl'),
    });
    expect(missing).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    expect(!missing.ok && missing.error.message).toContain('nope.jsonl');
  });

  it('imports Neuronpedia dashboards as a job, then exports them and the map as files', async () => {
    const dir = tmpDir();
    writeSyntheticExport(path.join(dir, 'np'), {
      sourceId: 'res1-np',
      features: 64,
      perBatch: 32,
      records: 2,
      tokens: 8,
    });
    // An SAE the pack's index lacks: the import makes it (the labels above stay as they are).
    const np = { packId: ref.packId, saeId: 'res1-np' };
    const progress: Progress[] = [];
    app.events.subscribe((m) => {
      if (m.event === 'job.progress' && m.payload.jobId === 'np-1') progress.push(m.payload);
    });
    const report = await call<CallOutput<'index.importDashboards'>>('index.importDashboards', {
      ...np,
      from: path.join(dir, 'np'),
      jobId: 'np-1',
    });
    expect(report).toMatchObject({
      saeId: 'res1-np',
      sourceId: 'res1-np',
      features: 64,
      activations: 128,
      explanations: 64,
      umap: true,
      skipped: 0,
    });
    // progress starts and ends (events in between are at most ~20 a second, so how many of
    // them a fast machine sees is not counted)
    expect(progress[0]).toMatchObject({ done: 0 });
    const last = progress[progress.length - 1];
    expect(last?.stage).toBe('commit');
    expect(last && last.done === last.total).toBe(true);
    const card = await call<CallOutput<'index.feature'>>('index.feature', { ...np, feature: 9 });
    expect(card.explanations?.[0]).toMatchObject({ explainer: 'gpt-4o-mini' });
    expect(card.neuronpedia).toEqual({ modelId: 'gpt2-small', sourceId: 'res1-np', index: 9 });
    expect(card.topExamples[0]?.tokens).toHaveLength(8);
    const hits = await call<CallOutput<'index.search'>>('index.search', {
      ...np,
      query: wordOf(9),
    });
    expect(hits.hits[0]?.feature).toBe(9);

    const map = await call<CallOutput<'index.exportMap'>>('index.exportMap', np);
    expect(map.mime).toBe('text/csv');
    const lines = Buffer.from(map.bytes).toString('utf8').trim().split('\n');
    expect(lines[0]).toBe('x,y,z,index,title,cluster,density');
    expect(lines).toHaveLength(65);

    const zip = await call<CallOutput<'index.exportNeuronpedia'>>('index.exportNeuronpedia', {
      ...np,
      features: [9, 3],
      jobId: 'np-export',
    });
    expect(zip).toMatchObject({
      mime: 'application/zip',
      name: 'gpt2-small-res1-np-neuronpedia.zip',
    });
    const files = unzipSync(zip.bytes);
    const rows = gunzipSync(files['res1-np/features/batch-0.jsonl.gz'] as Uint8Array)
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: string; frac_nonzero: number });
    expect(rows.map((r) => r.index)).toEqual(['3', '9']);
    expect(rows[1]?.frac_nonzero).toBe(card.density);
  });

  it('builds over a folder of the person’s own texts into an index of its own', async () => {
    const dir = tmpDir();
    mkdirSync(path.join(dir, 'sea'));
    mkdirSync(path.join(dir, 'land'));
    const para = (w: string, i: number): string =>
      `The ${w} ${i} rolled over the ${w} and the ${w} again, past the harbour wall.`;
    for (let f = 0; f < 3; f++) {
      writeFileSync(
        path.join(dir, 'sea', `s${f}.txt`),
        Array.from({ length: 6 }, (_, i) => para('tide', i)).join('\n\n'),
      );
      writeFileSync(
        path.join(dir, 'land', `l${f}.md`),
        Array.from({ length: 6 }, (_, i) => para('meadow', i)).join('\n\n'),
      );
    }
    writeFileSync(path.join(dir, 'notes.bin'), 'not a text file');
    const own = { ...ref, corpus: dir };
    expect(await call('index.status', own)).toMatchObject({ built: false });
    const status = await call<CallOutput<'index.build'>>('index.build', { ...own, jobId: 'c-1' });
    expect(status).toMatchObject({ built: true, features: 64, examples: 36 });
    expect(status.file).not.toBe(((await call('index.status', ref)) as { file: string }).file);
    expect(await call('index.corpora', { packId: ref.packId })).toEqual({
      corpora: [{ path: dir, built: ['res1-64'] }],
    });

    // The cards read the folder's paragraphs; the pack's own index is untouched.
    const { features } = decodeMapArrays(await call<CallOutput<'index.map'>>('index.map', own));
    const card = await call<CallOutput<'index.feature'>>('index.feature', {
      ...own,
      feature: features[0] ?? 0,
    });
    const words = card.topExamples.flatMap((e) => e.tokens ?? []).join('');
    expect(words).toMatch(/tide|meadow|harbour/);
    const packCard = await call<CallOutput<'index.feature'>>('index.feature', {
      ...ref,
      feature: 7,
    });
    expect(packCard.label).toBe('harbour words');

    const missing = await app.dispatcher.dispatch('index.build', {
      ...ref,
      corpus: path.join(dir, 'nope'),
    });
    expect(missing).toMatchObject({ ok: false, error: { code: 'bad_input' } });
  });

  it('cancels a build by job id', async () => {
    const models = tmpDir();
    cpSync(path.join(fixturePacks, 'text-tiny'), path.join(models, 'text-tiny'), {
      recursive: true,
    });
    const other = composeApp(
      resolveConfig('headless', repoRoot, { home: tmpDir(), models, allow: testAllow }),
    );
    other.events.subscribe((m) => {
      if (m.event === 'job.progress')
        void other.dispatcher.dispatch('jobs.cancel', { jobId: 'build-2' });
    });
    const r = await other.dispatcher.dispatch('index.build', { ...ref, jobId: 'build-2' });
    expect(r).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    await other.dispose();
  });
});
