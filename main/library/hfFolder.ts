/**
 * The files of a Hugging Face decoder-only export folder: config.json, the tokenizer
 * (tokenizer.json) and the ONNX graph — onnx/decoder_model.onnx (optimum, transformers.js) or
 * model.onnx — with any external data files its initializers name. A folder that has only
 * decoder_model_merged.onnx, or lacks one of the others, is a ModelFolderError whose `reason`
 * names what is wrong and whose message says what to do.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { OrreryError } from '../../preload/contract';
import type { OnnxGraph } from '../onnx/graph';

export type ModelFolderReason =
  | 'not-a-folder'
  | 'missing-config'
  | 'missing-tokenizer'
  | 'no-graph'
  | 'merged-decoder'
  | 'missing-external-data'
  | 'unmappable-graph'
  | 'layers-differ';

/** Why a model folder cannot be opened; `reason` names it, the message says what to do. */
export class ModelFolderError extends OrreryError {
  constructor(
    readonly reason: ModelFolderReason,
    message: string,
  ) {
    super('bad_input', message);
    this.name = 'ModelFolderError';
  }
}

/** Graphs Orrery rewires, in the order they are looked for. */
export const GRAPH_CHOICES = ['onnx/decoder_model.onnx', 'onnx/model.onnx', 'model.onnx'] as const;
const MERGED = ['onnx/decoder_model_merged.onnx', 'decoder_model_merged.onnx'] as const;
export const TOKENIZER_FILE = 'tokenizer.json';
export const CONFIG_FILE = 'config.json';

export interface HfFiles {
  dir: string;
  /** Relative to dir. */
  config: string;
  tokenizer: string;
  graph: string;
}

const fileSize = (p: string): number | null => {
  try {
    const st = statSync(p);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
};

/** Finds the three files, or throws the ModelFolderError that says which is missing. */
export function locateHfFiles(dir: string): HfFiles {
  let folder = false;
  try {
    folder = statSync(dir).isDirectory();
  } catch {
    // said below
  }
  if (!folder)
    throw new ModelFolderError('not-a-folder', `${dir} is not a folder that can be read`);
  if (fileSize(path.join(dir, CONFIG_FILE)) === null)
    throw new ModelFolderError(
      'missing-config',
      `${dir} has no ${CONFIG_FILE}: a Hugging Face model folder keeps the model's shape there (download it with the model)`,
    );
  if (fileSize(path.join(dir, TOKENIZER_FILE)) === null)
    throw new ModelFolderError(
      'missing-tokenizer',
      `${dir} has no ${TOKENIZER_FILE}: Orrery reads the fast tokenizer's file (save it with tokenizer.save_pretrained, or download it with the model)`,
    );
  const graph = GRAPH_CHOICES.find((g) => fileSize(path.join(dir, g)) !== null);
  if (!graph) {
    const merged = MERGED.find((g) => existsSync(path.join(dir, g)));
    if (merged)
      throw new ModelFolderError(
        'merged-decoder',
        `${dir} has only ${merged}, a merged decoder (an If node choosing between the with-past and without-past graphs), which Orrery does not rewire: use onnx/decoder_model.onnx from the same export instead (optimum-cli export onnx --task text-generation-with-past writes it beside the merged one; transformers.js repositories ship it too)`,
      );
    throw new ModelFolderError(
      'no-graph',
      `${dir} has no ONNX graph: expected ${GRAPH_CHOICES.join(' or ')} (export one with optimum-cli export onnx --task text-generation-with-past)`,
    );
  }
  return { dir, config: CONFIG_FILE, tokenizer: TOKENIZER_FILE, graph };
}

/** The external data files a graph names (beside the graph) and the bytes of all the files. */
export function externalData(
  files: HfFiles,
  g: OnnxGraph,
): { externalFiles: string[]; sizeBytes: number } {
  const graphDir = path.dirname(path.join(files.dir, files.graph));
  const names = new Set<string>();
  for (const init of g.initializers.values()) if (init.location) names.add(init.location);
  let sizeBytes = 0;
  for (const rel of [files.config, files.tokenizer, files.graph])
    sizeBytes += fileSize(path.join(files.dir, rel)) ?? 0;
  const externalFiles = [...names].sort();
  for (const name of externalFiles) {
    const size = fileSize(path.join(graphDir, name));
    if (size === null || name.split(/[\\/]/).includes('..') || path.isAbsolute(name))
      throw new ModelFolderError(
        'missing-external-data',
        `${files.graph} keeps weights in ${name}, which is not beside it in ${graphDir}: download it with the graph`,
      );
    sizeBytes += size;
  }
  return { externalFiles, sizeBytes };
}
