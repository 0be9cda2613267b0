// Neuronpedia dashboards into a real index file and back out: an export folder of several
// gzipped batches (the fields land on the card, search finds an explanation's word, the map is
// the export's UMAP, a malformed line is named and skipped, a re-import changes nothing, a
// cancel writes nothing), one feature's API JSON into a built SAE, and the export round trip
// (export, import into a fresh index: the same cards).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../main/db/connection';
import {
  BuildCancelled,
  exportMapCsv,
  exportNeuronpedia,
  importNeuronpediaExport,
  listClusters,
  loadPositions,
  openIndex,
  refreshLabels,
  renameFeature,
  searchFeatures,
} from '../../../main/index';
import { readCard } from '../../../main/index/card';
import { writeSyntheticExport, wordOf } from '../../support/neuronpediaExport';
import { indexWithSae, repoRoot, tempDir } from './helpers';

const SOURCE = '6-res-jb';
const N = 10;

const card = (db: Db, idx: number, sae = SOURCE) => readCard(db, sae, idx)?.card;

function dumpImport(db: Db): unknown {
  const q = (sql: string): unknown[] => db.prepare(sql).all();
  return {
    saes: q('select sae_id, hook, d_sae, architecture from saes'),
    np: q('select * from np_features order by sae_id, idx'),
    acts: q('select * from np_activations order by sae_id, idx, rank'),
    expl: q('select * from np_explanations order by sae_id, idx, rank'),
    features: q(
      'select sae_id, idx, label, label_source, description, top_tokens, density, n_active, max_act, mean_act, hex(histogram), x, y, z, cluster from features order by sae_id, idx',
    ),
    labels: q('select * from imported_labels order by sae_id, idx'),
    fts: q('select rowid, * from feature_fts order by rowid'),
    map: q('select sae_id, count, hex(idx), hex(xyz), hex(cluster), hex(density) from map_blobs'),
  };
}

