/**
 * Reads one pack folder: manifest, every file it names, SAE configs. Returns the pack or
 * the first problem found, naming the file; never a half-read pack.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describeZodError, ManifestSchema, namedFiles, packFile, type Manifest } from './manifest';

export interface PackProblem {
  dir: string;
  file: string;
  message: string;
}

export interface SaeInfo {
  id: string;
  hook: string;
  dir: string;
  dSae: number | null;
  architecture: string | null;
}

export interface LoadedPack {
  dir: string;
  manifest: Manifest;
  saes: SaeInfo[];
  sizeBytes: number;
  hasIndex: boolean;
}

export type ReadResult = { ok: true; pack: LoadedPack } | { ok: false; problem: PackProblem };

const MANIFEST = 'manifest.json';
const MAX_MANIFEST_BYTES = 1_000_000;

async function fileSize(file: string): Promise<number | null> {
  try {
    const st = await fs.stat(file);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

function problem(dir: string, file: string, message: string): ReadResult {
  return { ok: false, problem: { dir, file, message } };
}

async function readSaeConfig(
  dir: string,
  rel: string,
): Promise<{ dSae: number | null; architecture: string | null }> {
  const text = await fs.readFile(packFile(dir, rel), 'utf8');
  const cfg = JSON.parse(text) as Record<string, unknown>;
  const dSae = typeof cfg.d_sae === 'number' ? cfg.d_sae : null;
  const arch =
    typeof cfg.architecture === 'string'
      ? cfg.architecture
      : typeof cfg.activation_fn_str === 'string'
        ? cfg.activation_fn_str === 'topk'
          ? 'topk'
          : 'standard'
        : null;
  return { dSae, architecture: arch };
}

export async function readPack(dir: string): Promise<ReadResult> {
  const manifestPath = path.join(dir, MANIFEST);
  const size = await fileSize(manifestPath);
  if (size === null) return problem(dir, MANIFEST, 'no manifest.json in this folder');
  if (size > MAX_MANIFEST_BYTES)
    return problem(dir, MANIFEST, `manifest.json is ${size} bytes; the limit is 1 MB`);
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
  } catch (e) {
    return problem(dir, MANIFEST, `not valid JSON (${(e as Error).message})`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) return problem(dir, MANIFEST, describeZodError(parsed.error));
  const manifest = parsed.data;

  let sizeBytes = size;
  for (const rel of namedFiles(manifest)) {
    const s = await fileSize(packFile(dir, rel));
    if (s === null) return problem(dir, rel, 'named in manifest.json but missing (or not a file)');
    if (s === 0) return problem(dir, rel, 'named in manifest.json but empty');
    sizeBytes += s;
  }
  const saes: SaeInfo[] = [];
  for (const sae of manifest.saes) {
    const cfgRel = `${sae.dir}/cfg.json`;
    try {
      saes.push({
        id: sae.id,
        hook: sae.hook,
        dir: sae.dir,
        ...(await readSaeConfig(dir, cfgRel)),
      });
    } catch (e) {
      return problem(dir, cfgRel, `cannot read the SAE config (${(e as Error).message})`);
    }
  }
  let hasIndex = false;
  if (manifest.index) {
    const s = await fileSize(path.join(dir, manifest.index));
    hasIndex = s !== null && s > 0;
    if (s) sizeBytes += s;
  }
  return { ok: true, pack: { dir, manifest, saes, sizeBytes, hasIndex } };
}
