/**
 * The part of a rewired decoder up to one hook, for the pin/scale pre-run: the same model
 * with that hook as its only output and only the nodes and weights it needs. onnxruntime runs
 * every node of a session whatever the fetch (bench/hfEngine: a hook-only fetch costs about as
 * much as the full run, at any depth), so the cut is made here: this session computes the
 * blocks up to the hook and nothing after (no later blocks, no lm_head). Written beside the rewired model in its cache
 * folder (content-addressed, so it stays valid; external data resolves the same way).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  GRAPH_INITIALIZER,
  GRAPH_NODE,
  GRAPH_OUTPUT,
  MODEL_GRAPH,
  readGraph,
} from '../../onnx/graph';
import { fieldChunks, scanFields, type Chunks } from '../protobuf';

/**
 * The model's bytes with `output` as the graph's only output and only the nodes and
 * initializers it needs (onnxruntime neither prunes by fetch nor drops dead nodes on load:
 * bench/hfEngine); every other field as it was.
 */
export function onlyOutput(model: Uint8Array, output: string): Chunks {
  const g = readGraph(model);
  const needed = new Set<number>();
  const read = new Set<string>();
  const queue = [output];
  while (queue.length > 0) {
    const t = queue.pop() as string;
    const node = g.producer.get(t);
    if (!node || needed.has(node.index)) continue;
    needed.add(node.index);
    for (const input of node.inputs) {
      if (!input || read.has(input)) continue;
      read.add(input);
      queue.push(input);
    }
  }
  const graph: Chunks = [];
  let nodeIndex = 0;
  for (const f of g.graphFields) {
    if (f.n === GRAPH_NODE) {
      if (needed.has(nodeIndex++)) graph.push(f.raw);
    } else if (f.n === GRAPH_OUTPUT && f.value) {
      if (g.outputs.find((o) => o.name === output) && outputName(f.value) === output) {
        graph.push(f.raw);
      }
    } else if (f.n === GRAPH_INITIALIZER && f.value) {
      if (read.has(initializerName(f.value))) graph.push(f.raw);
    } else graph.push(f.raw);
  }
  const chunks: Chunks = [];
  g.modelFields.forEach((f, i) => {
    if (i === g.graphAt) chunks.push(...fieldChunks(MODEL_GRAPH, graph));
    chunks.push(f.raw);
  });
  if (g.graphAt === g.modelFields.length) chunks.push(...fieldChunks(MODEL_GRAPH, graph));
  return chunks;
}

const utf8 = new TextDecoder();

/** A ValueInfo's name (field 1). */
function outputName(bytes: Uint8Array): string {
  for (const f of scanFields(bytes)) if (f.n === 1 && f.value) return utf8.decode(f.value);
  return '';
}

/** A TensorProto's name (field 8). */
function initializerName(bytes: Uint8Array): string {
  for (const f of scanFields(bytes)) if (f.n === 8 && f.value) return utf8.decode(f.value);
  return '';
}

/** `<folder of rewiredFile>/upto-v1.<hook>.onnx`, written once (atomically) from the rewired model. */
export async function prefixModelFile(rewiredFile: string, hook: string): Promise<string> {
  const file = path.join(path.dirname(rewiredFile), `upto-v1.${hook}.onnx`);
  if (await fs.stat(file).catch(() => null)) return file;
  const chunks = onlyOutput(await fs.readFile(rewiredFile), hook);
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await fs.open(tmp, 'w');
  try {
    for (let i = 0; i < chunks.length; i += 512) await fh.writev(chunks.slice(i, i + 512));
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
  return file;
}
