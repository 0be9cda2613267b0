// Effect bridges on the fixture text pack (real ONNX sessions, real SQLite): a feature's effect
// on the logits is centred and its gain is per unit of activation (a decoder row twice as long
// has the same effect at twice the gain); the pack's SAE against itself matches every feature
// with a direction to itself; a build cancelled while measuring effects resumes to what an
// uninterrupted one writes; two models with different tokenizers are refused.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBridge } from '../../../main/bridge/build';
import { featureEffects } from '../../../main/bridge/effect';
import { BridgeCancelled, bridgeState, openBridge } from '../../../main/bridge/meta';
import { effectRefusal } from '../../../main/bridge/methods';
import { bridgeMigrations } from '../../../main/bridge/migrations';
import { featureMatches } from '../../../main/bridge/read';
import { openSide } from '../../../main/bridge/sides';
import { migrate, openDatabase, type Db } from '../../../main/db/connection';
import { loadPackCorpus } from '../../../main/index/corpus';
import { readPack } from '../../../main/packs/packReader';
import { fixture, repoRoot, tempDir } from '../index/helpers';

const TEXT = fixture('text-tiny');

function dump(db: Db): unknown {
  return {
    matches: db.prepare('select * from bridge_matches order by side, idx, rank').all(),
    features: db.prepare('select * from bridge_features order by side, idx').all(),
    state: db.prepare('select stage, samples, blocks_done, unit, shared_at from bridge').get(),
  };
}

describe('effects of text features on the logits', () => {
  it('are centred, and their gain is per unit of activation', async () => {
    const side = await openSide(TEXT);
    const corpus = await loadPackCorpus(side.pack, 'auto');
    const e = await featureEffects(side, corpus.examples);
    const { dSae, vocab } = e;
    expect(dSae).toBe(64);
    for (let j = 0; j < dSae; j++) {
      let sum = 0;
      let len = 0;
      for (let t = 0; t < vocab; t++) {
        sum += e.effects[j * vocab + t] as number;
        len += (e.effects[j * vocab + t] as number) ** 2;
      }
      expect(Math.abs(sum)).toBeLessThan(1e-3 * Math.sqrt(len) * vocab);
      expect(len).toBeGreaterThan(0);
    }
    // the same SAE with every decoder row twice as long
    const sae = Object.create(side.sae, {
      decoderRow: { value: (j: number) => side.sae.decoderRow(j).map((x) => 2 * x) },
    }) as typeof side.sae;
    const twice = await featureEffects({ ...side, sae }, corpus.examples);
    for (let j = 0; j < dSae; j++) {
      expect(twice.gain[j]).toBeCloseTo(2 * (e.gain[j] as number), 3);
      expect(twice.effects[j * vocab + 5]).toBeCloseTo(e.effects[j * vocab + 5] as number, 4);
    }
  }, 60_000);
});

describe('effect bridges on the fixture packs', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('matches every text feature to itself by its effect on the logits', async () => {
    const db = openBridge(join(tmp.dir, 'self.sqlite'));
    const s = await buildBridge(db, TEXT, TEXT, { method: 'effect' });
    expect(s).toMatchObject({ method: 'effect', featuresA: 64, featuresB: 64, sharedAt: 0.8 });
    expect(bridgeState(db)).toMatchObject({ stage: 'done', unit: 'output effect' });
    for (let j = 0; j < 64; j++) {
      const m = featureMatches(db, 'a', j);
      expect(m.matches[0]).toMatchObject({ feature: j });
      expect(m.matches[0]?.score).toBeGreaterThan(0.999);
      expect(m.status).toBe('shared');
    }
    const gains = db
      .prepare("select gain from bridge_features where side = 'b' order by idx")
      .all() as { gain: number }[];
    expect(gains).toHaveLength(64);
    expect(gains.every((g) => g.gain > 0)).toBe(true);
    db.close();
  }, 60_000);

  it('resumes a build cancelled while measuring effects to what an uninterrupted one writes', async () => {
    const full = openBridge(join(tmp.dir, 'self.sqlite'));
    const db = openBridge(join(tmp.dir, 'cancelled.sqlite'));
    const stop = new AbortController();
    await expect(
      buildBridge(db, TEXT, TEXT, {
        method: 'effect',
        signal: stop.signal,
        onProgress: (p) => {
          if (p.stage === 'effects' && p.done >= 16) stop.abort();
        },
      }),
    ).rejects.toBeInstanceOf(BridgeCancelled);
    expect(bridgeState(db)).toMatchObject({ stage: 'match', blocksDone: 0 });
    await buildBridge(db, TEXT, TEXT, { method: 'effect' });
    expect(dump(db)).toEqual(dump(full));
    db.close();
    full.close();
  }, 60_000);

  it('opens a bridge file of schema 1 as schema 2, keeping its bridge', () => {
    const file = join(tmp.dir, 'v1.sqlite');
    const v1 = openDatabase(file);
    migrate(v1, bridgeMigrations.slice(0, 1));
    v1.prepare(
      `insert into bridge(id, method, a_pack, a_sae, a_hook, a_d_sae, b_pack, b_sae, b_hook, b_d_sae,
         top_k, shared_at, unit, fingerprint, stage, started_at)
       values (1, 'correlation', 'p', 's', 'h', 4, 'q', 't', 'h', 5, 10, 0.5, 'token span', 'f', 'done', 'now')`,
    ).run();
    v1.prepare("insert into bridge_features(side, idx, n_active) values ('a', 0, 3)").run();
    v1.close();
    const db = openBridge(file);
    expect(bridgeState(db)).toMatchObject({ method: 'correlation', stage: 'done', b: { dSae: 5 } });
    expect(db.prepare('select * from bridge_features').all()).toEqual([
      { side: 'a', idx: 0, n_active: 3, gain: null },
    ]);
    db.close();
  });

  it('refuses two text models with different tokenizers', async () => {
    const db = openBridge(join(tmp.dir, 'two.sqlite'));
    await expect(
      buildBridge(db, TEXT, join(repoRoot, 'models/text-fortunes'), { method: 'effect' }),
    ).rejects.toThrow(/different tokenizers/);
    db.close();
  }, 60_000);

  it('reads a tokenizer again only when its file changes', async () => {
    const copy = join(tmp.dir, 'text-copy');
    cpSync(TEXT, copy, { recursive: true });
    const load = async (dir: string) => {
      const r = await readPack(dir);
      if (!r.ok) throw new Error(r.problem.message);
      return r.pack;
    };
    const [a, b] = [await load(TEXT), await load(copy)];
    expect(await effectRefusal(a, b)).toBeNull();
    expect(await effectRefusal(a, b)).toBeNull();
    // the copy's tokenizer edited (a key added, so mtime and size change): read again
    const file = join(copy, b.manifest.kind === 'text-lm' ? b.manifest.model.tokenizer : '');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/}\s*$/, ', "extra": 1}'));
    expect(await effectRefusal(a, b)).toMatch(/different tokenizers/);
  }, 60_000);
});
