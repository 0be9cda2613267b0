// The feature index built for real on the tiny text fixture (real ONNX sessions, real SQLite
// files): stats against a direct recomputation, labels, search, user edits across rebuilds,
// cancel + resume, and a kill -9 in the middle of a build.
import { spawn } from 'node:child_process';
import { cpSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../main/db/connection';
import {
  buildIndex,
  BuildCancelled,
  getFeature,
  importNeuronpedia,
  labelCoverage,
  listClusters,
  mapAgreement,
  listIndexedSaes,
  loadPositions,
  openIndex,
  renameFeature,
  searchFeatures,
  setFeatureNotes,
  type BuildSummary,
} from '../../../main/index';
import { aucByPairs } from '../../../main/index/build/associations';
import { MAP_VERSION } from '../../../main/index/build/build';
import { stageVersion, TITLES_VERSION } from '../../../main/index/build/describe';
import { TextModel } from '../../../main/index/build/activations';
import { loadPackCorpus } from '../../../main/index/corpus';
import { readPack } from '../../../main/packs/packReader';
import { loadSae } from '../../../main/sae';
import { dumpBuild, fixture, repoRoot, tempDir } from './helpers';

const TEXT = fixture('text-tiny');
const SAE = 'res1-64';
const CHUNK = 8; // 60 examples → 8 chunks

describe('index build on the text fixture', () => {
  const tmp = tempDir();
  let db: Db;
  let summary: BuildSummary;

  beforeAll(async () => {
    db = openIndex(join(tmp.dir, 'text.sqlite'));
    [summary] = (await buildIndex(db, TEXT, { chunkExamples: CHUNK })) as [BuildSummary];
  }, 60_000);

  afterAll(() => {
    db.close();
    tmp.cleanup();
  });

  it('indexes every feature, every example and finishes every stage', () => {
    expect(summary.features).toBe(64);
    expect(summary.examples).toBe(60);
    expect(summary.chunks).toBe(8);
    expect(summary.alive).toBeGreaterThan(0);
    const [sae] = listIndexedSaes(db);
    expect(sae).toMatchObject({ saeId: SAE, stage: 'done', chunksDone: 8, dSae: 64 });
    expect(String(db.pragma('integrity_check', { simple: true }))).toBe('ok');
    expect(db.prepare('select count(*) as n from build_peaks').get()).toEqual({ n: 0 });
    // the map says how it was laid out: exact UMAP at this size, no landmarks
    expect(
      db.prepare('select method, n, landmarks from map_quality where sae_id = ?').get(SAE),
    ).toEqual({ method: 'exact', n: 64, landmarks: 0 });
  });

  it('has stats that match a direct recomputation (model + SAE, one text at a time)', async () => {
    const read = await readPack(TEXT);
    if (!read.ok) throw new Error(read.problem.message);
    const corpus = await loadPackCorpus(read.pack);
    const model = await TextModel.open(read.pack);
    const sae = await loadSae(join(TEXT, 'sae/blocks.1.hook_resid_post'));
    const check = [0, 5, 17, 40, 63];
    const nActive = new Map(check.map((j) => [j, 0]));
    const sum = new Map(check.map((j) => [j, 0]));
    const max = new Map(check.map((j) => [j, 0]));
    const exampleMax = new Map(check.map((j) => [j, new Float64Array(corpus.examples.length)]));
    let positions = 0;
    for (const [slot, e] of corpus.examples.entries()) {
      const ids = model.encode(e.body ?? '');
      const { resid } = await model.forward([ids]);
      const rows = ids.length - 1; // BOS skipped
      positions += rows;
      const f = sae.encode(resid.subarray(sae.dIn, ids.length * sae.dIn), rows);
      for (const j of check) {
        for (let r = 0; r < rows; r++) {
          const v = f[r * sae.dSae + j] ?? 0;
          if (v > 0) {
            nActive.set(j, (nActive.get(j) ?? 0) + 1);
            sum.set(j, (sum.get(j) ?? 0) + v);
            max.set(j, Math.max(max.get(j) ?? 0, v));
            const em = exampleMax.get(j) as Float64Array;
            em[slot] = Math.max(em[slot] ?? 0, v);
          }
        }
      }
    }
    await model.dispose();
    expect(summary.positions).toBe(positions);
    for (const j of check) {
      const card = getFeature(db, SAE, j);
      expect(card).not.toBeNull();
      if (!card) continue;
      const n = nActive.get(j) ?? 0;
      expect(card.nActive).toBe(n);
      expect(card.density).toBeCloseTo(n / positions, 10);
      expect(card.maxAct).toBeCloseTo(max.get(j) ?? 0, 5);
      if (n > 0) expect(card.meanAct).toBeCloseTo((sum.get(j) ?? 0) / n, 5);
      expect(card.histogram.counts.reduce((a, b) => a + b, 0)).toBe(n);
      // The top example is the example with the highest peak.
      const em = exampleMax.get(j) as Float64Array;
      const best = Math.max(...em);
      if (best > 0) {
        expect(card.topExamples[0]?.activation).toBeCloseTo(best, 5);
        expect(card.topExamples.length).toBe(Math.min(16, em.filter((v) => v > 0).length));
        const acts = card.topExamples.map((t) => t.activation);
        expect([...acts].sort((a, b) => b - a)).toEqual(acts);
      }
      // Every stored association's AUC is the pairwise definition on the example peaks.
      for (const a of card.associations) {
        const positive = corpus.examples.map((e) => (e.meta[a.key] === a.value ? 1 : 0));
        expect(a.auc).toBeCloseTo(aucByPairs(em, positive), 6);
      }
    }
  }, 60_000);

  it('says where every label came from', () => {
    const rows = db
      .prepare(
        `select idx, label, label_source, auto_description, evidence_label, evidence
         from features where sae_id = ?`,
      )
      .all(SAE) as {
      idx: number;
      label: string | null;
      label_source: string | null;
      auto_description: string | null;
      evidence_label: string | null;
      evidence: string | null;
    }[];
    const tested = labelCoverage(db, SAE).values;
    const assoc = db.prepare(
      `select auc, precision_top as p, log10_p as lp from associations
       where sae_id = ? and idx = ? and key || '=' || value = ?`,
    );
    for (const r of rows) {
      if (r.label === null) expect(r.label_source).toBeNull();
      else expect(['metadata', 'top-tokens']).toContain(r.label_source);
      if (r.label_source === 'metadata') {
        // A plain title for a person; the rule's finding (key=value) kept beside it as evidence.
        expect(r.label).not.toMatch(/^[a-z_]+=/);
        expect(r.evidence_label).toMatch(/^[a-z_]+=/);
        expect(`${r.auto_description ?? ''} ${r.evidence ?? ''}`).toMatch(/AUC/);
        // The evidence's value passes the rule on the stored association.
        const a = assoc.get(SAE, r.idx, r.evidence_label) as { auc: number; p: number; lp: number };
        expect(a.auc).toBeGreaterThan(0.5);
        expect(a.p).toBeGreaterThanOrEqual(0.5);
        expect(a.lp).toBeLessThanOrEqual(Math.log10(0.01 / tested));
      }
    }
    expect(rows.some((r) => r.label_source === 'metadata')).toBe(true);
    // The "must show" figures are computed from the same rows.
    const metadata = rows.filter((r) => r.label_source === 'metadata');
    const cov = labelCoverage(db, SAE);
    expect(cov.named).toBe(new Set(metadata.map((r) => r.label)).size);
    expect(cov.values).toBe(cov.named + cov.missing.length);
    const agree = mapAgreement(db, SAE);
    expect(agree.n).toBe(metadata.length);
    for (const v of [agree.agreement, agree.shuffled]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });

  it('has a card with top examples as token windows, logit lens, nearest features and cluster', () => {
    const alive = db
      .prepare(
        'select idx from features where sae_id = ? and n_active > 0 order by max_act desc limit 1',
      )
      .get(SAE) as { idx: number };
    const card = getFeature(db, SAE, alive.idx);
    expect(card).not.toBeNull();
    if (!card) return;
    const w = card.topExamples[0]?.window as { tokens: string[]; acts: number[]; focus: number };
    expect(w.tokens.length).toBe(w.acts.length);
    expect(w.acts[w.focus]).toBeCloseTo(card.topExamples[0]?.activation ?? -1, 3);
    expect(card.logitLens?.top).toHaveLength(10);
    expect(card.logitLens?.bottom).toHaveLength(10);
    expect(card.nearest).toHaveLength(10);
    expect(card.nearest.map((n) => n.idx)).not.toContain(alive.idx);
    expect(card.nearest[0]?.cosine).toBeGreaterThanOrEqual(card.nearest[9]?.cosine ?? 1);
    expect(card.cluster?.label).toBeTruthy();
    expect(card.position).toHaveLength(3);
  });

  it('loads positions as typed arrays that agree with the feature rows', () => {
    const pos = loadPositions(db, SAE);
    expect(pos).not.toBeNull();
    if (!pos) return;
    expect(pos.count).toBe(64);
    expect(pos.xyz).toBeInstanceOf(Float32Array);
    expect(pos.xyz.length).toBe(64 * 3);
    expect(pos.cluster).toBeInstanceOf(Uint32Array);
    const f = db
      .prepare('select x, y, z, cluster, density from features where sae_id = ? and idx = 7')
      .get(SAE) as {
      x: number;
      y: number;
      z: number;
      cluster: number;
      density: number;
    };
    expect(pos.xyz[21]).toBeCloseTo(f.x, 4);
    expect(pos.xyz[23]).toBeCloseTo(f.z, 4);
    expect(pos.cluster[7]).toBe(f.cluster);
    expect(pos.density[7]).toBeCloseTo(f.density, 6);
    expect(Array.from(pos.xyz).every(Number.isFinite)).toBe(true);
    const clusters = listClusters(db, SAE);
    expect(clusters.reduce((s, c) => s + c.size, 0)).toBe(64);
  });

  it('finds a feature by a prefix of its label, ranked, with filters', () => {
    const labelled = db
      .prepare(
        "select idx, label from features where sae_id = ? and label_source = 'metadata' limit 1",
      )
      .get(SAE) as { idx: number; label: string };
    const word = labelled.label.split(/[\s·,]+/).find((w) => w.length >= 3) ?? '';
    expect(word.length).toBeGreaterThanOrEqual(3);
    const hits = searchFeatures(db, { saeId: SAE, text: word.slice(0, 3) });
    expect(hits.map((h) => h.idx)).toContain(labelled.idx);
    expect(hits.every((h) => h.score !== null)).toBe(true);
    const dense = searchFeatures(db, { saeId: SAE, densityMin: 0.1, limit: 100 });
    expect(dense.every((h) => h.density >= 0.1)).toBe(true);
    const c0 = searchFeatures(db, { saeId: SAE, cluster: 0, limit: 100 });
    expect(c0.length).toBe(listClusters(db, SAE)[0]?.size);
    const meta = searchFeatures(db, { saeId: SAE, labelSources: ['metadata'], limit: 100 });
    expect(meta.every((h) => h.labelSource === 'metadata')).toBe(true);
    const none = searchFeatures(db, { saeId: SAE, hasLabel: false, limit: 100 });
    expect(none.every((h) => h.label === null)).toBe(true);
    // Query syntax is never passed through to FTS5.
    expect(() => searchFeatures(db, { saeId: SAE, text: 'NEAR( "" * OR -' })).not.toThrow();
  });

  it('keeps its fingerprint for the same weights at a new mtime (a checkout): nothing starts over', async () => {
    const before = dumpBuild(db, SAE);
    const copy = join(tmp.dir, 'text-tiny-checkout');
    cpSync(TEXT, copy, { recursive: true });
    const later = new Date(Date.now() + 3_600_000);
    utimesSync(
      join(copy, 'sae', 'blocks.1.hook_resid_post', 'sae_weights.safetensors'),
      later,
      later,
    );
    const [again] = await buildIndex(db, copy, { chunkExamples: CHUNK });
    expect(again?.resumedFromChunk).toBe(8);
    expect(again?.activationSeconds).toBe(0);
    expect(dumpBuild(db, SAE)).toEqual(before);
  }, 60_000);

  it('keeps a rename and notes across a full rebuild, and finds them', async () => {
    renameFeature(db, SAE, 3, 'Zebra crossing');
    setFeatureNotes(db, SAE, 3, 'looks like stripes of quux');
    expect(searchFeatures(db, { saeId: SAE, text: 'zeb' })[0]?.idx).toBe(3);
    expect(searchFeatures(db, { saeId: SAE, text: 'quu' })[0]?.idx).toBe(3);
    // A different option changes the fingerprint: the build starts over from nothing.
    const [again] = await buildIndex(db, TEXT, { chunkExamples: 12 });
    expect(again?.resumedFromChunk).toBe(0);
    const card = getFeature(db, SAE, 3);
    expect(card?.label).toBe('Zebra crossing');
    expect(card?.labelSource).toBe('user');
    expect(card?.notes).toBe('looks like stripes of quux');
    expect(searchFeatures(db, { saeId: SAE, text: 'zebra cross' })[0]?.idx).toBe(3);
    renameFeature(db, SAE, 3, null);
    expect(getFeature(db, SAE, 3)?.labelSource).not.toBe('user');
    expect(searchFeatures(db, { saeId: SAE, text: 'zeb' })).toHaveLength(0);
  }, 60_000);

  it('with stagesOnly, runs only the later stages whose version is older, whatever the fingerprint', async () => {
    const before = dumpBuild(db, SAE);
    db.prepare("update index_stages set version = 0 where sae_id = ? and stage = 'titles'").run(
      SAE,
    );
    // a different option changes the fingerprint, which would start over; stagesOnly does not
    const [s] = await buildIndex(db, TEXT, { chunkExamples: 5, stagesOnly: true });
    expect(s?.activationSeconds).toBe(0);
    expect(stageVersion(db, SAE, 'titles')).toBe(TITLES_VERSION);
    expect(dumpBuild(db, SAE)).toEqual(before);
  }, 60_000);

  it('with stagesOnly, lays a map out again when its input is older, then its titles', async () => {
    const before = dumpBuild(db, SAE);
    expect(stageVersion(db, SAE, 'map')).toBe(MAP_VERSION);
    const titlesAt = (): unknown =>
      db
        .prepare("select finished_at from index_stages where sae_id = ? and stage = 'titles'")
        .get(SAE);
    const titled = titlesAt();
    // an index from before the map recorded its input: decoder cosine alone, positions of its own
    db.prepare("delete from index_stages where sae_id = ? and stage = 'map'").run(SAE);
    db.prepare('update features set x = 0, y = 0, z = 0 where sae_id = ?').run(SAE);
    await new Promise((r) => setTimeout(r, 5));
    const [s] = await buildIndex(db, TEXT, { stagesOnly: true });
    expect(s?.activationSeconds).toBe(0);
    expect(stageVersion(db, SAE, 'map')).toBe(MAP_VERSION);
    expect(titlesAt()).not.toEqual(titled);
    // the same seed and input: the first build's map again
    expect(dumpBuild(db, SAE)).toEqual(before);
  }, 60_000);

  it('imports Neuronpedia explanations as labels that say so (a rename still wins)', async () => {
    const file = join(tmp.dir, 'explanations.jsonl');
    writeFileSync(
      file,
      [
        {
          modelId: 'orrery-text-tiny',
          layer: '1-res',
          index: '5',
          description: 'verses about sheep',
        },
        { modelId: 'orrery-text-tiny', layer: '1-res', index: 6, description: 'ancient kings' },
        { modelId: 'other-model', layer: '1-res', index: 7, description: 'not ours' },
        { modelId: 'orrery-text-tiny', layer: '1-res', index: 999, description: 'out of range' },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\nnot json\n',
    );
    renameFeature(db, SAE, 6, 'Kings (mine)');
    const r = await importNeuronpedia(db, SAE, file, { modelId: 'orrery-text-tiny' });
    expect(r.imported).toBe(2);
    expect(r.skipped).toBe(2);
    expect(getFeature(db, SAE, 5)).toMatchObject({
      label: 'verses about sheep',
      labelSource: 'neuronpedia',
    });
    expect(getFeature(db, SAE, 6)).toMatchObject({ label: 'Kings (mine)', labelSource: 'user' });
    expect(getFeature(db, SAE, 7)?.labelSource).not.toBe('neuronpedia');
    expect(searchFeatures(db, { saeId: SAE, text: 'shee' })[0]?.idx).toBe(5);
  });
});

describe('cancel, resume and crash', () => {
  const tmp = tempDir();
  let reference: unknown;

  beforeAll(async () => {
    const db = openIndex(join(tmp.dir, 'reference.sqlite'));
    await buildIndex(db, TEXT, { chunkExamples: CHUNK });
    reference = dumpBuild(db, SAE);
    db.close();
  }, 60_000);

  afterAll(() => tmp.cleanup());

  it('cancelled part-way, then resumed, gives the same index as an uninterrupted build', async () => {
    const db = openIndex(join(tmp.dir, 'cancel.sqlite'));
    const controller = new AbortController();
    const stages: string[] = [];
    await expect(
      buildIndex(db, TEXT, {
        chunkExamples: CHUNK,
        signal: controller.signal,
        onProgress: (p) => {
          stages.push(`${p.stage} ${p.done}/${p.total}`);
          if (p.stage === 'activations' && p.done === 3) controller.abort();
        },
      }),
    ).rejects.toBeInstanceOf(BuildCancelled);
    expect(stages).toContain('activations 3/8');
    expect(stages).not.toContain('activations 4/8');
    expect(listIndexedSaes(db)[0]).toMatchObject({ stage: 'activations', chunksDone: 3 });
    const [resumed] = await buildIndex(db, TEXT, { chunkExamples: CHUNK });
    expect(resumed?.resumedFromChunk).toBe(3);
    expect(dumpBuild(db, SAE)).toEqual(reference);
    db.close();
  }, 60_000);

  it('killed with SIGKILL mid-build leaves a database that opens, passes integrity_check and resumes', async () => {
    const file = join(tmp.dir, 'crash.sqlite');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(repoRoot, 'tests/unit/index/crashChild.ts'),
        TEXT,
        file,
        String(CHUNK),
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const seen = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // Kill while the next chunk is being computed or written.
        if (out.includes('chunk 2\n')) {
          child.kill('SIGKILL');
          resolve(out);
        }
      });
      child.on('exit', () => resolve(out));
    });
    await new Promise((r) => child.once('exit', r).once('close', r));
    expect(seen, err).toContain('chunk 2');
    expect(seen).not.toContain('finished');

    const db = openIndex(file);
    expect(String(db.pragma('integrity_check', { simple: true }))).toBe('ok');
    const before = listIndexedSaes(db)[0];
    expect(before?.stage).toBe('activations');
    expect(before?.chunksDone).toBeGreaterThanOrEqual(2);
    expect(before?.chunksDone).toBeLessThan(8);
    const [resumed] = await buildIndex(db, TEXT, { chunkExamples: CHUNK });
    expect(resumed?.resumedFromChunk).toBe(before?.chunksDone);
    expect(dumpBuild(db, SAE)).toEqual(reference);
    expect(String(db.pragma('integrity_check', { simple: true }))).toBe('ok');
    db.close();
  }, 90_000);
});
