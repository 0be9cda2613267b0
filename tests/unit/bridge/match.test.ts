// Bridge matching on synthetic SAEs whose answer is known, with the real ORT Gemm and real
// SQLite files: a permuted, noisy copy of a decoder is found both ways; planted co-firing
// features are found by correlation, whose scores equal a dense Pearson computation; a build
// cancelled between blocks resumes to exactly what an uninterrupted build writes.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gemm } from '../../../main/index/build/gemm';
import { mulberry32 } from '../../../main/index/build/rng';
import type { SparseCodes } from '../../../main/index/build/saeCodes';
import { runMatch } from '../../../main/bridge/match';
import {
  beginBridge,
  BridgeCancelled,
  bridgeState,
  openBridge,
  type BridgeDescription,
} from '../../../main/bridge/meta';
import { featureMatches } from '../../../main/bridge/read';
import { CorrelationScorer, DecoderScorer, type SampleCodes } from '../../../main/bridge/scorers';
import type { Db } from '../../../main/db/connection';
import { tempDir } from '../index/helpers';

function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function shuffled(n: number, rand: () => number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j] as number, p[i] as number];
  }
  return p;
}

function describeBridge(
  dA: number,
  dB: number,
  method: 'decoder' | 'correlation',
): BridgeDescription {
  return {
    method,
    a: { pack: 'synthetic-a', sae: 'a', hook: 'h', dSae: dA },
    b: { pack: 'synthetic-b', sae: 'b', hook: 'h', dSae: dB },
    topK: 5,
    sharedAt: 0.5,
    unit: method === 'decoder' ? 'decoder direction' : 'example',
    fingerprint: `synthetic-${method}-${dA}-${dB}`,
  };
}

function dump(db: Db): unknown {
  return {
    matches: db.prepare('select * from bridge_matches order by side, idx, rank').all(),
    state: db.prepare('select stage, blocks_done, blocks_total from bridge').get(),
    leftovers: db.prepare('select count(*) as n from bridge_side_top').get(),
  };
}

describe('decoder bridge', () => {
  const tmp = tempDir();
  const n = 300;
  const d = 48;
  const rand = mulberry32(7);
  const decA = Float32Array.from({ length: n * d }, () => gauss(rand));
  const perm = shuffled(n, rand);
  // B's feature perm[i] is A's feature i, rescaled, plus noise
  const decB = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < d; c++)
      decB[(perm[i] as number) * d + c] = 3 * (decA[i * d + c] as number) + 0.3 * gauss(rand);
  let gemm: Gemm;

  beforeAll(async () => {
    gemm = await Gemm.create(1);
  });
  afterAll(async () => {
    await gemm.dispose();
    tmp.cleanup();
  });

  it('finds every permuted feature both ways with cosine above 0.9', async () => {
    const db = openBridge(join(tmp.dir, 'full.sqlite'));
    beginBridge(db, describeBridge(n, n, 'decoder'), 'match');
    const scorer = new DecoderScorer(gemm, decA, n, decB, n, d);
    await runMatch(db, scorer, { blockRows: 37, commitSeconds: 0 });
    expect(bridgeState(db)).toMatchObject({ stage: 'done', blocksDone: 9, blocksTotal: 9 });
    for (let i = 0; i < n; i++) {
      const a = featureMatches(db, 'a', i);
      expect(a.matches[0]?.feature).toBe(perm[i]);
      expect(a.matches[0]?.score).toBeGreaterThan(0.9);
      expect(a.status).toBe('shared');
      // the runner-up is a random direction in 48 dimensions
      expect(a.matches[1]?.score).toBeLessThan(0.7);
      const b = featureMatches(db, 'b', perm[i] as number);
      expect(b.matches[0]?.feature).toBe(i);
      expect(b.matches).toHaveLength(5);
    }
    db.close();
  });

  it('resumes a cancelled build to what an uninterrupted one writes', async () => {
    const full = openBridge(join(tmp.dir, 'full.sqlite'));
    const db = openBridge(join(tmp.dir, 'resumed.sqlite'));
    beginBridge(db, describeBridge(n, n, 'decoder'), 'match');
    const scorer = new DecoderScorer(gemm, decA, n, decB, n, d);
    const stop = new AbortController();
    await expect(
      runMatch(db, scorer, {
        blockRows: 37,
        commitSeconds: 0,
        signal: stop.signal,
        onProgress: (p) => {
          if (p.done === 4) stop.abort();
        },
      }),
    ).rejects.toBeInstanceOf(BridgeCancelled);
    expect(bridgeState(db)).toMatchObject({ stage: 'match', blocksDone: 4 });
    expect(db.prepare("select count(*) as n from bridge_matches where side = 'b'").get()).toEqual({
      n: 0,
    });
    // a fresh scorer and handle, as after a restart
    db.close();
    const again = openBridge(join(tmp.dir, 'resumed.sqlite'));
    expect(beginBridge(again, describeBridge(n, n, 'decoder'), 'match').blocksDone).toBe(4);
    const ran = await runMatch(again, new DecoderScorer(gemm, decA, n, decB, n, d), {
      blockRows: 37,
    });
    expect(ran).toBe(5);
    expect(dump(again)).toEqual(dump(full));
    again.close();
    full.close();
  });
});

