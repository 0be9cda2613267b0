// Bridges built for real on the fixture packs (real ONNX sessions, real SQLite): one text SAE
// against itself by correlation over token spans matches every live feature to itself; a
// build cancelled in the middle of its corpus resumes to what an uninterrupted build writes;
// the emoji pack's latent SAE against its spatial SAE, by example; an SAE folder at another
// layer of the text model, read through the exposed residual stream; the SAE at the later hook of
// a pack split at several, read through the graphs up to it; the character alignment
// of two tokenizations; and the CLI's export.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alignEnds, maxPool, tokenEnds } from '../../../main/bridge/align';
import { buildBridge } from '../../../main/bridge/build';
import { BridgeCancelled, bridgeState, openBridge } from '../../../main/bridge/meta';
import { exportBridge, featureMatches } from '../../../main/bridge/read';
import { openSide, openSideReader } from '../../../main/bridge/sides';
import { residTensor } from '../../../main/bridge/textHooks';
import type { Db } from '../../../main/db/connection';
import { TextModel } from '../../../main/index/build/activations';
import { Gemm } from '../../../main/index/build/gemm';
import { loadPackCorpus } from '../../../main/index/corpus';
import { graphNodes } from '../../../main/runtime/onnxExpose';
import { fixture, repoRoot, tempDir } from '../index/helpers';

const TEXT = fixture('text-tiny');
const EMOJI = fixture('emoji-tiny');
const HOOKS = fixture('text-tiny-hooks');

function dump(db: Db): unknown {
  return {
    matches: db.prepare('select * from bridge_matches order by side, idx, rank').all(),
    features: db.prepare('select * from bridge_features order by side, idx').all(),
    state: db
      .prepare('select stage, chunks_done, chunks_total, samples, blocks_done from bridge')
      .get(),
    codes: db.prepare('select count(*) as n from bridge_codes').get(),
  };
}

describe('character alignment', () => {
  it('cuts two tokenizations of one text into shared atoms', () => {
    // "héllo": é is two bytes; A has one token per byte, B tokens of "hé", "ll", "o"
    const bytes = new TextEncoder().encode('héllo');
    const decode = (ids: number[]): string =>
      new TextDecoder().decode(Uint8Array.from(ids, (i) => bytes[i] as number));
    const a = tokenEnds([0, 1, 2, 3, 4, 5], decode);
    expect([...a]).toEqual([1, 1, 2, 3, 4, 5]); // the first byte of é covers nothing
    const bDecode = (ids: number[]): string => ids.map((i) => ['hé', 'll', 'o'][i]).join('');
    const b = tokenEnds([0, 1, 2], bDecode);
    expect([...b]).toEqual([2, 4, 5]);
    const atoms = alignEnds(a, b);
    // atoms h, é, l, l, o: A's tokens 0, 2, 3, 4, 5; B's 0, 0, 1, 1, 2
    expect([...atoms.a]).toEqual([0, 2, 3, 4, 5]);
    expect([...atoms.b]).toEqual([0, 0, 1, 1, 2]);
  });

  it('pools rows by example, an example without rows giving an empty row', () => {
    const codes = {
      rows: 3,
      start: Int32Array.from([0, 2, 3, 4]),
      feature: Int32Array.from([1, 4, 1, 2]),
      value: Float32Array.from([0.5, 1, 2, 3]),
    };
    const pooled = maxPool(codes, Int32Array.from([7, 7, 9]), [7, 8, 9]);
    expect([...pooled.start]).toEqual([0, 2, 2, 3]);
    expect([...pooled.feature]).toEqual([1, 4, 2]);
    expect([...pooled.value]).toEqual([2, 1, 3]);
  });
});

