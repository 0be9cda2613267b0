/**
 * Rewired models on disk, cached by content: `<cacheDir>/graphs/<sha256 of the model's bytes
 * and the options>/model.onnx` beside hooks.json (the residual map). The external data files
 * the model names are hard-linked beside it (copied when a link cannot be made, e.g. across
 * file systems) so onnxruntime finds them; the user's files are only read. A cache entry is
 * built in a temporary folder and renamed into place, so a crash leaves no half entry; a
 * later call re-links an external file that was replaced since.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { OrreryError } from '../../preload/contract/result';
import type { Chunks } from '../runtime/protobuf';
import { readGraph } from './graph';
import type { ResidualMap } from './residual';
import { rewireChunks, type RewireOptions } from './rewire';

/** Bumped when the surgery's output changes, so old cache entries are not reused. */
const SURGERY_VERSION = 1;
const MODEL = 'model.onnx';
const HOOKS = 'hooks.json';

interface StoredMap {
  nLayers: number;
  dModel: number | null;
  hooks: [string, string][];
}

function cacheKey(bytes: Uint8Array, options: RewireOptions): string {
  const norm = (list: string[]): string[] => [...new Set(list)].sort();
  const opts = JSON.stringify({
    v: SURGERY_VERSION,
    expose: norm(options.expose),
    steer: norm(options.steer),
  });
  return createHash('sha256').update(bytes).update('\0').update(opts).digest('hex');
}

/** The external data files the model names, relative to its folder (never outside it). */
function externalFiles(bytes: Uint8Array, modelFile: string): string[] {
  const out = new Set<string>();
  for (const t of readGraph(bytes).initializers.values()) {
    if (t.location === null) continue;
    const rel = path.normalize(t.location);
    if (path.isAbsolute(rel) || rel.startsWith('..')) {
      throw new OrreryError(
        'bad_input',
        `${modelFile}: initializer '${t.name}' keeps its data at '${t.location}', outside the model's folder.`,
      );
    }
    out.add(rel);
  }
  return [...out];
}

/** Links (or copies) `from` to `to` unless `to` already is that file, as it is now. */
async function place(from: string, to: string): Promise<void> {
  const src = await fs.stat(from).catch(() => null);
  if (!src)
    throw new OrreryError('not_found', `The model's external data file ${from} is missing.`);
  const dst = await fs.stat(to).catch(() => null);
  if (dst) {
    const linked = dst.ino === src.ino && dst.dev === src.dev;
    const copied = dst.size === src.size && dst.mtimeMs >= src.mtimeMs;
    if (linked || copied) return;
    await fs.rm(to, { force: true });
  }
  await fs.mkdir(path.dirname(to), { recursive: true });
  try {
    await fs.link(from, to);
  } catch {
    await fs.copyFile(from, to);
  }
}

async function writeChunks(file: string, chunks: Chunks): Promise<void> {
  const fh = await fs.open(file, 'w');
  try {
    let batch: Uint8Array[] = [];
    let size = 0;
    const flush = async (): Promise<void> => {
      if (batch.length > 0) await fh.writev(batch);
      batch = [];
      size = 0;
    };
    for (const c of chunks) {
      batch.push(c);
      size += c.length;
      if (batch.length >= 512 || size >= 1 << 24) await flush();
    }
    await flush();
  } finally {
    await fh.close();
  }
}

async function readMap(file: string): Promise<ResidualMap | null> {
  try {
    const stored = JSON.parse(await fs.readFile(file, 'utf8')) as StoredMap;
    return { nLayers: stored.nLayers, dModel: stored.dModel, hooks: new Map(stored.hooks) };
  } catch {
    return null;
  }
}

/**
 * Reads `modelFile`, rewires it (main/onnx/rewire) and caches it; returns the cached model's
 * path and residual map. A second call with the same content and options is a cache hit.
 */
export async function rewiredModelFile(
  modelFile: string,
  options: RewireOptions,
  cacheDir: string,
): Promise<{ file: string; hooks: ResidualMap; cached: boolean }> {
  const bytes = await fs.readFile(modelFile);
  const dir = path.join(cacheDir, 'graphs', cacheKey(bytes, options));
  const file = path.join(dir, MODEL);
  const from = path.dirname(modelFile);
  const hit =
    (await fs.stat(file).catch(() => null)) !== null ? await readMap(path.join(dir, HOOKS)) : null;
  if (hit) {
    for (const rel of externalFiles(bytes, modelFile))
      await place(path.join(from, rel), path.join(dir, rel));
    return { file, hooks: hit, cached: true };
  }
  const { chunks, chain } = rewireChunks(bytes, options);
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.mkdir(tmp, { recursive: true });
  try {
    await writeChunks(path.join(tmp, MODEL), chunks);
    for (const rel of externalFiles(bytes, modelFile))
      await place(path.join(from, rel), path.join(tmp, rel));
    const stored: StoredMap = { ...chain.map, hooks: [...chain.map.hooks] };
    await fs.writeFile(path.join(tmp, HOOKS), JSON.stringify(stored));
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(tmp, dir);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return { file, hooks: chain.map, cached: false };
}