describe('correlation bridge', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const samples = 3000;
  const dA = 40;
  const dB = 60;
  const rand = mulberry32(11);
  const plant = shuffled(dB, rand).slice(0, 30); // A's feature i < 30 co-fires with B's plant[i]
  const rowsA: [number, number][][] = [];
  const rowsB: [number, number][][] = [];
  for (let s = 0; s < samples; s++) {
    const a = new Map<number, number>();
    const b = new Map<number, number>();
    while (a.size < 3) a.set(Math.floor(rand() * dA), 0.5 + rand());
    for (const [i, v] of a)
      if (i < 30 && rand() < 0.95) b.set(plant[i] as number, 2 * v + 0.1 * rand());
    if (rand() < 0.5) b.set(Math.floor(rand() * dB), rand());
    rowsA.push([...a]);
    rowsB.push([...b]);
  }
  const csr = (rows: [number, number][][]): SparseCodes => {
    const start = [0];
    const feature: number[] = [];
    const value: number[] = [];
    for (const r of rows) {
      for (const [j, v] of r) {
        feature.push(j);
        value.push(v);
      }
      start.push(feature.length);
    }
    return {
      rows: rows.length,
      start: Int32Array.from(start),
      feature: Int32Array.from(feature),
      value: Float32Array.from(value),
    };
  };
  const codes: SampleCodes = { samples, a: csr(rowsA), b: csr(rowsB) };

  it('scores each pair as the Pearson correlation of the dense activations', async () => {
    const scorer = new CorrelationScorer(codes, dA, dB);
    const got = await scorer.block(5, 12);
    const dense = (rows: [number, number][][], j: number): number[] =>
      rows.map((r) => r.find(([f]) => f === j)?.[1] ?? 0);
    const pearson = (x: number[], y: number[]): number => {
      const mx = x.reduce((s, v) => s + v, 0) / x.length;
      const my = y.reduce((s, v) => s + v, 0) / y.length;
      let sxy = 0;
      let sxx = 0;
      let syy = 0;
      x.forEach((v, i) => {
        sxy += (v - mx) * ((y[i] as number) - my);
        sxx += (v - mx) ** 2;
        syy += ((y[i] as number) - my) ** 2;
      });
      return sxy / Math.sqrt(sxx * syy);
    };
    for (let r = 0; r < 7; r++) {
      const x = dense(rowsA, 5 + r);
      for (const jb of [0, 7, plant[5 + r] as number, 59]) {
        const want = pearson(x, dense(rowsB, jb));
        expect(got[r * dB + jb]).toBeCloseTo(want, 4);
      }
    }
  });

  it('finds the planted co-firing features; the others stay specific', async () => {
    const db = openBridge(join(tmp.dir, 'corr.sqlite'));
    beginBridge(db, describeBridge(dA, dB, 'correlation'), 'match');
    await runMatch(db, new CorrelationScorer(codes, dA, dB), { blockRows: 16 });
    for (let i = 0; i < dA; i++) {
      const m = featureMatches(db, 'a', i);
      if (i < 30) {
        expect(m.matches[0]?.feature).toBe(plant[i]);
        expect(m.matches[0]?.score).toBeGreaterThan(0.8);
        expect(m.status).toBe('shared');
        expect(featureMatches(db, 'b', plant[i] as number).matches[0]?.feature).toBe(i);
      } else {
        expect(m.status).toBe('specific');
      }
    }
    db.close();
  });
});