describe('bridges on the fixture packs', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('matches every live text feature to itself by correlation over token spans', async () => {
    const db = openBridge(join(tmp.dir, 'self.sqlite'));
    const s = await buildBridge(db, TEXT, TEXT, { method: 'correlation', chunkExamples: 8 });
    expect(s.method).toBe('correlation');
    const state = bridgeState(db);
    expect(state).toMatchObject({ stage: 'done', unit: 'token span', chunksTotal: 8 });
    // one atom per token: the same tokenizer cuts alike
    expect(state?.samples).toBeGreaterThan(1000);
    const live = db
      .prepare("select idx from bridge_features where side = 'a' and n_active > 0")
      .all() as { idx: number }[];
    expect(live.length).toBeGreaterThan(32);
    for (const { idx } of live) {
      const m = featureMatches(db, 'a', idx);
      expect(m.matches[0]?.score).toBeGreaterThan(0.999);
      // a feature firing on exactly the same samples as another could tie; none does here
      expect(m.matches[0]?.feature).toBe(idx);
    }
    expect(db.prepare('select count(*) as n from bridge_codes').get()).toEqual({ n: 0 });
    // and their pages went back (VACUUM)
    expect(db.pragma('freelist_count', { simple: true })).toBe(0);
    db.close();
  }, 60_000);

  it('resumes a build cancelled in the corpus to what an uninterrupted one writes', async () => {
    const full = openBridge(join(tmp.dir, 'self.sqlite'));
    const db = openBridge(join(tmp.dir, 'cancelled.sqlite'));
    const stop = new AbortController();
    const o = { method: 'correlation' as const, chunkExamples: 8, commitSeconds: 0 };
    await expect(
      buildBridge(db, TEXT, TEXT, {
        ...o,
        signal: stop.signal,
        onProgress: (p) => {
          if (p.stage === 'codes' && p.done === 3) stop.abort();
        },
      }),
    ).rejects.toBeInstanceOf(BridgeCancelled);
    expect(bridgeState(db)).toMatchObject({ stage: 'codes', chunksDone: 3 });
    const s = await buildBridge(db, TEXT, TEXT, o);
    expect(s.resumedFrom.chunks).toBe(3);
    expect(dump(db)).toEqual(dump(full));
    db.close();
    full.close();
  }, 60_000);

  it('aligns two tokenizers by character spans (the tiny text model against the default one)', async () => {
    const db = openBridge(join(tmp.dir, 'two-models.sqlite'));
    const s = await buildBridge(db, TEXT, join(repoRoot, 'models/text-fortunes'), {
      chunkExamples: 30,
    });
    expect(s).toMatchObject({ method: 'correlation', featuresA: 64, featuresB: 4096 });
    const self = openBridge(join(tmp.dir, 'self.sqlite'));
    // every non-empty token span of the tiny model is cut at least once more where the other
    // vocabulary (4096 pieces against 300) cuts elsewhere: never fewer samples than its tokens
    const tiny = bridgeState(self)?.samples ?? 0;
    expect(s.samples).toBeGreaterThanOrEqual(tiny);
    expect(s.samples).toBeLessThan(4 * tiny);
    self.close();
    const live = db
      .prepare("select count(*) as n from bridge_matches where side = 'a' and rank = 0")
      .get() as { n: number };
    expect(live.n).toBeGreaterThan(32);
    db.close();
  }, 120_000);

  it('correlates over a folder of texts instead of the pack’s examples', async () => {
    const folder = join(tmp.dir, 'texts');
    mkdirSync(folder);
    writeFileSync(
      join(folder, 'one.txt'),
      'In the beginning God created the heaven and the earth.',
    );
    writeFileSync(join(folder, 'two.txt'), 'A fortune cookie: you will write many tests today.');
    const db = openBridge(join(tmp.dir, 'folder.sqlite'));
    const s = await buildBridge(db, TEXT, TEXT, { method: 'correlation', corpusDir: folder });
    expect(s.samples).toBeGreaterThan(20);
    expect(s.samples).toBeLessThan(200);
    for (const r of db
      .prepare("select idx, other, score from bridge_matches where side = 'a' and rank = 0")
      .all() as { idx: number; other: number; score: number }[])
      expect(r.score).toBeGreaterThan(0.999);
    db.close();
  }, 60_000);

  it('bridges the emoji latent SAE to the spatial SAE by example', async () => {
    const db = openBridge(join(tmp.dir, 'emoji.sqlite'));
    const s = await buildBridge(db, `${EMOJI}#latent-32`, `${EMOJI}#spatial-32`);
    expect(s).toMatchObject({ method: 'correlation', samples: 24, featuresA: 32, featuresB: 32 });
    expect(bridgeState(db)?.unit).toBe('example');
    const rows = db.prepare('select score from bridge_matches').all() as { score: number }[];
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(Math.abs(r.score)).toBeLessThanOrEqual(1 + 1e-5);
    // every spatial feature that fired on some emoji has matches; one that never did is silent
    const silent = db
      .prepare("select idx from bridge_features where side = 'b' and n_active = 0")
      .all() as { idx: number }[];
    for (const { idx } of silent) expect(featureMatches(db, 'b', idx).status).toBe('silent');
    const out = join(tmp.dir, 'emoji.csv');
    const r = await exportBridge(db, out);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(r.rows + 1);
    expect(lines[0]).toBe('side,sae,feature,rank,other_sae,other_feature,score,shared');
    db.close();
  }, 60_000);

  it('reads an SAE at an earlier layer of the text model through its exposed residual', async () => {
    const below = new Uint8Array(await fs.readFile(join(TEXT, 'below.onnx')));
    const nodes = graphNodes(below);
    expect(residTensor(nodes, 1, 1)).toBe('hook_resid');
    const l0 = residTensor(nodes, 0, 1);
    expect(l0).not.toBe('hook_resid');
    // blocks.0.hook_resid_post feeds both of block 1's residual Adds' chain
    const users = nodes.filter((n) => n.inputs.includes(l0)).map((n) => n.op);
    expect(users).toContain('Add');
    expect(() => residTensor(nodes, 2, 1)).toThrow(/layers 0 … 1/);
    // the fixture's SAE weights, said to read blocks.0: a second layer to bridge to
    const folder = join(tmp.dir, 'res0');
    cpSync(join(TEXT, 'sae/blocks.1.hook_resid_post'), folder, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(folder, 'cfg.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(
      join(folder, 'cfg.json'),
      JSON.stringify({ ...cfg, hook_name: 'blocks.0.hook_resid_post', metadata: null }),
    );
    const db = openBridge(join(tmp.dir, 'layers.sqlite'));
    const s = await buildBridge(db, `${TEXT}#res1-64`, `${TEXT}#${folder}`);
    expect(s.method).toBe('correlation');
    expect(bridgeState(db)?.b).toMatchObject({ sae: 'res0', hook: 'blocks.0.hook_resid_post' });
    const self = db.prepare('select bridge.samples as n from bridge').get() as { n: number };
    const same = openBridge(join(tmp.dir, 'self.sqlite'));
    // the same tokens, so as many samples as the one-layer bridge
    expect(self.n).toBe(bridgeState(same)?.samples ?? 0);
    // other activations: the same weights no longer match themselves perfectly everywhere
    const selfScores = db
      .prepare("select score from bridge_matches where side = 'a' and rank = 0")
      .all() as { score: number }[];
    expect(selfScores.some((r) => r.score < 0.99)).toBe(true);
    same.close();
    db.close();
  }, 60_000);
  it('reads the SAE at the later hook of a pack split at several through the graphs up to it', async () => {
    // text-tiny-hooks: SAEs at blocks.0 (below.onnx) and blocks.1 (middle1.onnx)
    const side = await openSide(`${HOOKS}#res1-64`);
    expect(side.hook).toBe('blocks.1.hook_resid_post');
    const corpus = await loadPackCorpus(side.pack);
    const examples = corpus.examples.slice(0, 3);
    const gemm = await Gemm.create();
    const reader = await openSideReader(side, corpus, gemm);
    const model = await TextModel.open(side.pack, { hook: side.hook });
    try {
      const chunk = await reader.read(examples);
      const d = side.sae.dIn;
      let r = 0;
      for (const ex of examples) {
        // the reader's rows of this example: its tokens after BOS, each row one token
        const rows = [...chunk.example].filter((e) => e === ex.id).length;
        expect(rows).toBeGreaterThan(0);
        const ids = model.encode(ex.body ?? ex.name); // BOS first, as the reader reads it
        expect(ids[0]).toBe(1);
        const { resid } = await model.resid([ids.slice(0, rows + 1)]);
        const want = side.sae.encode(resid.subarray(d), rows);
        for (let t = 0; t < rows; t++, r++) {
          const s0 = chunk.codes.start[r] as number;
          const s1 = chunk.codes.start[r + 1] as number;
          expect(s1 - s0).toBeGreaterThan(0);
          for (let k = s0; k < s1; k++) {
            const f = chunk.codes.feature[k] as number;
            const v = want[t * side.sae.dSae + f] as number;
            expect(Math.abs(v - (chunk.codes.value[k] as number))).toBeLessThan(1e-4);
          }
        }
      }
      expect(r).toBe(chunk.codes.rows);
    } finally {
      await model.dispose();
      await reader.dispose();
    }
    // and a bridge across the two layers builds (below.onnx alone cannot give blocks.1)
    const db = openBridge(join(tmp.dir, 'hooks.sqlite'));
    await buildBridge(db, `${HOOKS}#res0-64`, `${HOOKS}#res1-64`);
    expect(bridgeState(db)).toMatchObject({ stage: 'done', unit: 'token span' });
    expect(bridgeState(db)?.b).toMatchObject({ sae: 'res1-64', hook: 'blocks.1.hook_resid_post' });
    db.close();
  }, 60_000);
});
