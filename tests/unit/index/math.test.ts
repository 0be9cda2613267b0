// The index's numeric pieces on their own: exact AUC, histogram bins, top lists, k-NN
// (exact and IVF), UMAP layout, k-means, labels and the FTS query builder.
import { describe, expect, it } from 'vitest';
import {
  ranksAbove,
  FeatureAccumulators,
  histogramBin,
} from '../../../main/index/build/accumulate';
import {
  aucByPairs,
  featureAssociations,
  hypergeomLog10Tail,
  logFactorials,
  metaIndex,
  namedValues,
  PAIR_SEPARATOR,
  pairAssociations,
  pairCount,
} from '../../../main/index/build/associations';
import { clusterLabel, kmeans3 } from '../../../main/index/build/clusters';
import { Gemm } from '../../../main/index/build/gemm';
import { knnCosine, normalizeRows } from '../../../main/index/build/knn';
import {
  assignMetadataLabels,
  autoLabel,
  metadataCandidates,
  peakTokens,
  singleLog10Threshold,
} from '../../../main/index/build/labels';
import { mulberry32 } from '../../../main/index/build/rng';
import { fuzzyGraph, optimizeLayout, pcaInit } from '../../../main/index/build/umap';
import type { CorpusExample } from '../../../main/index/corpus';
import { ftsExpression } from '../../../main/index/search';

/** n points in `groups` tight clusters on the unit sphere of R^d. */
function clustered(
  n: number,
  d: number,
  groups: number,
  seed: number,
): { x: Float32Array; group: Int32Array } {
  const rand = mulberry32(seed);
  const centres = Float32Array.from({ length: groups * d }, () => rand() - 0.5);
  const x = new Float32Array(n * d);
  const group = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const g = i % groups;
    group[i] = g;
    for (let c = 0; c < d; c++) x[i * d + c] = (centres[g * d + c] ?? 0) + (rand() - 0.5) * 0.15;
  }
  return { x: normalizeRows(x, n, d), group };
}

describe('metadata AUC', () => {
  it('equals the pairwise definition, with ties and the block of zeros', () => {
    const rand = mulberry32(3);
    const n = 80;
    const examples: CorpusExample[] = Array.from({ length: n }, (_, id) => ({
      id,
      name: `e${id}`,
      body: null,
      meta: { colour: ['red', 'green', 'blue'][id % 3] as string, big: String(rand() < 0.3) },
      split: null,
    }));
    const meta = metaIndex(examples);
    expect(meta.values.map((v) => `${v.key}=${v.value}`)).toEqual([
      'big=false',
      'big=true',
      'colour=blue',
      'colour=green',
      'colour=red',
    ]);
    const scores = new Float64Array(n);
    const slots: number[] = [];
    const acts: number[] = [];
    for (let i = 0; i < n; i++) {
      if (rand() < (i % 3 === 0 ? 0.1 : 0.5)) continue; // zeros, fewer for reds
      // Quantised so that ties happen; reds score higher.
      const v = Math.round((rand() + (i % 3 === 0 ? 0.6 : 0)) * 4) / 4 + 0.25;
      scores[i] = v;
      slots.push(i);
      acts.push(v);
    }
    const got = featureAssociations(meta, Int32Array.from(slots), Float32Array.from(acts));
    expect(got).toHaveLength(5);
    for (const a of got) {
      const positive = examples.map((e) => (e.meta[a.key] === a.value ? 1 : 0));
      expect(a.auc).toBeCloseTo(aucByPairs(scores, positive), 12);
    }
    expect(got[0]).toMatchObject({ key: 'colour', value: 'red' });
    expect(got[0]?.auc).toBeGreaterThan(0.7);
  });

  it('skips keys with too many values and values nobody or everybody has', () => {
    const examples: CorpusExample[] = Array.from({ length: 300 }, (_, id) => ({
      id,
      name: '',
      body: null,
      meta: { id: String(id), all: 'same', half: String(id % 2) },
      split: null,
    }));
    expect(metaIndex(examples).values.map((v) => v.key)).toEqual(['half', 'half']);
  });
});

