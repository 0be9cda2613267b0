/**
 * models.open through the real dispatcher of a composed app (real index worker, real SQLite):
 * the GPT-2 fixture with its SAE and its Neuronpedia export becomes a library entry that holds
 * only manifest.json (the folders named in place), and its index comes from the export with no
 * pass over a corpus — the explanations are the labels, searchable, on the cards, and the galaxy
 * has every feature. A refused open leaves nothing in the library.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OrreryApp } from '../../../main/app/compose';
import {
  decodeMapArrays,
  type CallOutput,
  type FeatureCard,
  type ModelInspection,
  type OpenedModel,
  type PackList,
  type Progress,
} from '../../../preload/contract';
import { cleanupTmp, repoRoot, tmpDir } from '../../support/tmp';
import { callOk, composeTestApp } from '../../support/composed';

const HF = path.join(repoRoot, 'tests', 'fixtures', 'hf');
const MODEL = path.join(HF, 'gpt2-tiny');
const SAES = path.join(HF, 'gpt2-tiny-sae');
const EXPORT = path.join(HF, 'gpt2-tiny-neuronpedia');
const SAE_ID = 'blocks.1.hook_resid_pre';

let app: OrreryApp;

beforeAll(() => {
  app = composeTestApp();
});

afterAll(async () => {
  await app.dispose();
  cleanupTmp();
});

const call = <T>(name: string, input: unknown): Promise<T> => callOk<T>(app, name, input);

describe('models.open with a Neuronpedia export', () => {
  it('makes a library entry naming the folders in place and fills its index from the export', async () => {
    const found = await call<ModelInspection>('models.inspect', {
      dir: MODEL,
      saes: [SAES],
      neuronpedia: EXPORT,
    });
    expect(found.ready).toBe(true);
    expect(found.neuronpedia).toMatchObject({ saeId: SAE_ID, features: 256, problem: null });

    const progress: Progress[] = [];
    const off = app.events.subscribe((m) => {
      if (m.event === 'job.progress') progress.push(m.payload);
    });
    const opened = await call<OpenedModel>('models.open', {
      dir: MODEL,
      saes: [SAES],
      neuronpedia: EXPORT,
      jobId: 'open-gpt2',
    });
    off();
    expect(opened).toMatchObject({ index: 'neuronpedia', features: 256 });
    expect(opened.pack).toMatchObject({ kind: 'text-lm', location: 'library' });
    // The slow parts said what they were doing (events are thinned to ~20 a second, so not
    // every stage need show; a stage's last event always does).
    const stages = new Set(progress.map((p) => p.stage.replace(/^.*: /, '')));
    expect(stages).toContain('done');
    expect([...stages].some((s) => ['features', 'explanations', 'commit'].includes(s))).toBe(true);
    expect(progress.every((p) => p.jobId === 'open-gpt2' && p.done <= p.total)).toBe(true);

    // The entry is one manifest naming the folders where they are: nothing copied.
    const entry = opened.pack.dir;
    expect(readdirSync(entry)).toEqual(['manifest.json']);
    const manifest = JSON.parse(readFileSync(path.join(entry, 'manifest.json'), 'utf8')) as {
      model: { format: string; dir: string; graph: string };
      saes: { id: string; dir: string }[];
      neuronpedia: { sae: string; dir: string }[];
    };
    expect(manifest.model).toMatchObject({
      format: 'hf',
      dir: MODEL,
      graph: 'onnx/decoder_model.onnx',
    });
    expect(manifest.saes).toEqual([{ id: SAE_ID, hook: SAE_ID, dir: path.join(SAES, SAE_ID) }]);
    expect(manifest.neuronpedia).toEqual([{ sae: SAE_ID, dir: EXPORT }]);
    const list = await call<PackList>('packs.list', {});
    expect(list.packs.map((p) => p.id)).toContain(opened.pack.id);

    // The index: the export's explanations are the labels, found by search and on the cards.
    const ref = { packId: opened.pack.id, saeId: SAE_ID };
    expect(await call('index.status', ref)).toMatchObject({ built: true, features: 256 });
    const hits = await call<{ hits: { feature: number; label: string; labelSource: string }[] }>(
      'index.search',
      { ...ref, query: 'the', limit: 5 },
    );
    expect(hits.hits.length).toBeGreaterThan(0);
    const hit = hits.hits[0] as { feature: number; label: string; labelSource: string };
    expect(hit.labelSource).toBe('neuronpedia');
    expect(hit.label).toMatch(/fires on/);
    const card = await call<FeatureCard>('index.feature', { ...ref, feature: hit.feature });
    expect(card.label).toBe(hit.label);
    expect(card.explanations?.[0]).toMatchObject({
      description: hit.label,
      explainer: 'orrery-fixture-top-tokens',
    });
    // The galaxy: every feature placed (from the decoder when the export has no UMAP).
    const map = decodeMapArrays(await call<CallOutput<'index.map'>>('index.map', ref));
    expect(map.count).toBe(256);
    expect(new Set(Array.from(map.positions.slice(0, 30)).map((v) => v.toFixed(3))).size).toBe(30);
  });

  it('refuses folders that do not fit together and leaves nothing in the library', async () => {
    const sae = path.join(tmpDir(), 'sae');
    cpSync(path.join(SAES, SAE_ID), sae, { recursive: true });
    const cfg = JSON.parse(readFileSync(path.join(sae, 'cfg.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(path.join(sae, 'cfg.json'), JSON.stringify({ ...cfg, d_in: 32 }));
    const before = await call<PackList>('packs.list', {});
    const r = await app.dispatcher.dispatch('models.open', { dir: MODEL, saes: [sae] });
    expect(r).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    expect(r.ok ? '' : r.error.message).toMatch(/width 32 \(d_in\)/);
    const after = await call<PackList>('packs.list', {});
    expect(after.packs.map((p) => p.id)).toEqual(before.packs.map((p) => p.id));
  });

  it('cancelled while its index builds: the open fails as cancelled and the entry is gone', async () => {
    const before = await call<PackList>('packs.list', {});
    let cancelled = false;
    const off = app.events.subscribe((m) => {
      if (m.event !== 'job.progress' || m.payload.jobId !== 'open-llama' || cancelled) return;
      if (/: (examples|activations)$/.test(m.payload.stage)) {
        cancelled = true;
        void app.dispatcher.dispatch('jobs.cancel', { jobId: 'open-llama' });
      }
    });
    const r = await app.dispatcher.dispatch('models.open', {
      dir: path.join(HF, 'llama-tiny'),
      saes: [path.join(HF, 'llama-tiny-sae')],
      examples: path.join(repoRoot, 'tests', 'fixtures', 'packs', 'text-tiny', 'examples.jsonl'),
      jobId: 'open-llama',
    });
    off();
    expect(cancelled).toBe(true);
    expect(r).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    const after = await call<PackList>('packs.list', {});
    expect(after.packs.map((p) => p.id)).toEqual(before.packs.map((p) => p.id));
    expect(readdirSync(after.folders.library).filter((n) => !n.startsWith('.'))).toEqual(
      before.packs.filter((p) => p.location === 'library').map((p) => p.id),
    );
  });
});
