/**
 * Rewired models on disk, cached by content: `<cacheDir>/graphs/<sha256 of the model's bytes
 * and the options (and where its external data is)>/model.onnx` beside hooks.json (the residual map and the external files).
 * Hashing a 650 MB model takes seconds, so `graphs/by-stat/<hash of the file's path, size,
 * mtime, inode and the options>` remembers which entry a file, as it is on disk, maps to: a
 * reopen of an unchanged file reads nothing but that note. The external data files
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

interface Stored {
  nLayers: number;
  dModel: number | null;
  hooks: [string, string][];
  /** hook_z tensors and each hook's width (absent in entries written before hook_z). */
  z?: [string, string][];
  widths?: [string, number][];
  /** The external data files, relative to the model's folder. */
  external: string[];
}

function optionsKey(options: RewireOptions): string {
  const norm = (list: string[]): string[] => [...new Set(list)].sort();
  return JSON.stringify({
    v: SURGERY_VERSION,
    expose: norm(options.expose),
    steer: norm(options.steer),
  });
}

/**
 * The entry's name: the model's bytes and the options, and for a model with external data the
 * absolute paths of its data files (two exports can share a graph's bytes and differ only in
 * their weights, which live in those files; an entry links one set of them).
 */
function contentKey(bytes: Uint8Array, options: RewireOptions, externalAt: string[]): string {
  return createHash('sha256')
    .update(bytes)
    .update('\0')
    .update(optionsKey(options))
    .update(JSON.stringify(externalAt))
    .digest('hex');
}

/** The by-stat note's name for the file as it is now. */
async function statKey(modelFile: string, options: RewireOptions): Promise<string> {
  const s = await fs.stat(modelFile);
  const what = [path.resolve(modelFile), s.size, s.mtimeMs, s.ino, s.dev, optionsKey(options)];
  return createHash('sha256').update(JSON.stringify(what)).digest('hex');
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

/** A complete entry's stored map, or null when the entry is missing or incomplete. */
async function readEntry(dir: string): Promise<Stored | null> {
  try {
    await fs.access(path.join(dir, MODEL));
    return JSON.parse(await fs.readFile(path.join(dir, HOOKS), 'utf8')) as Stored;
  } catch {
    return null;
  }
}

/** The entry, its external files placed from the model's folder. */
async function hit(
  dir: string,
  stored: Stored,
  modelFile: string,
): Promise<{ file: string; hooks: ResidualMap; cached: boolean }> {
  const from = path.dirname(modelFile);
  for (const rel of stored.external) await place(path.join(from, rel), path.join(dir, rel));
  const hooks = {
    nLayers: stored.nLayers,
    dModel: stored.dModel,
    hooks: new Map(stored.hooks),
    z: new Map(stored.z ?? []),
    widths: new Map(stored.widths ?? []),
  };
  return { file: path.join(dir, MODEL), hooks, cached: true };
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, file);
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
  const graphs = path.join(cacheDir, 'graphs');
  const note = path.join(graphs, 'by-stat', await statKey(modelFile, options));
  const noted = await fs.readFile(note, 'utf8').catch(() => '');
  if (/^[0-9a-f]{64}$/.test(noted)) {
    const stored = await readEntry(path.join(graphs, noted));
    if (stored) return hit(path.join(graphs, noted), stored, modelFile);
  }
  const bytes = await fs.readFile(modelFile);
  const from = path.dirname(modelFile);
  const external = externalFiles(bytes, modelFile);
  const key = contentKey(
    bytes,
    options,
    external.map((rel) => path.resolve(from, rel)),
  );
  const dir = path.join(graphs, key);
  const existing = await readEntry(dir);
  if (existing) {
    await writeAtomic(note, key);
    return hit(dir, existing, modelFile);
  }
  const { chunks, chain } = rewireChunks(bytes, options);
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.mkdir(tmp, { recursive: true });
  try {
    await writeChunks(path.join(tmp, MODEL), chunks);
    for (const rel of external) await place(path.join(from, rel), path.join(tmp, rel));
    const stored: Stored = {
      ...chain.map,
      hooks: [...chain.map.hooks],
      z: [...chain.map.z],
      widths: [...chain.map.widths],
      external,
    };
    await fs.writeFile(path.join(tmp, HOOKS), JSON.stringify(stored));
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(tmp, dir);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  await writeAtomic(note, key);
  return { file: path.join(dir, MODEL), hooks: chain.map, cached: false };
}
