import { fileURLToPath } from 'node:url';
import { readPack, type LoadedPack } from '../../../../main/packs/packReader';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const fixtureDir = fileURLToPath(
  new URL('../../../fixtures/packs/text-tiny/', import.meta.url),
);

export async function readTextPack(dir: string): Promise<LoadedPack> {
  const r = await readPack(dir);
  if (!r.ok) throw new Error(`${r.problem.file}: ${r.problem.message}`);
  return r.pack;
}