describe('streamed statistics', () => {
  it('bins by quarter octaves and clamps the ends', () => {
    expect(histogramBin(1)).toBe(40);
    expect(histogramBin(2)).toBe(44);
    expect(histogramBin(Math.pow(2, 0.3))).toBe(41);
    expect(histogramBin(1e-30)).toBe(0);
    expect(histogramBin(1e30)).toBe(63);
  });

  it('keeps the top k by activation, ties broken by the lower example id', () => {
    const acc = new FeatureAccumulators(1, 3);
    const offers = [
      [0.5, 4],
      [0.9, 2],
      [0.5, 1],
      [0.1, 0],
      [0.9, 7],
      [0.5, 3],
    ] as const;
    for (const [a, e] of offers) {
      if (acc.wouldEnter(0, a, e))
        acc.offerTop(0, { activation: a, example: e, position: 0, window: '' });
    }
    expect(acc.top[0]?.map((t) => [t.activation, t.example])).toEqual([
      [0.9, 2],
      [0.9, 7],
      [0.5, 1],
    ]);
    expect(
      ranksAbove(
        { activation: 1, example: 9, position: 0, window: '' },
        { activation: 1, example: 3, position: 0, window: '' },
      ),
    ).toBe(false);
  });
});

describe('k-NN, UMAP and clusters', () => {
  it('exact k-NN matches brute force; IVF keeps high recall', async () => {
    const gemm = await Gemm.create();
    const n = 1500;
    const d = 24;
    const { x } = clustered(n, d, 12, 5);
    const k = 10;
    const exact = await knnCosine(gemm, x, n, d, k, { exactBelow: 100_000 });
    // brute force for a few rows
    for (const i of [0, 77, 1499]) {
      const sims: [number, number][] = [];
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        let s = 0;
        for (let c = 0; c < d; c++) s += (x[i * d + c] ?? 0) * (x[j * d + c] ?? 0);
        sims.push([s, j]);
      }
      sims.sort((a, b) => b[0] - a[0]);
      const got = Array.from(exact.sims.subarray(i * k, i * k + k));
      sims.slice(0, k).forEach(([s], t) => expect(got[t]).toBeCloseTo(s, 5));
    }
    const ivf = await knnCosine(gemm, x, n, d, k, { exactBelow: 100, seed: 1 });
    let hit = 0;
    for (let i = 0; i < n; i++) {
      const truth = new Set(exact.indices.subarray(i * k, i * k + k));
      for (const j of ivf.indices.subarray(i * k, i * k + k)) if (truth.has(j)) hit++;
    }
    expect(hit / (n * k)).toBeGreaterThan(0.9);
    await gemm.dispose();
  }, 60_000);

  it('lays out clustered directions so that neighbours on the map share their cluster, the same for the same seed', async () => {
    const gemm = await Gemm.create();
    const n = 600;
    const d = 16;
    const { x, group } = clustered(n, d, 6, 9);
    const g = await knnCosine(gemm, x, n, d, 15);
    const fuzzy = fuzzyGraph(g);
    // symmetric, weights in (0, 1]
    expect(fuzzy.head.length).toBe(fuzzy.tail.length);
    expect(Array.from(fuzzy.weight).every((w) => w > 0 && w <= 1)).toBe(true);
    const layout = async (): Promise<Float32Array> =>
      optimizeLayout(fuzzy, await pcaInit(gemm, x, n, d, 3, 4), n, { seed: 4, epochs: 150 });
    const a = await layout();
    const b = await layout();
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    let agree = 0;
    for (let i = 0; i < n; i++) {
      let best = -1;
      let bd = Infinity;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const dd =
          ((a[i * 3] ?? 0) - (a[j * 3] ?? 0)) ** 2 +
          ((a[i * 3 + 1] ?? 0) - (a[j * 3 + 1] ?? 0)) ** 2 +
          ((a[i * 3 + 2] ?? 0) - (a[j * 3 + 2] ?? 0)) ** 2;
        if (dd < bd) {
          bd = dd;
          best = j;
        }
      }
      if (group[best] === group[i]) agree++;
    }
    expect(agree / n).toBeGreaterThan(0.95);
    const km = kmeans3(a, n, 6, 1);
    expect(Array.from(km.sizes).reduce((s, v) => s + v, 0)).toBe(n);
    // k-means on a good layout recovers the groups: each cluster is mostly one group.
    let pure = 0;
    for (let c = 0; c < km.k; c++) {
      const counts = new Map<number, number>();
      for (let i = 0; i < n; i++)
        if (km.assign[i] === c) counts.set(group[i] ?? 0, (counts.get(group[i] ?? 0) ?? 0) + 1);
      pure += Math.max(0, ...counts.values());
    }
    expect(pure / n).toBeGreaterThan(0.9);
    await gemm.dispose();
  }, 60_000);

  it('labels a cluster by its most common metadata label', () => {
    expect(
      clusterLabel(
        [
          { label: 'source=bible', source: 'metadata' },
          { label: 'source=bible', source: 'metadata' },
          { label: '“the”', source: 'top-tokens' },
          { label: '“the”', source: 'top-tokens' },
          { label: '“the”', source: 'top-tokens' },
          { label: null, source: null },
        ],
        2,
      ),
    ).toBe('source=bible (2 of 6)');
    expect(clusterLabel([{ label: null, source: null }], 4)).toBe('cluster 4');
  });
});

