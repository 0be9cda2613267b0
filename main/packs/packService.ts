/**
 * The packs a person can open: bundled ones under models/ and imported ones in the library
 * folder. Importing validates first, copies into a temporary folder inside the library and
 * renames it into place, so a failed or cancelled import leaves nothing behind.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OrreryError, type PackList, type PackSummary } from '../../preload/contract';
import type { JobContext } from '../api/jobs';
import { extractPackZip } from './zip';
import { readPack, type LoadedPack, type PackProblem } from './packReader';
import { validatePack } from './validatePack';

export interface PackFolders {
  bundled: string;
  library: string;
}

async function subfolders(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'recipes')
      .map((e) => path.join(dir, e.name))
      .sort();
  } catch {
    return [];
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.push(full);
      else
        throw new OrreryError(
          'bad_pack',
          `${full}: links and special files are not allowed in a pack`,
        );
    }
  };
  await walk(dir);
  return out.sort();
}

type Scan = {
  packs: { pack: LoadedPack; location: 'bundled' | 'library' }[];
  problems: PackProblem[];
};

export class PackService {
  /** The last scan, reused by find() so inference calls do not re-read every pack. */
  private cached: Scan | null = null;

  constructor(private readonly folders: PackFolders) {}

  summary(pack: LoadedPack, location: 'bundled' | 'library'): PackSummary {
    const m = pack.manifest;
    return {
      id: m.id,
      name: m.name,
      kind: m.kind,
      version: m.version,
      license: m.license,
      source: m.source,
      location,
      dir: pack.dir,
      saes: pack.saes.map((s) => ({
        id: s.id,
        hook: s.hook,
        dSae: s.dSae,
        architecture: s.architecture,
      })),
      hasIndex: pack.hasIndex,
      sizeBytes: pack.sizeBytes,
      spatial:
        m.kind === 'image-vae' && m.model.spatial
          ? {
              hook: m.model.spatial.hook,
              height: m.model.spatial.height,
              width: m.model.spatial.width,
            }
          : null,
    };
  }

  async scan(): Promise<Scan> {
    this.cached = await this.scanFolders();
    return this.cached;
  }

  private async scanFolders(): Promise<{
    packs: { pack: LoadedPack; location: 'bundled' | 'library' }[];
    problems: PackProblem[];
  }> {
    const packs: { pack: LoadedPack; location: 'bundled' | 'library' }[] = [];
    const problems: PackProblem[] = [];
    const seen = new Set<string>();
    for (const location of ['bundled', 'library'] as const) {
      for (const dir of await subfolders(this.folders[location])) {
        const r = await readPack(dir);
        if (!r.ok) {
          problems.push(r.problem);
          continue;
        }
        if (seen.has(r.pack.manifest.id)) {
          problems.push({
            dir,
            file: 'manifest.json',
            message: `pack id "${r.pack.manifest.id}" is already taken by another pack`,
          });
          continue;
        }
        seen.add(r.pack.manifest.id);
        packs.push({ pack: r.pack, location });
      }
    }
    return { packs, problems };
  }

  async list(): Promise<PackList> {
    const { packs, problems } = await this.scan();
    return {
      packs: packs.map((p) => this.summary(p.pack, p.location)),
      problems,
      folders: { ...this.folders },
    };
  }

  async find(id: string): Promise<{ pack: LoadedPack; location: 'bundled' | 'library' }> {
    const cachedHit = this.cached?.packs.find((p) => p.pack.manifest.id === id);
    if (cachedHit) return cachedHit;
    const { packs } = await this.scan();
    const hit = packs.find((p) => p.pack.manifest.id === id);
    if (!hit) throw new OrreryError('not_found', `no pack with id "${id}"`);
    return hit;
  }

  async import(from: string, job: JobContext): Promise<PackSummary> {
    if (from.toLowerCase().endsWith('.zip')) {
      job.progress('unpacking', 0, 1);
      const unpacked = await fs.mkdtemp(path.join(os.tmpdir(), 'orrery-zip-'));
      try {
        return await this.import(await extractPackZip(path.resolve(from), unpacked), job);
      } finally {
        await fs.rm(unpacked, { recursive: true, force: true });
      }
    }
    const source = path.resolve(from);
    job.progress('validating', 0, 1);
    const r = await readPack(source);
    if (!r.ok)
      throw new OrreryError(
        'bad_pack',
        `${path.join(r.problem.dir, r.problem.file)}: ${r.problem.message}`,
      );
    // Every file read as what it claims to be (ONNX, safetensors, tokenizer, index) before
    // anything is copied, so a pack that would fail at open is never offered.
    const deep = await validatePack(r.pack);
    if (deep)
      throw new OrreryError('bad_pack', `${path.join(deep.dir, deep.file)}: ${deep.message}`);
    const id = r.pack.manifest.id;
    const { packs } = await this.scan();
    if (packs.some((p) => p.pack.manifest.id === id)) {
      throw new OrreryError('bad_pack', `a pack with id "${id}" is already installed`);
    }
    await fs.mkdir(this.folders.library, { recursive: true });
    const target = path.join(this.folders.library, id);
    const staging = path.join(
      this.folders.library,
      `.importing-${id}-${process.pid}-${Date.now()}`,
    );
    try {
      const files = await listFiles(source);
      const total = files.length;
      let done = 0;
      for (const file of files) {
        job.throwIfCancelled();
        const rel = path.relative(source, file);
        await fs.mkdir(path.dirname(path.join(staging, rel)), { recursive: true });
        await fs.copyFile(file, path.join(staging, rel));
        done += 1;
        job.progress(`copying ${rel}`, done, total);
      }
      const check = await readPack(staging);
      if (!check.ok)
        throw new OrreryError('bad_pack', `${check.problem.file}: ${check.problem.message}`);
      job.throwIfCancelled();
      await fs.rename(staging, target);
    } catch (e) {
      await fs.rm(staging, { recursive: true, force: true });
      throw e;
    }
    this.cached = null;
    const done = await readPack(target);
    if (!done.ok) throw new OrreryError('bad_pack', done.problem.message);
    return this.summary(done.pack, 'library');
  }

  async remove(id: string): Promise<boolean> {
    const hit = await this.find(id);
    if (hit.location !== 'library')
      throw new OrreryError('bad_input', `pack "${id}" ships with Orrery and cannot be removed`);
    await fs.rm(hit.pack.dir, { recursive: true, force: true });
    this.cached = null;
    return true;
  }
}
