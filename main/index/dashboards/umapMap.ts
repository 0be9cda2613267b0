/**
 * The galaxy from an export's own UMAP (Neuronpedia's umap_x / umap_y / umap_cluster): the
 * features' x, y (z = 0: the export's map is flat), cluster, the packed map blob the galaxy
 * reads, and one cluster row per umap_cluster. Without at least two positioned features
 * nothing is written and the map stays the build's (our UMAP of the SAE's decoder).
 */
import type { Db } from '../../db/connection';

const NONE = 0xffffffff;

export function writeUmapMap(db: Db, saeId: string): boolean {
  const rows = db
    .prepare(
      `select n.idx, n.umap_x as x, n.umap_y as y, n.umap_cluster as c, f.density
       from np_features n join features f on f.sae_id = n.sae_id and f.idx = n.idx
       where n.sae_id = ? and n.umap_x is not null and n.umap_y is not null order by n.idx`,
    )
    .all(saeId) as { idx: number; x: number; y: number; c: number | null; density: number }[];
  if (rows.length < 2) return false;
  const n = rows.length;
  const idx = new Uint32Array(n);
  const xyz = new Float32Array(n * 3);
  const cluster = new Uint32Array(n);
  const density = new Float32Array(n);
  const groups = new Map<number, { size: number; x: number; y: number }>();
  const upd = db.prepare(
    'update features set x = ?, y = ?, z = 0, cluster = ? where sae_id = ? and idx = ?',
  );
  rows.forEach((r, i) => {
    idx[i] = r.idx;
    xyz[i * 3] = r.x;
    xyz[i * 3 + 1] = r.y;
    cluster[i] = r.c ?? NONE;
    density[i] = r.density;
    upd.run(r.x, r.y, r.c, saeId, r.idx);
    if (r.c !== null) {
      const g = groups.get(r.c) ?? { size: 0, x: 0, y: 0 };
      g.size++;
      g.x += r.x;
      g.y += r.y;
      groups.set(r.c, g);
    }
  });
  const blob = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  db.prepare('delete from map_blobs where sae_id = ?').run(saeId);
  db.prepare(
    'insert into map_blobs(sae_id, count, idx, xyz, cluster, density) values (?, ?, ?, ?, ?, ?)',
  ).run(saeId, n, blob(idx), blob(xyz), blob(cluster), blob(density));
  db.prepare('delete from clusters where sae_id = ?').run(saeId);
  const ins = db.prepare(
    'insert into clusters(sae_id, id, label, size, cx, cy, cz) values (?, ?, ?, ?, ?, ?, 0)',
  );
  for (const [id, g] of [...groups].sort((a, b) => a[0] - b[0]))
    ins.run(saeId, id, `Neuronpedia cluster ${id}`, g.size, g.x / g.size, g.y / g.size);
  return true;
}