describe('labels and search text', () => {
  it('takes metadata that passes the rule, else tokens, else example names', () => {
    const assoc = {
      key: 'source',
      value: 'bible',
      auc: 0.93,
      precisionTop: 0.9,
      log10P: -9,
      nPositive: 20,
    };
    expect(autoLabel([assoc], [], [], 40)).toMatchObject({
      label: 'source=bible',
      source: 'metadata',
    });
    // A value none of the top examples carry does not name the feature, whatever its AUC.
    const offTop = { ...assoc, key: 'book', value: 'Job', auc: 0.97, precisionTop: 0.2 };
    expect(autoLabel([offTop, assoc], [], [], 40)).toMatchObject({ label: 'source=bible' });
    expect(autoLabel([offTop], [], ['x'], 40)).toMatchObject({ source: 'top-examples' });
    // Nor does a share of the top that the value's base rate explains (chance 1e-2 > 0.01/40).
    const common = { ...assoc, value: 'common', log10P: -2 };
    expect(autoLabel([common], [], ['x'], 40)).toMatchObject({ source: 'top-examples' });
    // Nor a feature that ranks the value's examples below the rest overall.
    const below = { ...assoc, auc: 0.45 };
    expect(autoLabel([below], [], ['x'], 40)).toMatchObject({ source: 'top-examples' });
    const toks = peakTokens([
      { activation: 1, token: ' the' },
      { activation: 0.5, token: ' of' },
      { activation: 0.7, token: ' the' },
      { activation: 0.2, token: null },
    ]);
    expect(toks.map((t) => t.token)).toEqual([' the', ' of']);
    const l = autoLabel([common], toks, ['x'], 40);
    expect(l).toMatchObject({ label: '“the” “of”', source: 'top-tokens' });
    expect(l?.description).toContain('AUC 0.93');
    expect(autoLabel([common], [], ['grinning face', 'grinning face', 'cat'], 40)).toMatchObject({
      label: 'grinning face, cat',
      source: 'top-examples',
    });
    expect(autoLabel([], [], [], 40)).toBeNull();
  });

  it('tail of the hypergeometric: exact sums for small cases', () => {
    const lf = logFactorials(20);
    // 20 examples, 5 carry v, 4 drawn, all 4 carry it: C(5,4)/C(20,4) = 5/4845.
    expect(10 ** hypergeomLog10Tail(lf, 20, 5, 4, 4)).toBeCloseTo(5 / 4845, 12);
    // at least 1 of 4: 1 - C(15,4)/C(20,4) = 1 - 1365/4845
    expect(10 ** hypergeomLog10Tail(lf, 20, 5, 4, 1)).toBeCloseTo(1 - 1365 / 4845, 12);
    expect(hypergeomLog10Tail(lf, 20, 5, 4, 0)).toBe(0);
  });

  it('assigns values so that more are named, never breaking the rule or unnaming one', () => {
    const a = (value: string, log10P: number, precisionTop: number) => ({
      key: 'k',
      value,
      auc: 0.9,
      precisionTop,
      log10P,
      nPositive: 10,
    });
    // Features 0–2 all prefer "bible"; feature 2 also passes for "Job", feature 1 for
    // "Ruth" (weakly) but not "Psalms"; feature 3 passes only for "dict"; feature 4 for
    // nothing.
    const assocs = [
      [a('bible', -20, 1)],
      [a('bible', -19, 1), a('Ruth', -5, 0.5), a('Psalms', -1, 0.9)],
      [a('bible', -18, 1), a('Job', -9, 0.6)],
      [a('dict', -9, 0.9), a('bible', -12, 0.1)],
      [a('Esther', -2, 1)],
    ];
    const cands = assocs.map((x) => metadataCandidates(x, 10));
    expect(cands[4]).toEqual([]);
    expect(cands[3]?.map((c) => c.value)).toEqual(['dict']);
    expect(cands[1]?.map((c) => c.value)).toEqual(['bible', 'Ruth']);
    const picked = assignMetadataLabels(cands).map((p) => p?.value ?? null);
    expect(picked).toEqual(['bible', 'Ruth', 'Job', 'dict', null]);
    picked.forEach((v, f) => {
      if (v) expect(cands[f]?.map((c) => c.value)).toContain(v);
    });
    // A value's only name is never moved: with one "bible" feature, it stays.
    expect(assignMetadataLabels([cands[2] ?? []]).map((p) => p?.value)).toEqual(['bible']);
    expect(autoLabel(assocs[1] ?? [], [], [], 10, 0.5, cands[1]?.[1])).toMatchObject({
      label: 'k=Ruth',
      source: 'metadata',
    });
  });

  it('pairs two enriched values of one key that share the top examples', () => {
    // 200 examples: 10 of value A, 10 of B, the rest C. The feature's top 16 are 6 A, 5 B
    // and 5 C, interleaved: neither A nor B holds half of its top 10, together they hold
    // 11 of its top 16.
    const n = 200;
    const value = (i: number): string => (i < 10 ? 'A' : i < 20 ? 'B' : 'C');
    const examples: CorpusExample[] = Array.from({ length: n }, (_, id) => ({
      id,
      name: `e${id}`,
      body: null,
      meta: { k: value(id), other: id % 2 ? 'odd' : 'even' },
      split: null,
    }));
    const meta = metaIndex(examples);
    const fired = [0, 10, 1, 11, 20, 2, 12, 21, 3, 13, 22, 4, 14, 23, 5, 24];
    const slots = Int32Array.from(fired);
    const acts = Float32Array.from(fired, (_, i) => 10 - i * 0.1);
    const singles = featureAssociations(meta, slots, acts);
    const a = singles.find((x) => x.value === 'A');
    expect(a?.precisionTop).toBeCloseTo(0.4, 10); // 4 of its top min(16, 10) = 10
    const pairs = pairAssociations(meta, slots, acts, singles, singleLog10Threshold(5));
    const ab = pairs.find((x) => x.value === `A${PAIR_SEPARATOR}B`);
    expect(ab).toBeDefined();
    expect(ab?.precisionTop).toBeCloseTo(11 / 16, 10);
    expect(ab?.nPositive).toBe(20);
    // Never across keys, never with a value that is not enriched on its own (C).
    expect(pairs.every((x) => x.key === 'k' && !x.value.includes('C'))).toBe(true);
    expect(namedValues(`k=A${PAIR_SEPARATOR}B`)).toEqual(['k=A', 'k=B']);
    expect(pairCount(meta)).toBe(3 + 1);
    // A passing pair names both values; a passing single is preferred to a pair.
    const cands = metadataCandidates([...singles, ...pairs], 5, 0.5, pairCount(meta));
    expect(cands.map((c) => c.value)).toContain(`A${PAIR_SEPARATOR}B`);
    const picked = assignMetadataLabels([cands]);
    expect(picked[0]?.value).toBe(cands[0]?.value);
  });

  it('quotes every word as a prefix and drops FTS5 syntax', () => {
    expect(ftsExpression('Bible  ver', false)).toBe('"bible"* AND "ver"*');
    expect(ftsExpression('NEAR("x" OR y*)', false)).toBe('"near"* AND "x"* AND "or"* AND "y"*');
    // With related words, each word may match itself (as a prefix) or one of its relatives.
    // (WordNet: "Bible" is "holy scripture"; "ver" is no word of its own)
    expect(ftsExpression('Bible  ver')).toMatch(
      /^\("bible"\* OR .*"holy scripture" .+\) AND "ver"\*$/,
    );
    expect(ftsExpression(' -- ')).toBeNull();
  });
});