describe('Neuronpedia dashboards import and export', () => {
  const tmp = tempDir();
  const exportDir = join(tmp.dir, 'gpt2-small');
  let db: Db;

  beforeAll(() => {
    writeSyntheticExport(join(exportDir, SOURCE), {
      features: N,
      perBatch: 4,
      records: 3,
      tokens: 8,
    });
    // A malformed second line in the second features batch.
    const f1 = join(exportDir, SOURCE, 'features/batch-1.jsonl.gz');
    const lines = gunzipSync(readFileSync(f1)).toString('utf8').split('\n');
    lines.splice(1, 0, '{"index": "5", oops');
    writeFileSync(f1, gzipSync(lines.join('\n')));
    db = openIndex(join(tmp.dir, 'a.sqlite'));
  });
  afterAll(() => {
    db.close();
    tmp.cleanup();
  });

  it('imports a folder of gzipped batches: every field lands on the card', async () => {
    const seen: string[] = [];
    // The model folder with one source folder in it is found.
    const r = await importNeuronpediaExport(db, exportDir, {}, (p) =>
      seen.push(`${p.stage} ${p.done}/${p.total}`),
    );
    expect(r).toMatchObject({
      saeId: SOURCE,
      modelId: 'gpt2-small',
      sourceId: SOURCE,
      features: N,
      activations: 3 * N,
      explanations: N,
      umap: true,
      skipped: 1,
      problems: ['features/batch-1.jsonl.gz line 2: not JSON'],
    });
    expect(seen[0]).toBe('features 0/10');
    expect(seen.at(-1)).toBe('commit 10/10');

    const rows = (kind: string, b: number): Record<string, unknown>[] =>
      gunzipSync(readFileSync(join(exportDir, SOURCE, `${kind}/batch-${b}.jsonl.gz`)))
        .toString('utf8')
        .split('\n')
        .filter((l) => l.startsWith('{"id') || l.startsWith('{"model'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const f = rows('features', 1).find((x) => x.index === '6') as Record<string, unknown>;
    const acts = rows('activations', 1).filter((x) => x.index === '6');
    const c = card(db, 6);
    expect(c).toBeDefined();
    if (!c) return;
    expect(c.label).toBe(`mentions of ${wordOf(6)} near water`);
    expect(c.labelSource).toBe('neuronpedia');
    expect(c.neuronpedia).toEqual({ modelId: 'gpt2-small', sourceId: SOURCE, index: 6 });
    expect(c.explanations).toEqual([
      {
        description: `mentions of ${wordOf(6)} near water`,
        explainer: 'gpt-4o-mini',
        method: 'oai_token-act-pair',
      },
    ]);
    expect(c.density).toBe(f.frac_nonzero);
    expect(c.maxActivation).toBe(f.maxActApprox);
    expect(c.histogramBars).toEqual({
      values: f.freq_hist_data_bar_values,
      heights: f.freq_hist_data_bar_heights,
    });
    const heights = f.freq_hist_data_bar_heights as number[];
    const values = f.freq_hist_data_bar_values as number[];
    const total = heights.reduce((s, h) => s + h, 0);
    expect(c.histogram.counts.reduce((s, n) => s + n, 0)).toBe(total);
    expect(c.meanActivation).toBeCloseTo(
      values.reduce((s, v, i) => s + v * (heights[i] as number), 0) / total,
      9,
    );
    expect(c.logitLens?.top.map((t) => t.token)).toEqual(f.pos_str);
    expect(c.logitLens?.top.map((t) => t.value)).toEqual(f.pos_values);
    expect(c.logitLens?.bottom.map((t) => t.value)).toEqual(f.neg_values);
    // Records strongest first, tokens as exported, per-token values as float32.
    const byMax = [...acts].sort((a, b) => (b.maxValue as number) - (a.maxValue as number));
    expect(c.topExamples.map((e) => e.activation)).toEqual(byMax.map((a) => a.maxValue));
    expect(c.topExamples[0]?.tokens).toEqual(byMax[0]?.tokens);
    expect(c.topExamples[0]?.activations).toEqual(
      Array.from(new Float32Array(byMax[0]?.values as number[])),
    );
    expect(c.topTokens).toEqual([wordOf(6)]);
    expect(c.nearest.map((n) => n.feature)).toEqual([7, 8]);
    expect(c.nearest[0]?.label).toBe(`mentions of ${wordOf(7)} near water`);
    // The malformed line was feature 5's neighbour: feature 5 itself still came in.
    expect(card(db, 5)?.density).toBeGreaterThanOrEqual(0);
  });

  it('search finds a word of an explanation; the galaxy is the export’s UMAP', () => {
    const hits = searchFeatures(db, { saeId: SOURCE, text: wordOf(3) });
    expect(hits[0]?.idx).toBe(3);
    expect(searchFeatures(db, { saeId: SOURCE, text: 'water' }).length).toBe(N);
    const p = loadPositions(db, SOURCE);
    expect(p?.count).toBe(N);
    const e3 = JSON.parse(
      gunzipSync(readFileSync(join(exportDir, SOURCE, 'explanations/batch-0.jsonl.gz')))
        .toString('utf8')
        .split('\n')[3] as string,
    ) as { umap_x: number; umap_y: number };
    expect(p?.xyz[9]).toBeCloseTo(e3.umap_x, 4);
    expect(p?.xyz[10]).toBeCloseTo(e3.umap_y, 4);
    expect(p?.xyz[11]).toBe(0);
    expect(listClusters(db, SOURCE).map((c) => c.size)).toEqual([2, 2, 2, 2, 2]);
  });

  it('a second import of the same export changes nothing', async () => {
    const before = dumpImport(db);
    await importNeuronpediaExport(db, join(exportDir, SOURCE));
    expect(dumpImport(db)).toEqual(before);
  });

  it('a cancel, before or part-way, writes nothing', async () => {
    const fresh = openIndex(join(tmp.dir, 'cancel.sqlite'));
    try {
      const empty = dumpImport(fresh);
      const ac = new AbortController();
      ac.abort();
      await expect(
        importNeuronpediaExport(fresh, exportDir, {}, undefined, ac.signal),
      ).rejects.toBeInstanceOf(BuildCancelled);
      const mid = new AbortController();
      await expect(
        importNeuronpediaExport(
          fresh,
          exportDir,
          {},
          (p) => {
            if (p.done === 5) mid.abort();
          },
          mid.signal,
        ),
      ).rejects.toBeInstanceOf(BuildCancelled);
      expect(dumpImport(fresh)).toEqual(empty);
      // The staging tables are gone with the cancel.
      expect(
        fresh.prepare("select count(*) from temp.sqlite_master where type = 'table'").pluck().get(),
      ).toBe(0);
    } finally {
      fresh.close();
    }
  });

  it('one feature’s API JSON into a built SAE; indices past the SAE are named and skipped', async () => {
    const built = indexWithSae(join(tmp.dir, 'built.sqlite'), {
      saeId: 'mine',
      hook: 'blocks.6.hook_resid_pre',
      kind: 'text-lm',
      dSae: 8,
      dIn: 4,
      architecture: 'relu',
    });
    try {
      const add = built.prepare(
        `insert into features (sae_id, idx, auto_label, auto_source) values (?, ?, ?, 'top-tokens')`,
      );
      for (let i = 0; i < 8; i++) add.run('mine', i, `“tok${i}”`);
      refreshLabels(built, 'mine');
      const one = join(tmp.dir, 'feature.json');
      writeFileSync(
        one,
        JSON.stringify({
          modelId: 'gpt2-small',
          layer: SOURCE,
          index: '2',
          maxActApprox: 7.5,
          frac_nonzero: 0.002,
          freq_hist_data_bar_values: [1, 3, 5],
          freq_hist_data_bar_heights: [30, 20, 10],
          pos_str: [' river'],
          pos_values: [1.25],
          neg_str: [],
          neg_values: [],
          umap_x: null,
          activations: [
            { tokens: [' the', ' river'], values: [0, 7.5], maxValue: 7.5, maxValueTokenIndex: 1 },
            { tokens: [' a', ' bank'], values: [0.5, 2], maxValue: 2 },
            { tokens: [' one'], values: [1, 2] },
          ],
          explanations: [
            {
              description: 'rivers and streams',
              explanationModelName: 'claude-3-5',
              typeName: 'np_max-act',
            },
            { description: 'flowing water', explanationModelName: 'gpt-4o-mini', typeName: null },
          ],
          comments: [],
        }),
      );
      const r = await importNeuronpediaExport(built, one, { saeId: 'mine' });
      expect(r).toMatchObject({
        saeId: 'mine',
        features: 1,
        activations: 2,
        explanations: 2,
        umap: false,
        skipped: 1,
        problems: ['feature.json activations[2]: 1 tokens but 2 values'],
      });
      const c = card(built, 2, 'mine');
      expect(c?.label).toBe('rivers and streams');
      expect(c?.explanations?.map((e) => e.explainer)).toEqual(['claude-3-5', 'gpt-4o-mini']);
      expect(c?.topExamples.map((e) => e.activation)).toEqual([7.5, 2]);
      expect(c?.logitLens).toEqual({ top: [{ token: ' river', value: 1.25 }], bottom: [] });
      // The second explanation is searchable too.
      expect(searchFeatures(built, { saeId: 'mine', text: 'flowing' })[0]?.idx).toBe(2);
      // The SAE built here keeps its shape: index 9 is not one of its 8 features.
      writeFileSync(one, JSON.stringify({ modelId: 'gpt2-small', layer: SOURCE, index: 9 }));
      const past = await importNeuronpediaExport(built, one, { saeId: 'mine' }).catch(
        (e: unknown) => e as Error,
      );
      expect(String((past as Error).message)).toContain('index 9 is not a feature of mine (0…7)');

      // A feature built here (no dashboard) exports its label as an explanation by Orrery.
      renameFeature(built, 'mine', 3, 'my rivers');
      const out = join(tmp.dir, 'built-export');
      const x = await exportNeuronpedia(built, 'mine', out, { features: [2, 3, 4] });
      expect(x).toMatchObject({ features: 3, modelId: 'gpt2-small', sourceId: SOURCE });
      const expl = gunzipSync(readFileSync(join(out, 'explanations/batch-0.jsonl.gz')))
        .toString('utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(expl.map((e) => [e.index, e.description, e.explanationModelName])).toEqual([
        ['2', 'rivers and streams', 'claude-3-5'],
        ['2', 'flowing water', 'gpt-4o-mini'],
        ['3', 'my rivers', null],
        ['4', '“tok4”', 'orrery-top-tokens'],
      ]);
    } finally {
      built.close();
    }
  });

  it('export then import into a fresh index gives the same cards; a selection exports only it', async () => {
    const out = join(tmp.dir, 'round');
    const r = await exportNeuronpedia(db, SOURCE, out);
    expect(r).toMatchObject({ features: N, activations: 3 * N, explanations: N });
    const fresh = openIndex(join(tmp.dir, 'b.sqlite'));
    try {
      const back = await importNeuronpediaExport(fresh, out);
      expect(back).toMatchObject({ features: N, skipped: 0, umap: true, sourceId: SOURCE });
      for (let i = 0; i < N; i++) expect(card(fresh, i)).toEqual(card(db, i));
      expect(loadPositions(fresh, SOURCE)).toEqual(loadPositions(db, SOURCE));
    } finally {
      fresh.close();
    }
    const some = await exportNeuronpedia(db, SOURCE, join(tmp.dir, 'some'), { features: [7, 1] });
    expect(some.features).toBe(2);
    const idx = gunzipSync(readFileSync(join(tmp.dir, 'some/features/batch-0.jsonl.gz')))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { index: string }).index);
    expect(idx).toEqual(['1', '7']);
    await expect(
      exportNeuronpedia(db, SOURCE, join(tmp.dir, 'none'), { features: [99] }),
    ).rejects.toThrow(/no feature 99/);
  });

  it('imports the gpt2-tiny fixture export (real dashboards of its SAE)', async () => {
    const fx = join(repoRoot, 'tests/fixtures/hf/gpt2-tiny-neuronpedia');
    const real = openIndex(join(tmp.dir, 'fixture.sqlite'));
    try {
      const r = await importNeuronpediaExport(real, fx, { saeId: 'blocks.1.hook_resid_pre' });
      expect(r).toMatchObject({
        modelId: 'gpt2-tiny',
        sourceId: '1-res-tiny',
        features: 256,
        activations: 2560,
        explanations: 256,
        umap: false,
        skipped: 0,
      });
      const c = card(real, 0, 'blocks.1.hook_resid_pre');
      expect(c?.explanations?.[0]?.explainer).toBe('orrery-fixture-top-tokens');
      expect(c?.topExamples).toHaveLength(10);
      // The strongest record's peak is the feature's max activation.
      expect(Math.max(...(c?.topExamples[0]?.activations ?? []))).toBeCloseTo(
        c?.maxActivation ?? -1,
        4,
      );
      expect(c?.logitLens?.top).toHaveLength(10);
      expect(c?.histogramBars?.heights.reduce((s, h) => s + h, 0)).toBeGreaterThan(0);
      // An explanation's word finds its feature.
      const withWord = [...Array(256).keys()]
        .map((i) => ({
          i,
          w: /“ ?([A-Za-z]{4,})/.exec(card(real, i, 'blocks.1.hook_resid_pre')?.label ?? '')?.[1],
        }))
        .find((x) => x.w);
      expect(withWord).toBeDefined();
      const hits = searchFeatures(real, {
        saeId: 'blocks.1.hook_resid_pre',
        text: withWord?.w ?? '',
      });
      expect(hits.map((h) => h.idx)).toContain(withWord?.i);
    } finally {
      real.close();
    }
  });

  it('an explanations-only folder with numeric indices (SAEDashboard style) labels its features', async () => {
    const dir = join(tmp.dir, 'only-expl');
    const rows = [0, 2, 2].map((index, i) => ({
      modelId: 'm',
      layer: 'L',
      index,
      description: ['zero', 'two', 'also two'][i],
      explanationModelName: 'claude',
    }));
    mkdirSync(join(dir, 'explanations'), { recursive: true });
    writeFileSync(
      join(dir, 'explanations/batch-0.jsonl'),
      rows.map((r) => JSON.stringify(r)).join('\n'),
    );
    const only = openIndex(join(tmp.dir, 'only.sqlite'));
    try {
      const r = await importNeuronpediaExport(only, dir);
      expect(r).toMatchObject({ saeId: 'L', features: 0, activations: 0, explanations: 3 });
      expect(card(only, 2, 'L')?.explanations?.map((e) => e.description)).toEqual([
        'two',
        'also two',
      ]);
      expect(card(only, 0, 'L')).toMatchObject({ label: 'zero', labelSource: 'neuronpedia' });
      expect(card(only, 1, 'L')).toBeUndefined();
      expect(loadPositions(only, 'L')).toBeNull();
    } finally {
      only.close();
    }
  });

  it('exports the map as CSV with titles quoted', () => {
    renameFeature(db, SOURCE, 4, 'rivers, "lakes"');
    const file = join(tmp.dir, 'map.csv');
    expect(exportMapCsv(db, SOURCE, file)).toEqual({ rows: N });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('x,y,z,index,title,cluster,density');
    expect(lines).toHaveLength(N + 1);
    const p = loadPositions(db, SOURCE);
    expect(lines[5]).toBe(`${p?.xyz[12]},${p?.xyz[13]},0,4,"rivers, ""lakes""",4,${p?.density[4]}`);
  });
});
