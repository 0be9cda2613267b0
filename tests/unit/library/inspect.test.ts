/**
 * "Open model…"'s inspection on the real Hugging Face fixture (tests/fixtures/hf/gpt2-tiny and
 * its SAELens SAE), and on copies of them bent one way each: every way the folders can be wrong
 * gives its named error (the model folder's own problems thrown as ModelFolderError with a
 * reason; an SAE's named in the answer with a code), each message saying what to do.
 */
import { cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectModelFolder, type InspectRequest } from '../../../main/library/inspect';
import { ModelFolderError, type ModelFolderReason } from '../../../main/library/hfFolder';
import { cleanupTmp, repoRoot, tmpDir } from '../../support/tmp';

const HF = path.join(repoRoot, 'tests', 'fixtures', 'hf');
const MODEL = path.join(HF, 'gpt2-tiny');
const SAES = path.join(HF, 'gpt2-tiny-sae');
const SAE = path.join(SAES, 'blocks.1.hook_resid_pre');
const TEXTS = path.join(repoRoot, 'tests', 'fixtures', 'packs', 'text-tiny', 'examples.jsonl');

afterAll(() => cleanupTmp());

const inspect = (r: InspectRequest) => inspectModelFolder(r, { defaultExamples: TEXTS });

/** A copy of the model folder, changed by `bend`. */
function bentModel(bend: (dir: string) => void): string {
  const dir = path.join(tmpDir(), 'model');
  cpSync(MODEL, dir, { recursive: true });
  bend(dir);
  return dir;
}

/** A copy of the SAE folder with its cfg.json changed by `bend`. */
function bentSae(bend: (cfg: Record<string, unknown>) => void): string {
  const dir = path.join(tmpDir(), 'sae');
  cpSync(SAE, dir, { recursive: true });
  const file = path.join(dir, 'cfg.json');
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  bend(cfg);
  writeFileSync(file, JSON.stringify(cfg));
  return dir;
}

async function reasonOf(
  r: InspectRequest,
): Promise<{ reason: ModelFolderReason; message: string }> {
  try {
    await inspect(r);
  } catch (e) {
    if (e instanceof ModelFolderError) return { reason: e.reason, message: e.message };
    throw e;
  }
  throw new Error('inspected without an error');
}

