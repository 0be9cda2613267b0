/**
 * Each feature's top tokens on a text side over a corpus: the tokens (decoded one by one with the
 * side's tokenizer) of its `n` strongest activations, most active first and each token once,
 * and its max activation. Read with the bridge's own side reader (main/bridge/sides.ts), so
 * the rows are the tokens a bridge build correlates. Used by the across-models figures
 * (models.ts) and the carry across models (carryModels.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { openSideReader, type Side } from '../../main/bridge/sides';
import type { Gemm } from '../../main/index/build/gemm';
import type { Corpus } from '../../main/index/corpus';

export interface SideTokens {
  /** [dSae] distinct tokens of the feature's n strongest activations, strongest first */
  top: string[][];
  /** [dSae] max activation over the corpus (0: never fired) */
  maxAct: Float32Array;
  rows: number;
}

export async function sideTopTokens(
  side: Side,
  corpus: Corpus,
  gemm: Gemm,
  n = 20,
): Promise<SideTokens> {
  const m = side.pack.manifest;
  if (m.kind !== 'text-lm') throw new Error(`${m.id} is not a text pack`);
  const tokenizer = new Tokenizer(
    JSON.parse(await fs.readFile(path.join(side.pack.dir, m.model.tokenizer), 'utf8')) as object,
    { clean_up_tokenization_spaces: false },
  );
  const reader = await openSideReader(side, corpus, gemm);
  const d = side.sae.dSae;
  const maxAct = new Float32Array(d);
  const hits: { v: number; t: string }[][] = Array.from({ length: d }, () => []);
  const keep = (h: { v: number; t: string }[]): void => {
    h.sort((x, y) => y.v - x.v);
    h.length = Math.min(h.length, n);
  };
  let rows = 0;
  try {
    for (let c = 0; c < corpus.examples.length; c += 32) {
      const ex = corpus.examples.slice(c, c + 32);
      const { codes } = await reader.read(ex);
      const tokens: string[] = [];
      for (const e of ex)
        for (const id of tokenizer
          .encode(e.body ?? e.name, { add_special_tokens: false })
          .ids.slice(0, m.model.context - 1))
          tokens.push(tokenizer.decode([id], { skip_special_tokens: false }));
      if (codes.rows !== tokens.length)
        throw new Error(`${codes.rows} rows for ${tokens.length} tokens`);
      rows += codes.rows;
      for (let r = 0; r < codes.rows; r++)
        for (let e = codes.start[r] as number; e < (codes.start[r + 1] as number); e++) {
          const j = codes.feature[e] as number;
          const v = codes.value[e] as number;
          if (v <= 0) continue;
          if (v > (maxAct[j] as number)) maxAct[j] = v;
          const h = hits[j] as { v: number; t: string }[];
          h.push({ v, t: tokens[r] as string });
          if (h.length > 10 * n) keep(h);
        }
    }
  } finally {
    await reader.dispose();
  }
  const top = hits.map((h) => {
    keep(h);
    return [...new Set(h.map((x) => x.t))];
  });
  return { top, maxAct, rows };
}

/** |A ∩ B| / |A ∪ B| of two token lists taken as sets (0 for two empty lists). */
export function jaccard(a: readonly string[], b: readonly string[]): number {
  const sa = new Set(a);
  const sb = new Set(b);
  let both = 0;
  for (const t of sa) if (sb.has(t)) both++;
  const union = sa.size + sb.size - both;
  return union === 0 ? 0 : both / union;
}
