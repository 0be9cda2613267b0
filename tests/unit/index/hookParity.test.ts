// The index build and the engines read image and typeface hooks through one reader
// (runtime/image/imageHooks, runtime/glyph/glyphHooks): the rows the build indexes for an
// example are byte for byte the rows the engine's saeRows gives for that example alone
// (emoji latent and spatial read in a batch of five; typeface style read a face at a time).
// The typeface encoder itself gives a face slightly other bits in a batch than alone (ONNX
// Runtime's kernels sum in another order; ~1e-4 of the largest value on the fixture), so
// its batched build rows are compared to a tolerance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openActivationSource } from '../../../main/index/build/activations';
import { loadPackCorpus, type Corpus } from '../../../main/index/corpus';
import { readPack, type LoadedPack } from '../../../main/packs/packReader';
import type { EngineContext } from '../../../main/runtime/engine';
import { GlyphEngine } from '../../../main/runtime/glyph/glyphEngine';
import { ImageEngine } from '../../../main/runtime/image/imageEngine';
import { fixture } from './helpers';

const ctx: EngineContext = { signal: new AbortController().signal };

async function packAt(dir: string): Promise<LoadedPack> {
  const r = await readPack(dir);
  if (!r.ok) throw new Error(`${r.problem.file}: ${r.problem.message}`);
  return r.pack;
}

const bytes = (x: Float32Array): Buffer => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

interface Engine {
  saeRows(
    saeId: string,
    input: { source: { example: number } },
    ctx: EngineContext,
  ): Promise<{ h: Float32Array; n: number }>;
  saes: readonly { id: string; hook: string }[];
  dispose(): Promise<void>;
}

/**
 * Build rows of five examples, read `batch` at a time, against the engine's saeRows of each:
 * byte-equal when `tolerance` is null, else within tolerance × the largest |value|.
 */
async function compare(
  pack: LoadedPack,
  corpus: Corpus,
  engine: Engine,
  saeId: string,
  batch: number,
  tolerance: number | null = null,
) {
  const sae = engine.saes.find((s) => s.id === saeId);
  if (!sae) throw new Error(`no SAE ${saeId}`);
  const examples = corpus.examples.slice(0, 5);
  expect(examples).toHaveLength(5);
  const source = await openActivationSource(pack, corpus, sae.hook);
  try {
    const d = source.dIn;
    for (let b0 = 0; b0 < examples.length; b0 += batch) {
      const group = examples.slice(b0, b0 + batch);
      const chunk = await source.run(group);
      let checked = 0;
      for (const e of group) {
        const mine = [...chunk.example.keys()].filter((r) => chunk.example[r] === e.id);
        const { h, n } = await engine.saeRows(saeId, { source: { example: e.id } }, ctx);
        expect(mine).toHaveLength(n);
        const from = mine[0] ?? -1;
        expect(mine.map((r) => chunk.position[r])).toEqual([...Array(n).keys()]);
        expect(h).toHaveLength(n * d);
        const built = chunk.x.subarray(from * d, (from + n) * d);
        if (tolerance === null) {
          expect(bytes(built).equals(bytes(h))).toBe(true);
        } else {
          const scale = Math.max(...h.map(Math.abs));
          const worst = Math.max(...built.map((v, i) => Math.abs(v - (h[i] ?? NaN))));
          expect(worst).toBeLessThanOrEqual(tolerance * scale);
        }
        // not all zero: the rows carry the example's own activations
        expect(h.some((v) => v !== 0)).toBe(true);
        checked += n;
      }
      expect(checked).toBe(chunk.rows);
    }
  } finally {
    await source.dispose();
  }
}

describe('build rows = engine saeRows, byte for byte', () => {
  let emoji: LoadedPack;
  let emojiCorpus: Corpus;
  let image: ImageEngine;
  let glyphs: LoadedPack;
  let glyphCorpus: Corpus;
  let glyph: GlyphEngine;

  beforeAll(async () => {
    emoji = await packAt(fixture('emoji-tiny'));
    emojiCorpus = await loadPackCorpus(emoji, 'all');
    image = await ImageEngine.load(emoji);
    glyphs = await packAt(fixture('glyphs-tiny'));
    glyphCorpus = await loadPackCorpus(glyphs, 'all');
    glyph = await GlyphEngine.load(glyphs);
  });
  afterAll(async () => {
    await image?.dispose();
    await glyph?.dispose();
  });

  it('emoji latent', async () => {
    await compare(emoji, emojiCorpus, image, 'latent-32', 5);
  });

  it('emoji spatial (one row per cell of the 8 × 8 map)', async () => {
    await compare(emoji, emojiCorpus, image, 'spatial-32', 5);
  });

  it('typeface style: byte-equal a face at a time, to 1e-3 in a batch of five', async () => {
    await compare(glyphs, glyphCorpus, glyph, 'style-64', 1);
    await compare(glyphs, glyphCorpus, glyph, 'style-64', 5, 1e-3);
  });
});
