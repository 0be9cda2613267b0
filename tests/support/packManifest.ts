import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The id of a pack's first SAE: the one its galaxy opens on. */
export function firstSaeId(packDir: string): string {
  const manifest = JSON.parse(readFileSync(path.join(packDir, 'manifest.json'), 'utf8')) as {
    saes: { id: string }[];
  };
  const first = manifest.saes[0];
  if (!first) throw new Error(`${packDir}: the manifest lists no SAE`);
  return first.id;
}
