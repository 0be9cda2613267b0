/**
 * "Open model…"'s first step: what a Hugging Face model folder, its SAE folders and an optional
 * Neuronpedia export hold, and what stops them being opened together. The model folder's own
 * problems (no config or tokenizer, a merged decoder, a graph whose residual stream cannot be
 * followed) are thrown as ModelFolderError; an SAE whose hook the model does not expose or
 * whose d_in differs, and an export that matches no SAE, are named in the answer so the page
 * can show every one at once. The graph is read as bytes and walked in place (main/onnx): its
 * weights are never turned into objects.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { OrreryError, type ModelInspection, type ModelProblem } from '../../preload/contract';
import { readGraph, type OnnxGraph } from '../onnx/graph';
import { mapResidual, type ResidualMap } from '../onnx/residual';
import { readHfConfig } from '../runtime/hf/config';
import { summariseExport } from './exportSummary';
import { externalData, locateHfFiles, ModelFolderError } from './hfFolder';
import { inspectSaes } from './saeFolders';

export interface InspectRequest {
  dir: string;
  saes?: readonly string[];
  neuronpedia?: string;
  /** Texts to index over when there is no export; default `defaultExamples`. */
  examples?: string;
}

export interface InspectOptions {
  /** The texts an index is built over when the request names none (the bundled text pack's). */
  defaultExamples?: string | null;
  /** Told before each slow part. */
  onStage?: (stage: string) => void;
}

/** The graph's residual stream (main/onnx), its problems said as ModelFolderErrors. */
function residual(graphRel: string, g: OnnxGraph): ResidualMap {
  try {
    return mapResidual(g).map;
  } catch (e) {
    if (!(e instanceof OrreryError)) throw e;
    const merged = /merged decoder|\bIf\b node/.test(e.message);
    throw new ModelFolderError(
      merged ? 'merged-decoder' : 'unmappable-graph',
      `${graphRel}: ${e.message}`,
    );
  }
}

export async function inspectModelFolder(
  request: InspectRequest,
  options: InspectOptions = {},
): Promise<ModelInspection> {
  const stage = options.onStage ?? (() => undefined);
  const dir = path.resolve(request.dir);
  const files = locateHfFiles(dir);
  stage('reading config.json');
  const cfg = await readHfConfig(dir);
  stage(`reading ${files.graph}`);
  // One read of the graph's structure: its weights stay bytes, never objects.
  const graph = readGraph(await readFile(path.join(dir, files.graph)));
  const { externalFiles, sizeBytes } = externalData(files, graph);
  stage('finding the residual stream');
  const stream = residual(files.graph, graph);
  if (stream.nLayers !== cfg.n_layers)
    throw new ModelFolderError(
      'layers-differ',
      `${files.graph} has ${stream.nLayers} blocks on its residual stream but config.json says ${cfg.n_layers} layers: are they from the same model?`,
    );
  const hooks = [...stream.hooks.keys()];
  const dModel = stream.dModel ?? cfg.d_model;
  stage('reading the SAEs');
  const hookWidths: Record<string, number> = {};
  for (const h of hooks) hookWidths[h] = dModel;
  for (const [h, w] of stream.widths) hookWidths[h] = w;
  const saes = inspectSaes(request.saes ?? [], { hooks, hookWidths });
  const problems: ModelProblem[] = [];
  if (saes.length === 0)
    problems.push({
      code: 'no-sae',
      message: 'add at least one SAE folder: its features are what the galaxy shows',
    });

  let neuronpedia: ModelInspection['neuronpedia'] = null;
  if (request.neuronpedia) {
    stage('reading the Neuronpedia export');
    const s = await summariseExport(path.resolve(request.neuronpedia));
    const usable = saes.filter((x) => x.problem === null);
    const match =
      (s.hook ? usable.find((x) => x.hook === s.hook) : undefined) ??
      (usable.length === 1 && s.hook === null ? usable[0] : undefined);
    let problem: ModelProblem | null = null;
    if (!match)
      problem = {
        code: 'export-unmatched',
        message: s.hook
          ? `the export's dashboards were computed at ${s.hook}, and no SAE added here reads that hook`
          : 'the export names no hook and there is not exactly one SAE to give its dashboards to',
      };
    else if (s.features === 0)
      problem = { code: 'bad-export', message: `${s.dir} has no feature rows to import` };
    else if (match.dSae !== null && s.features > match.dSae)
      problem = {
        code: 'bad-export',
        message: `the export has ${s.features} features but the SAE at ${match.hook ?? ''} has ${match.dSae}`,
      };
    neuronpedia = {
      dir: s.dir,
      modelId: s.modelId,
      sourceId: s.sourceId,
      hook: s.hook,
      features: s.features,
      saeId: match?.id ?? null,
      problem,
    };
  }
  const examples = request.examples
    ? path.resolve(request.examples)
    : (options.defaultExamples ?? null);
  // An SAE without dashboards from the export has its index built over texts.
  if (!examples && saes.some((s) => s.id !== neuronpedia?.saeId))
    problems.push({
      code: 'no-examples',
      message:
        'an SAE without a Neuronpedia export has its index built over texts: choose a texts file',
    });
  return {
    dir,
    architecture: cfg.architecture,
    layers: cfg.n_layers,
    heads: cfg.n_heads,
    kvHeads: cfg.n_kv_heads,
    dModel: cfg.d_model,
    dHead: cfg.d_head,
    vocab: cfg.vocab_size,
    context: cfg.context,
    bos: cfg.bos_token_id ?? null,
    eos: cfg.eos_token_id ?? null,
    config: files.config,
    tokenizer: files.tokenizer,
    graph: files.graph,
    externalFiles: externalFiles.length,
    sizeBytes,
    hooks,
    hookWidths,
    saes,
    neuronpedia,
    examples,
    problems,
    ready:
      problems.length === 0 &&
      saes.every((s) => s.problem === null) &&
      (neuronpedia?.problem ?? null) === null,
  };
}
