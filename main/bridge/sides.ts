/**
 * One side of a bridge: a pack, one SAE and the hook it reads, and a reader that gives the
 * SAE's sparse codes for chunks of the corpus.
 * A side is named `<pack folder>` (its first SAE), `<pack folder>#<sae id>`, or
 * `<pack folder>#<SAE folder>` (an SAE outside the pack's manifest, e.g. one trained at
 * another layer of a text model: its cfg.json names the hook).
 * Text sides read any blocks.L.hook_resid_post their below.onnx computes (textHooks.ts), or a
 * later hook of a pack split at several (model.hooks) through the graphs up to it, and
 * give one row per token with the token's character end (of the example's body, or of its name
 * for an image or face example: across media); other sides read the index's
 * activation sources (main/index/build/activations.ts), one row per image, cell or face.
 */
import { existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';
import type { Corpus, CorpusExample } from '../index/corpus';
import { lengthBatches, openActivationSource, TextModel } from '../index/build/activations';
import type { Gemm } from '../index/build/gemm';
import { createSaeCoder, type SaeCoder, type SparseCodes } from '../index/build/saeCodes';
import { isHfModel, packFile } from '../packs/manifest';
import { textHooks } from '../packs/textSegments';
import { readPack, type LoadedPack } from '../packs/packReader';
import { OnnxSession, type TensorLike } from '../runtime/onnx';
import { loadSae, type Sae } from '../sae';
import { tokenEnds } from './align';
import { belowWithHook } from './textHooks';
import { tokenizers } from '../packages';

export interface Side {
  pack: LoadedPack;
  /** The SAE's id (its manifest id, or its folder's name) */
  saeId: string;
  saeDir: string;
  hook: string;
  sae: Sae;
}

/** Parses a side's name and loads its pack and SAE. */
export async function openSide(spec: string): Promise<Side> {
  const hash = spec.lastIndexOf('#');
  const dir = hash >= 0 ? spec.slice(0, hash) : spec;
  const which = hash >= 0 ? spec.slice(hash + 1) : '';
  const read = await readPack(dir);
  if (!read.ok) throw new Error(`${read.problem.file}: ${read.problem.message}`);
  const pack = read.pack;
  const own = which === '' ? pack.saes[0] : pack.saes.find((s) => s.id === which);
  if (own) {
    const saeDir = packFile(pack.dir, own.dir);
    return { pack, saeId: own.id, saeDir, hook: own.hook, sae: await loadSae(saeDir) };
  }
  const folder = path.resolve(which);
  if (which === '' || !existsSync(folder) || !statSync(folder).isDirectory())
    throw new Error(
      `pack ${pack.manifest.id} has no SAE ${which} (it has ${pack.saes.map((s) => s.id).join(', ')}), and ${which} is not an SAE folder`,
    );
  const sae = await loadSae(folder);
  const hook = sae.config.hookName;
  if (!hook) throw new Error(`${folder}/cfg.json names no hook_name`);
  return { pack, saeId: path.basename(folder), saeDir: folder, hook, sae };
}

/** Codes of a chunk of examples: one row per token (text) or per image, cell or face. */
export interface SideChunk {
  codes: SparseCodes;
  /** [rows] the example of each row */
  example: Int32Array;
  /** text only: each example's token character ends, in the order of its rows */
  ends: Map<number, Int32Array> | null;
}

export interface SideReader {
  readonly text: boolean;
  read(examples: readonly CorpusExample[]): Promise<SideChunk>;
  dispose(): Promise<void>;
}

async function codesOf(
  sae: Sae,
  coder: SaeCoder,
  x: Float32Array,
  rows: number,
): Promise<SparseCodes> {
  const parts: SparseCodes[] = [];
  const block = Math.max(64, Math.min(4096, Math.floor(16_000_000 / sae.dSae)));
  for (let s = 0; s < rows; s += block) {
    const n = Math.min(block, rows - s);
    const { xp } = sae.prepareInput(x.subarray(s * sae.dIn, (s + n) * sae.dIn), n);
    parts.push(await coder.codes(xp, n));
  }
  const nnz = parts.reduce((t, p) => t + (p.start[p.rows] as number), 0);
  const start = new Int32Array(rows + 1);
  const feature = new Int32Array(nnz);
  const value = new Float32Array(nnz);
  let r0 = 0;
  let e0 = 0;
  for (const p of parts) {
    for (let r = 0; r < p.rows; r++) start[r0 + r] = e0 + (p.start[r] as number);
    const n = p.start[p.rows] as number;
    feature.set(p.feature.subarray(0, n), e0);
    value.set(p.value.subarray(0, n), e0);
    r0 += p.rows;
    e0 += n;
  }
  start[rows] = e0;
  return { rows, start, feature, value };
}

/** The residual rows [batch, seq, d_model] of ids right-padded with 0 to the longest row. */
interface ResidRows {
  rows(ids: number[][]): Promise<Float32Array>;
  release(): Promise<void>;
}

/** below.onnx alone, with `output` (its hook_resid or an earlier block's, exposed) fetched. */
function belowRows(pack: LoadedPack, below: OnnxSession, output: string): ResidRows {
  return {
    async rows(ids) {
      const m = pack.manifest;
      if (m.kind !== 'text-lm') throw new Error('not a text pack');
      const { n_heads: nHeads, d_head: dHead } = m.model;
      const batch = ids.length;
      const seq = Math.max(1, ...ids.map((r) => r.length));
      const flat = new BigInt64Array(batch * seq);
      const pos = new BigInt64Array(batch * seq);
      ids.forEach((row, g) => {
        for (let s = 0; s < seq; s++) {
          flat[g * seq + s] = BigInt(row[s] ?? 0);
          pos[g * seq + s] = BigInt(s);
        }
      });
      const empty = new Float32Array(0);
      const feeds: Record<string, TensorLike> = {};
      for (const i of below.inputs) {
        if (i.name === 'input_ids') feeds[i.name] = { dims: [batch, seq], data: flat };
        else if (i.name === 'position_ids') feeds[i.name] = { dims: [batch, seq], data: pos };
        else feeds[i.name] = { dims: [batch, nHeads, 0, dHead], data: empty };
      }
      const out = await below.run(feeds, [output]);
      const h = out[output]?.data;
      if (!(h instanceof Float32Array)) throw new Error(`below.onnx gave no float ${output}`);
      return h;
    },
    release: () => below.release(),
  };
}

/** A later hook of a pack split at several (model.hooks): the graphs up to it, in order. */
async function segmentRows(pack: LoadedPack, hook: string, threads: number): Promise<ResidRows> {
  const model = await TextModel.open(pack, { hook, threads });
  return {
    rows: async (ids) => (await model.resid(ids)).resid,
    release: () => model.dispose(),
  };
}

class TextReader implements SideReader {
  readonly text = true;
  constructor(
    private readonly side: Side,
    private readonly tokenizer: Tokenizer,
    private readonly resid: ResidRows,
    private readonly coder: SaeCoder,
  ) {}

  async read(examples: readonly CorpusExample[]): Promise<SideChunk> {
    const m = this.side.pack.manifest;
    if (m.kind !== 'text-lm') throw new Error('not a text pack');
    const { d_model: d, context } = m.model;
    const bos = m.model.bos_token_id ?? 1;
    // an example without a body (an emoji's, a face's) is read by its name: the paired text
    const ids = examples.map((e) => [
      bos,
      ...this.tokenizer
        .encode(e.body ?? e.name, { add_special_tokens: false })
        .ids.slice(0, context - 1),
    ]);
    const rowStart: number[] = [];
    const rows = ids.reduce((r, row) => (rowStart.push(r), r + row.length - 1), 0);
    const x = new Float32Array(rows * d);
    const example = new Int32Array(rows);
    const ends = new Map<number, Int32Array>();
    const decode = (t: number[]): string =>
      this.tokenizer.decode(t, { skip_special_tokens: false });
    for (const group of lengthBatches(ids)) {
      const seq = Math.max(1, ...group.map((b) => (ids[b] as number[]).length));
      const h = await this.resid.rows(group.map((b) => ids[b] as number[]));
      group.forEach((b, g) => {
        const row = ids[b] as number[];
        const ex = examples[b] as CorpusExample;
        ends.set(ex.id, tokenEnds(row.slice(1), decode));
        let r = rowStart[b] as number;
        for (let s = 1; s < row.length; s++) {
          x.set(h.subarray((g * seq + s) * d, (g * seq + s + 1) * d), r * d);
          example[r] = ex.id;
          r++;
        }
      });
    }
    return { codes: await codesOf(this.side.sae, this.coder, x, rows), example, ends };
  }

  async dispose(): Promise<void> {
    await this.resid.release();
    await this.coder.dispose();
  }
}

/** Opens a reader of `side`'s codes over `corpus` (the corpus's sheet for images and faces). */
export async function openSideReader(
  side: Side,
  corpus: Corpus,
  gemm: Gemm,
  threads = 1,
): Promise<SideReader> {
  const m = side.pack.manifest;
  const coder = await createSaeCoder(side.sae, gemm, threads);
  try {
    if (m.kind === 'text-lm') {
      const json = JSON.parse(
        await fs.readFile(path.join(side.pack.dir, m.model.tokenizer), 'utf8'),
      ) as object;
      const tokenizer = new (tokenizers().Tokenizer)(json, { clean_up_tokenization_spaces: false });
      // A later hook of a pack split at several is computed by the graphs after below.onnx;
      // any other blocks.L (the pack's own hook or an earlier block) inside below.onnx.
      if (!isHfModel(m.model) && textHooks(m.model).indexOf(side.hook) > 0) {
        return new TextReader(
          side,
          tokenizer,
          await segmentRows(side.pack, side.hook, threads),
          coder,
        );
      }
      const { model, output } = await belowWithHook(side.pack, side.hook);
      const below = await OnnxSession.create(model, { intraOpThreads: threads });
      return new TextReader(side, tokenizer, belowRows(side.pack, below, output), coder);
    }
    const source = await openActivationSource(side.pack, corpus, side.hook, threads);
    if (source.dIn !== side.sae.dIn) {
      await source.dispose();
      throw new Error(
        `SAE ${side.saeId} reads width ${side.sae.dIn}, ${side.hook} has ${source.dIn}`,
      );
    }
    return {
      text: false,
      read: async (examples) => {
        const chunk = await source.run(examples);
        return {
          codes: await codesOf(side.sae, coder, chunk.x, chunk.rows),
          example: chunk.example,
          ends: null,
        };
      },
      dispose: async () => {
        await source.dispose();
        await coder.dispose();
      },
    };
  } catch (e) {
    await coder.dispose();
    throw e;
  }
}
