import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '../../../main/db/connection';
import { openIndex } from '../../../main/index';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const fixture = (name: string): string => join(repoRoot, 'tests/fixtures/packs', name);

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-index-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh index file at `file` with one SAE row, for tests that write their own features. */
export function indexWithSae(
  file: string,
  sae: {
    saeId: string;
    hook: string;
    kind: string;
    dSae: number;
    dIn: number;
    architecture: string;
  },
): Db {
  const db = openIndex(file);
  db.prepare(
    `insert into saes (sae_id, hook, kind, d_sae, d_in, architecture) values (?, ?, ?, ?, ?, ?)`,
  ).run(sae.saeId, sae.hook, sae.kind, sae.dSae, sae.dIn, sae.architecture);
  return db;
}

/** Everything a build derives for one SAE, in a stable order, for equality checks. */
export function dumpBuild(db: Db, saeId: string): unknown {
  const q = (sql: string): unknown[] => db.prepare(sql).all(saeId);
  return {
    features: q(
      `select idx, label, label_source, auto_label, auto_source, auto_description, top_tokens,
              density, n_active, max_act, mean_act, hex(histogram) as h, x, y, z, cluster
       from features where sae_id = ? order by idx`,
    ),
    top: q(
      'select idx, rank, example_id, activation, position, window from top_examples where sae_id = ? order by idx, rank',
    ),
    assoc: q(
      'select idx, key, value, auc, precision_top from associations where sae_id = ? order by idx, key, value',
    ),
    lens: q('select idx, top, bottom from logit_lens where sae_id = ? order by idx'),
    nearest: q(
      'select idx, hex(neighbours) as n, hex(cosines) as c from nearest where sae_id = ? order by idx',
    ),
    clusters: q('select id, label, size, cx, cy, cz from clusters where sae_id = ? order by id'),
    map: q(
      'select count, hex(xyz) as xyz, hex(cluster) as c, hex(density) as d from map_blobs where sae_id = ?',
    ),
    state: q(
      'select stage, chunks_done, chunks_total, n_positions from build_state where sae_id = ?',
    ),
  };
}