describe('inspecting a Hugging Face model folder', () => {
  it('finds the GPT-2 fixture: shape, files, size, every residual hook, the SAE and its hook', async () => {
    const found = await inspect({ dir: MODEL, saes: [SAES] });
    const config = JSON.parse(readFileSync(path.join(MODEL, 'config.json'), 'utf8')) as {
      n_layer: number;
      n_embd: number;
      n_head: number;
      vocab_size: number;
    };
    expect(found).toMatchObject({
      architecture: 'gpt2',
      layers: config.n_layer,
      dModel: config.n_embd,
      heads: config.n_head,
      vocab: config.vocab_size,
      graph: 'onnx/decoder_model.onnx',
      tokenizer: 'tokenizer.json',
      externalFiles: 0,
      problems: [],
      ready: true,
    });
    expect(found.sizeBytes).toBeGreaterThan(
      readFileSync(path.join(MODEL, 'onnx', 'decoder_model.onnx')).length,
    );
    expect(found.hooks).toHaveLength(3 * config.n_layer);
    for (const kind of ['pre', 'mid', 'post'])
      expect(found.hooks).toContain(`blocks.${config.n_layer - 1}.hook_resid_${kind}`);
    // The folder of SAE folders is expanded to the one inside it.
    expect(found.saes).toEqual([
      {
        dir: SAE,
        id: 'blocks.1.hook_resid_pre',
        hook: 'blocks.1.hook_resid_pre',
        dIn: config.n_embd,
        dSae: 256,
        architecture: 'standard',
        problem: null,
      },
    ]);
    expect(found.examples).toBe(TEXTS);
  });

  it('names a folder without config.json, without tokenizer.json, or without a graph', async () => {
    const noConfig = bentModel((d) => rmSync(path.join(d, 'config.json')));
    expect(await reasonOf({ dir: noConfig, saes: [SAE] })).toMatchObject({
      reason: 'missing-config',
      message: expect.stringMatching(/has no config\.json/) as string,
    });
    const noTokenizer = bentModel((d) => rmSync(path.join(d, 'tokenizer.json')));
    expect(await reasonOf({ dir: noTokenizer, saes: [SAE] })).toMatchObject({
      reason: 'missing-tokenizer',
      message: expect.stringMatching(/has no tokenizer\.json/) as string,
    });
    const noGraph = bentModel((d) => rmSync(path.join(d, 'onnx'), { recursive: true }));
    expect((await reasonOf({ dir: noGraph, saes: [SAE] })).reason).toBe('no-graph');
  });

  it('counts the external data of a Llama-style export and names it when it is missing', async () => {
    const llama = path.join(HF, 'llama-tiny');
    const found = await inspect({ dir: llama, saes: [path.join(HF, 'llama-tiny-sae')] });
    expect(found).toMatchObject({ architecture: 'llama', externalFiles: 1, ready: true });
    const dir = path.join(tmpDir(), 'llama');
    cpSync(llama, dir, { recursive: true });
    rmSync(path.join(dir, 'onnx', 'decoder_model.onnx_data'));
    const r = await reasonOf({ dir, saes: [path.join(HF, 'llama-tiny-sae')] });
    expect(r.reason).toBe('missing-external-data');
    expect(r.message).toMatch(/keeps weights in decoder_model\.onnx_data, which is not beside it/);
  });

  it('refuses a merged decoder alone and says which file to use instead', async () => {
    const merged = bentModel((d) =>
      renameSync(
        path.join(d, 'onnx', 'decoder_model.onnx'),
        path.join(d, 'onnx', 'decoder_model_merged.onnx'),
      ),
    );
    const r = await reasonOf({ dir: merged, saes: [SAE] });
    expect(r.reason).toBe('merged-decoder');
    expect(r.message).toMatch(/decoder_model_merged\.onnx/);
    expect(r.message).toMatch(/use onnx\/decoder_model\.onnx/);
  });

  it('names a graph whose residual stream cannot be followed', async () => {
    // An image pack's encoder as model.onnx: a graph, but no decoder's residual stream.
    const other = bentModel((d) => {
      rmSync(path.join(d, 'onnx'), { recursive: true });
      cpSync(
        path.join(repoRoot, 'tests', 'fixtures', 'packs', 'emoji-tiny', 'encoder.onnx'),
        path.join(d, 'model.onnx'),
      );
    });
    const r = await reasonOf({ dir: other, saes: [SAE] });
    expect(r.reason).toBe('unmappable-graph');
    expect(r.message).toMatch(/^model\.onnx: /);
  });

  it('names an SAE at a hook the model does not expose (hook_name, v5 hook_point, v6 metadata)', async () => {
    const current = bentSae((c) => {
      c.hook_name = 'blocks.7.hook_resid_pre';
      delete c.metadata;
    });
    const legacy = bentSae((c) => {
      delete c.hook_name;
      delete c.metadata;
      c.hook_point = 'blocks.9.hook_resid_post';
    });
    const v6 = bentSae((c) => {
      delete c.hook_name;
      c.metadata = { hook_name: 'blocks.1.hook_mlp_out' };
    });
    const found = await inspect({ dir: MODEL, saes: [current, legacy, v6, SAE] });
    expect(found.ready).toBe(false);
    expect(found.saes.map((s) => [s.hook, s.problem?.code ?? null])).toEqual([
      ['blocks.7.hook_resid_pre', 'hook-not-exposed'],
      ['blocks.9.hook_resid_post', 'hook-not-exposed'],
      ['blocks.1.hook_mlp_out', 'hook-not-exposed'],
      ['blocks.1.hook_resid_pre', null],
    ]);
    expect(found.saes[0]?.problem?.message).toMatch(
      /reads blocks\.7\.hook_resid_pre, which the model does not expose \(it has blocks\.0–2\.hook_resid_pre\/mid\/post and blocks\.0–2\.attn\.hook_z\)/,
    );
  });

  it('names an SAE whose d_in is not the residual stream’s width', async () => {
    const wide = bentSae((c) => {
      c.d_in = 128;
    });
    const found = await inspect({ dir: MODEL, saes: [wide] });
    expect(found.ready).toBe(false);
    expect(found.saes[0]?.problem).toEqual({
      code: 'd-in-mismatch',
      message: expect.stringMatching(/width 128 \(d_in\).*has width 64/) as string,
    });
  });

  it('takes an SAE at an attention hook_z of its width (n_heads·d_head) and names a wrong d_in', async () => {
    const atZ = bentSae((c) => {
      c.hook_name = 'blocks.1.attn.hook_z';
    });
    const found = await inspect({ dir: MODEL, saes: [atZ] });
    expect(found.hookWidths['blocks.1.attn.hook_z']).toBe(64);
    expect(found.hookWidths['blocks.2.hook_resid_post']).toBe(64);
    expect(found.saes[0]).toMatchObject({ hook: 'blocks.1.attn.hook_z', problem: null });
    const narrow = bentSae((c) => {
      c.hook_name = 'blocks.1.attn.hook_z';
      c.d_in = 63;
    });
    const bad = await inspect({ dir: MODEL, saes: [narrow] });
    expect(bad.saes[0]?.problem).toEqual({
      code: 'd-in-mismatch',
      message: expect.stringMatching(
        /width 63 \(d_in\).*attention output .*has width 64/,
      ) as string,
    });
  });

  it('says an SAE is needed, and texts when there is no export', async () => {
    const none = await inspect({ dir: MODEL });
    expect(none.ready).toBe(false);
    expect(none.problems.map((p) => p.code)).toEqual(['no-sae']);
    const noTexts = await inspectModelFolder({ dir: MODEL, saes: [SAE] });
    expect(noTexts.problems.map((p) => p.code)).toEqual(['no-examples']);
  });

  it('reads a Neuronpedia export and gives it to the SAE at its hook, or says none matches', async () => {
    const EXPORT = path.join(HF, 'gpt2-tiny-neuronpedia');
    const found = await inspect({ dir: MODEL, saes: [SAE], neuronpedia: EXPORT });
    expect(found.ready).toBe(true);
    expect(found.neuronpedia).toEqual({
      dir: EXPORT,
      modelId: 'gpt2-tiny',
      sourceId: '1-res-tiny',
      hook: 'blocks.1.hook_resid_pre',
      features: 256,
      saeId: 'blocks.1.hook_resid_pre',
      problem: null,
    });
    // No texts needed: the one SAE's index comes from the export.
    expect((await inspectModelFolder({ dir: MODEL, saes: [SAE], neuronpedia: EXPORT })).ready).toBe(
      true,
    );
    const elsewhere = bentSae((c) => {
      c.hook_name = 'blocks.2.hook_resid_pre';
      delete c.metadata;
    });
    const other = await inspect({ dir: MODEL, saes: [elsewhere], neuronpedia: EXPORT });
    expect(other.ready).toBe(false);
    expect(other.saes[0]?.problem).toBeNull();
    expect(other.neuronpedia?.problem).toEqual({
      code: 'export-unmatched',
      message:
        "the export's dashboards were computed at blocks.1.hook_resid_pre, and no SAE added here reads that hook",
    });
  });
});
