// The map's co-activation input (main/index/build/coactivation.ts) on a real index: the text
// fixture built for real (ONNX model and SAE, SQLite), then its map stage run again with
// decoder cosine alone and with co-activation mixed in.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../main/db/connection';
import { buildIndex, openIndex } from '../../../main/index';
import { mapStage } from '../../../main/index/build/build';
import { coactCosine, mixedKnn, topExampleRows } from '../../../main/index/build/coactivation';
import { Gemm } from '../../../main/index/build/gemm';
import { knnCosine, normalizeRows } from '../../../main/index/build/knn';
import { loadSae, type Sae } from '../../../main/sae';
import { fixture, tempDir } from './helpers';

const TEXT = fixture('text-tiny');
const SAE = 'res1-64';

function unitDecoder(sae: Sae): Float32Array {
  const dec = new Float32Array(sae.dSae * sae.dIn);
  for (let i = 0; i < sae.dSae; i++) dec.set(sae.decoderRow(i), i * sae.dIn);
  return normalizeRows(dec, sae.dSae, sae.dIn);
}

function positions(db: Db): Float32Array {
  const rows = db
    .prepare('select idx, x, y, z from features where sae_id = ? order by idx')
    .all(SAE) as { idx: number; x: number; y: number; z: number }[];
  const xyz = new Float32Array(rows.length * 3);
  for (const r of rows) xyz.set([r.x, r.y, r.z], r.idx * 3);
  return xyz;
}

/** Where j falls among i's others by 3-D distance, as a share (0 = nearest, 1 = farthest). */
function distanceRank(xyz: Float32Array, n: number, i: number, j: number): number {
  const d = (a: number, b: number): number =>
    ((xyz[a * 3] ?? 0) - (xyz[b * 3] ?? 0)) ** 2 +
    ((xyz[a * 3 + 1] ?? 0) - (xyz[b * 3 + 1] ?? 0)) ** 2 +
    ((xyz[a * 3 + 2] ?? 0) - (xyz[b * 3 + 2] ?? 0)) ** 2;
  const dj = d(i, j);
  let closer = 0;
  for (let t = 0; t < n; t++) if (t !== i && t !== j && d(i, t) < dj) closer++;
  return closer / (n - 2);
}

describe('map input: decoder cosine mixed with co-activation', () => {
  const tmp = tempDir();
  let db: Db;
  let gemm: Gemm;
  let sae: Sae;

  beforeAll(async () => {
    db = openIndex(join(tmp.dir, 'text.sqlite'));
    await buildIndex(db, TEXT, { chunkExamples: 8 });
    sae = await loadSae(join(TEXT, 'sae/blocks.1.hook_resid_post'));
    gemm = await Gemm.create(1);
  }, 120_000);

  afterAll(async () => {
    await gemm.dispose();
    db.close();
    tmp.cleanup();
  });

  it('reads each feature’s top examples as a unit vector; the cosine matches a direct sum', () => {
    const rows = topExampleRows(db, SAE, sae.dSae);
    const stored = db
      .prepare(
        'select idx, example_id as e, activation as a from top_examples where sae_id = ? and activation > 0',
      )
      .all(SAE) as { idx: number; e: number; a: number }[];
    const vec = new Map<number, Map<number, number>>();
    for (const r of stored) {
      const v = vec.get(r.idx) ?? new Map<number, number>();
      v.set(r.e, (v.get(r.e) ?? 0) + r.a);
      vec.set(r.idx, v);
    }
    const direct = (i: number, j: number): number => {
      const a = vec.get(i) ?? new Map<number, number>();
      const b = vec.get(j) ?? new Map<number, number>();
      const norm = (m: Map<number, number>): number =>
        Math.sqrt([...m.values()].reduce((s, x) => s + x * x, 0));
      let dot = 0;
      for (const [e, x] of a) dot += x * (b.get(e) ?? 0);
      return norm(a) && norm(b) ? dot / (norm(a) * norm(b)) : 0;
    };
    const live = [...vec.keys()].slice(0, 12);
    expect(live.length).toBeGreaterThan(4);
    let shared = 0;
    for (const i of live) {
      expect(coactCosine(rows, i, i)).toBeCloseTo(1, 5);
      for (const j of live) {
        expect(coactCosine(rows, i, j)).toBeCloseTo(direct(i, j), 5);
        if (i !== j && direct(i, j) > 0) shared++;
      }
    }
    expect(shared).toBeGreaterThan(0);
  });

  it('at weight 0 finds the same neighbours as decoder cosine', async () => {
    const unit = unitDecoder(sae);
    const rows = topExampleRows(db, SAE, sae.dSae);
    const mixed = await mixedKnn(gemm, unit, sae.dSae, sae.dIn, rows, 0, 10);
    const plain = await knnCosine(gemm, unit, sae.dSae, sae.dIn, 10);
    expect([...mixed.indices]).toEqual([...plain.indices]);
  });

  it('puts features with shared top examples nearer than the decoder-only map does', async () => {
    const n = sae.dSae;
    const rows = topExampleRows(db, SAE, n);
    // each live feature's strongest co-activation partner
    const pairs: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      let best = -1;
      let bv = 0.3;
      for (let j = 0; j < n; j++) {
        const c = j === i ? 0 : coactCosine(rows, i, j);
        if (c > bv) [best, bv] = [j, c];
      }
      if (best >= 0) pairs.push([i, best]);
    }
    expect(pairs.length).toBeGreaterThan(5);
    const meanRank = (xyz: Float32Array): number =>
      pairs.reduce((s, [i, j]) => s + distanceRank(xyz, n, i, j), 0) / pairs.length;
    const ranks = { decoder: 0, mixed: 0 };
    for (const seed of [42, 7]) {
      await mapStage(db, SAE, sae, gemm, seed, { mapCoactivation: 0 }, () => {});
      ranks.decoder += meanRank(positions(db)) / 2;
      await mapStage(db, SAE, sae, gemm, seed, { mapCoactivation: 0.75 }, () => {});
      ranks.mixed += meanRank(positions(db)) / 2;
    }
    expect(ranks.mixed).toBeLessThan(ranks.decoder * 0.75);
    // a card's nearest features are still the nearest by decoder cosine
    const plain = await knnCosine(gemm, unitDecoder(sae), n, sae.dIn, 10);
    const near = db
      .prepare('select neighbours from nearest where sae_id = ? and idx = 3')
      .get(SAE) as { neighbours: Buffer };
    const stored = new Int32Array(
      near.neighbours.buffer.slice(
        near.neighbours.byteOffset,
        near.neighbours.byteOffset + near.neighbours.byteLength,
      ),
    );
    expect([...stored]).toEqual([...plain.indices.subarray(30, 40)]);
  }, 60_000);
});
