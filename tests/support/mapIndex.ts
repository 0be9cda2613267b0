/**
 * A finished index with an n-point map for the tiny text fixture's SAE, written by code (the
 * app's migrations, the four map blobs index.map reads): 64 clusters of points around seeded
 * centres, densities from 1e-5 to 1e-1. For the map's transfer (bench/mapTransfer.ts, issue 14)
 * and the HTTP door's tests.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { openIndex } from '../../main/index';
import { mulberry32 } from '../../main/index/build/rng';

export const MAP_PACK_ID = 'orrery-text-tiny';
export const MAP_SAE_ID = 'res1-64';

/** Writes `<home>/index/<pack>.sqlite`: a finished build of the fixture's SAE with an n-point map. */
export function writeMapIndex(home: string, n: number): string {
  const file = path.join(home, 'index', `${MAP_PACK_ID}.sqlite`);
  mkdirSync(path.dirname(file), { recursive: true });
  const db = openIndex(file);
  try {
    const rand = mulberry32(14);
    const blob = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const clusters = 64;
    const centres = Float32Array.from({ length: clusters * 3 }, () => rand() * 20 - 10);
    const xyz = new Float32Array(n * 3);
    const cluster = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % clusters;
      cluster[i] = c;
      for (let a = 0; a < 3; a++) xyz[i * 3 + a] = (centres[c * 3 + a] as number) + rand() - 0.5;
    }
    db.transaction(() => {
      db.prepare(
        `insert into saes(sae_id, hook, kind, d_sae, d_in, architecture, n_examples, n_positions, built_at)
         values (?, 'blocks.1.hook_resid_post', 'text-lm', ?, 16, 'topk', 1, 1, ?)`,
      ).run(MAP_SAE_ID, n, new Date().toISOString());
      const c = db.prepare(
        'insert into clusters(sae_id, id, label, size, cx, cy, cz) values (?, ?, ?, ?, ?, ?, ?)',
      );
      for (let k = 0; k < clusters; k++)
        c.run(
          MAP_SAE_ID,
          k,
          `cluster ${k}`,
          Math.ceil(n / clusters),
          ...centres.subarray(k * 3, k * 3 + 3),
        );
      db.prepare(
        'insert into map_blobs(sae_id, count, idx, xyz, cluster, density) values (?, ?, ?, ?, ?, ?)',
      ).run(
        MAP_SAE_ID,
        n,
        blob(Uint32Array.from({ length: n }, (_, i) => i)),
        blob(xyz),
        blob(cluster),
        blob(Float32Array.from({ length: n }, () => 10 ** (-5 + 4 * rand()))),
      );
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return file;
}
