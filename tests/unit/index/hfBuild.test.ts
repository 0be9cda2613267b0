// The index build on Hugging Face exports through the runtime's adapter (HfDecoder): the rows
// it reads are the engine's hook rows (BOS left out, the SAE's window), and a whole build of
// the gpt2-tiny fixture's SAE (at blocks.1.hook_resid_pre) finishes every stage, logit lens
// included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIndex, getFeature, openIndex, type BuildSummary } from '../../../main/index';
import { openActivationSource, TextModel } from '../../../main/index/build/activations';
import { loadPackCorpus } from '../../../main/index/corpus';
import { HfTextEngine } from '../../../main/runtime/hf/hfTextEngine';
import { fixtureSae, hfEntry, maxDiff } from '../runtime/hf/helpers';
import { fixture } from './helpers';

const EXAMPLES = join(fixture('text-tiny'), 'examples.jsonl');

describe('index build on an HF export', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'orrery-hf-build-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads the rows the engine reads: BOS left out, no more than the SAE window', async () => {
    const sae = fixtureSae('gpt2-tiny');
    const pack = await hfEntry('gpt2-tiny', [sae], EXAMPLES);
    const corpus = await loadPackCorpus(pack, 'all');
    const examples = corpus.examples.slice(0, 5);
    const read = { prependBos: true, contextSize: 16 };
    const source = await openActivationSource(pack, corpus, sae.hook, 1, read);
    const engine = await HfTextEngine.load(pack);
    try {
      const chunk = await source.run(examples);
      let r = 0;
      for (const e of examples) {
        const ids = engine.promptIds(e.body ?? '').slice(0, 16);
        const h = await engine.decoder.hookRows(sae.hook, [ids]);
        const n = ids.length - 1;
        expect(chunk.tokens.get(e.id)).toHaveLength(n);
        expect(Array.from(chunk.position.subarray(r, r + n))).toEqual(
          Array.from({ length: n }, (_, i) => i),
        );
        expect(maxDiff(chunk.x.subarray(r * 64, (r + n) * 64), h.subarray(64))).toBeLessThan(1e-5);
        r += n;
      }
      expect(chunk.rows).toBe(r);
      // without BOS every token is a row
      const plain = await openActivationSource(pack, corpus, sae.hook, 1, {
        prependBos: false,
        contextSize: 16,
      });
      const chunk2 = await plain.run(examples.slice(0, 1));
      expect(chunk2.rows).toBe(
        Math.min(16, engine.tokenizer.encode(examples[0]?.body ?? '').length),
      );
      await plain.dispose();
      // any exposed hook, not only the SAE's
      const mid = await TextModel.open(pack, { hook: 'blocks.2.hook_resid_mid' });
      expect((await mid.resid([[1, 2, 3]])).resid).toHaveLength(3 * 64);
      await mid.dispose();
      await expect(TextModel.open(pack, { hook: 'blocks.9.hook_resid_mid' })).rejects.toThrow(
        /has no hook blocks\.9\.hook_resid_mid/,
      );
    } finally {
      await source.dispose();
      await engine.dispose();
    }
  });

  it('builds the whole index of the gpt2-tiny SAE, logit lens included', async () => {
    const pack = await hfEntry('gpt2-tiny', [fixtureSae('gpt2-tiny')], EXAMPLES);
    const db = openIndex(join(tmp, 'hf.sqlite'));
    try {
      const [summary] = (await buildIndex(db, pack.dir, { chunkExamples: 16 })) as [BuildSummary];
      expect(summary.features).toBe(256);
      expect(summary.alive).toBeGreaterThan(0);
      const lens = db.prepare('select count(*) as n from logit_lens').get() as { n: number };
      expect(lens.n).toBe(summary.alive);
      const live = db
        .prepare('select idx from features where n_active > 0 order by max_act desc limit 1')
        .get() as { idx: number };
      expect(getFeature(db, 'sae', live.idx)?.topExamples.length).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  }, 120_000);
});
