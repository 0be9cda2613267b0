/**
 * Unpacks a zipped pack into a folder, refusing entries that would land outside it, and
 * finds the folder that holds manifest.json (the zip's root, or its one top folder).
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { unzip } from 'fflate';
import { OrreryError } from '../../preload/contract';

const MAX_ZIP_BYTES = 2 * 1024 ** 3;

function unzipAsync(data: Uint8Array): Promise<Record<string, Uint8Array>> {
  return new Promise((resolve, reject) =>
    unzip(data, (err, files) => (err ? reject(err) : resolve(files))),
  );
}

export async function extractPackZip(file: string, dest: string): Promise<string> {
  const st = await fs.stat(file).catch(() => null);
  if (!st?.isFile()) throw new OrreryError('bad_pack', `${file}: no such file`);
  if (st.size > MAX_ZIP_BYTES)
    throw new OrreryError('bad_pack', `${file}: ${st.size} bytes; the limit is 2 GB`);
  let files: Record<string, Uint8Array>;
  try {
    files = await unzipAsync(new Uint8Array(await fs.readFile(file)));
  } catch (e) {
    throw new OrreryError('bad_pack', `${file}: not a readable zip (${(e as Error).message})`);
  }
  const root = path.resolve(dest);
  for (const [name, bytes] of Object.entries(files)) {
    if (name.endsWith('/')) continue;
    const target = path.resolve(root, name);
    if (name.includes('\\') || path.isAbsolute(name) || !target.startsWith(root + path.sep)) {
      throw new OrreryError(
        'bad_pack',
        `${file}: entry "${name}" would be written outside the pack`,
      );
    }
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, bytes);
  }
  if (existsSync(path.join(root, 'manifest.json'))) return root;
  const tops = (await fs.readdir(root, { withFileTypes: true })).filter(
    (e) => e.isDirectory() && !e.name.startsWith('__MACOSX'),
  );
  const only = tops.length === 1 ? tops[0] : undefined;
  if (only && existsSync(path.join(root, only.name, 'manifest.json')))
    return path.join(root, only.name);
  throw new OrreryError(
    'bad_pack',
    `${file}: no manifest.json at the top of the zip or in its one folder`,
  );
}
