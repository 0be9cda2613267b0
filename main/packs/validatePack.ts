/**
 * Deep validation of a pack before it is offered (models/PACK_FORMAT.md): readPack has
 * checked the manifest and that every named file is there; this reads each file as what it
 * claims to be, without loading weights or starting onnxruntime:
 * - every ONNX graph parses, and declares the inputs and outputs its kind needs, with their
 *   element types and the fixed sizes the manifest implies (d_model, vocab, image size …);
 * - every SAE's cfg.json parses, its d_in is the width at its hook, and the safetensors
 *   header (length, JSON, offsets, float dtypes) holds the tensors its architecture needs in
 *   the shapes cfg.json implies; sparsity.safetensors, when there, matches d_sae;
 * - tokenizer.json loads as a tokenizer (text packs);
 * - the shipped index (`.sqlite`, or `.br` decompressed with a size cap) opens as SQLite,
 *   passes quick_check and has the feature index's tables.
 * The first problem found is returned, naming the file (relative to the pack) and the problem.
 */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { limits } from '../../preload/contract';
import { openDatabase } from '../db/connection';
import { UNPACK_CHUNK } from '../index/packedIndex';
import { parseSaeConfig, type SaeConfig } from '../sae/config';
import { MAX_HEADER_BYTES, parseSafetensorsHeader, type TensorInfo } from '../sae/safetensors';
import { TextTokenizer } from '../runtime/text/tokenizer';
import { glyphHookWidths, imageHookWidths } from './kindHooks';
import { absolutePaths, isHfModel, type Manifest } from './manifest';
import type { LoadedPack, PackProblem } from './packReader';
import { readOnnxInfo, type OnnxElemType, type OnnxInfo } from './onnxInfo';
import { textSegments, type TextSegment } from './textSegments';

/** A problem with one file of the pack. */
export class PackFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'PackFileError';
  }
}

/** An expected graph value: name, element type, and sizes (null: any). */
type Want = [name: string, type: OnnxElemType, shape: (number | null)[] | null];

interface GraphWant {
  rel: string;
  inputs: Want[];
  outputs: Want[];
}

/** The graphs a pack of this kind must have, with what the manifest says of their shapes. */
function graphsOf(m: Manifest): GraphWant[] {
  const f32 = 'float32' as const;
  if (m.kind === 'text-lm') {
    const t = m.model;
    // A Hugging Face folder is checked when the engine rewires it (main/onnx), not here.
    if (isHfModel(t)) return [];
    const onnx = t.onnx;
    const ids: Want[] = [
      ['input_ids', 'int64', [null, null]],
      ['position_ids', 'int64', [null, null]],
    ];
    const resid: Want = ['hook_resid', f32, [null, null, t.d_model]];
    const steering: Want = ['steering', f32, [null, null, t.d_model]];
    const logits: Want = ['logits', f32, [null, null, t.vocab_size]];
    if (typeof onnx === 'string') {
      // One graph with the stacked KV cache (the layout before the split at the hook).
      const cache = [t.n_layers, null, t.n_heads, null, t.d_head];
      return [
        {
          rel: onnx,
          inputs: [...ids, ['past_keys', f32, cache], ['past_values', f32, cache], steering],
          outputs: [logits, ['present_keys', f32, cache], ['present_values', f32, cache], resid],
        },
      ];
    }
    // Split at each hook (textSegments): `below` runs layers 0…L of the first hook, each
    // `middle` the layers up to the next hook, `above` the rest; each with a per-layer cache
    // past.{l}.key / .value [batch, n_heads, past, d_head].
    let segments: TextSegment[];
    try {
      segments = textSegments({ ...t, onnx });
    } catch (e) {
      throw new PackFileError('manifest.json', (e as Error).message);
    }
    const kv = (io: 'past' | 'present', layers: number[]): Want[] =>
      layers.flatMap((l) =>
        ['key', 'value'].map((k): Want => [
          `${io}.${l}.${k}`,
          f32,
          [null, t.n_heads, null, t.d_head],
        ]),
      );
    return segments.map((s) => ({
      rel: s.rel,
      inputs:
        s.from === null
          ? [...ids, ...kv('past', s.layers)]
          : [resid, steering, ...kv('past', s.layers)],
      outputs: [
        s.output === 'logits'
          ? logits
          : s.output === 'hook_resid'
            ? resid
            : ['next_hook_resid', f32, [null, null, t.d_model]],
        ...kv('present', s.layers),
      ],
    }));
  }
  if (m.kind === 'image-vae') {
    const { image, latent_dim: latent, spatial } = m.model;
    const img = [null, image.channels, image.size, image.size];
    const sp = spatial ? [null, spatial.channels, spatial.height, spatial.width] : null;
    return [
      {
        rel: m.model.onnx.encoder,
        inputs: [['image', f32, img]],
        outputs: [['mu', f32, [null, latent]]],
      },
      {
        rel: m.model.onnx.decoder_head,
        inputs: [['latent', f32, [null, latent]]],
        outputs: [['spatial', f32, sp]],
      },
      {
        rel: m.model.onnx.decoder_tail,
        inputs: [['spatial', f32, sp]],
        outputs: [['image', f32, img]],
      },
    ];
  }
  const g = m.model;
  const size = g.glyph.size;
  return [
    {
      rel: g.onnx.encoder,
      inputs: [['glyphs', f32, [null, [...g.encoder_chars].length, size, size]]],
      outputs: [['style', f32, [null, g.style_dim]]],
    },
    {
      rel: g.onnx.decoder,
      inputs: [
        ['style', f32, [null, g.style_dim]],
        ['char_ids', 'int64', [null]],
      ],
      outputs: [['glyph', f32, [null, 1, size, size]]],
    },
  ];
}

function checkValues(
  rel: string,
  side: 'input' | 'output',
  got: OnnxInfo['inputs'],
  want: Want[],
): void {
  for (const [name, type, shape] of want) {
    const v = got.find((x) => x.name === name);
    if (!v)
      throw new PackFileError(
        rel,
        `the graph has no ${side} "${name}" (it has ${got.map((x) => `"${x.name}"`).join(', ') || 'none'})`,
      );
    if (v.type !== type)
      throw new PackFileError(rel, `${side} "${name}" is ${v.type}; the pack format needs ${type}`);
    if (!shape || !v.shape) continue;
    if (v.shape.length !== shape.length)
      throw new PackFileError(
        rel,
        `${side} "${name}" has ${v.shape.length} dimensions; the pack format needs ${shape.length}`,
      );
    shape.forEach((d, i) => {
      const g = v.shape?.[i];
      if (d !== null && typeof g === 'number' && g !== d)
        throw new PackFileError(
          rel,
          `${side} "${name}" has size ${g} in dimension ${i}; manifest.json implies ${d}`,
        );
    });
  }
}

async function checkGraph(dir: string, g: GraphWant): Promise<void> {
  let info: OnnxInfo;
  try {
    info = await readOnnxInfo(path.join(dir, g.rel));
  } catch (e) {
    throw new PackFileError(g.rel, (e as Error).message);
  }
  checkValues(g.rel, 'input', info.inputs, g.inputs);
  checkValues(g.rel, 'output', info.outputs, g.outputs);
}

/** The width of the activation at each hook this pack has (an SAE's d_in must match). */
function hookWidths(m: Manifest): Map<string, number> {
  if (m.kind === 'text-lm') return new Map(m.saes.map((s) => [s.hook, m.model.d_model]));
  if (m.kind === 'image-vae') return imageHookWidths(m.model);
  return glyphHookWidths(m.model);
}

async function readHeader(file: string, rel: string): Promise<Map<string, TensorInfo>> {
  const fh = await fs.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const len = Buffer.alloc(8);
    await fh.read(len, 0, 8, 0);
    const n = size >= 8 ? len.readBigUInt64LE(0) : 0n;
    // Only the header is read: at most MAX_HEADER_BYTES, and never past the file.
    const want = Number(n > BigInt(MAX_HEADER_BYTES) ? 0n : n);
    const head = Buffer.alloc(Math.min(size, 8 + want));
    await fh.read(head, 0, head.length, 0);
    return parseSafetensorsHeader(head, size, rel).infos;
  } catch (e) {
    const msg = (e as Error).message;
    throw new PackFileError(rel, msg.startsWith(`${rel}: `) ? msg.slice(rel.length + 2) : msg);
  } finally {
    await fh.close();
  }
}

const FLOATS = new Set(['F32', 'F16', 'BF16', 'F64']);

function saeTensors(c: SaeConfig): [string, number[]][] {
  const t: [string, number[]][] = [
    ['W_enc', [c.dIn, c.dSae]],
    ['W_dec', [c.dSae, c.dIn]],
    ['b_dec', [c.dIn]],
  ];
  if (c.architecture === 'gated')
    t.push(['b_gate', [c.dSae]], ['b_mag', [c.dSae]], ['r_mag', [c.dSae]]);
  else t.push(['b_enc', [c.dSae]]);
  if (c.architecture === 'jumprelu') t.push(['threshold', [c.dSae]]);
  return t;
}

async function checkSae(dir: string, m: Manifest, sae: Manifest['saes'][number]): Promise<void> {
  const cfgRel = `${sae.dir}/cfg.json`;
  let config: SaeConfig;
  try {
    config = parseSaeConfig(JSON.parse(await fs.readFile(path.join(dir, cfgRel), 'utf8')), cfgRel);
  } catch (e) {
    const msg = (e as Error).message;
    throw new PackFileError(
      cfgRel,
      msg.startsWith(`${cfgRel}: `) ? msg.slice(cfgRel.length + 2) : msg,
    );
  }
  const width = hookWidths(m).get(sae.hook);
  if (width === undefined)
    throw new PackFileError(
      cfgRel,
      `SAE "${sae.id}" reads hook "${sae.hook}", which a ${m.kind} pack does not have`,
    );
  if (config.dIn !== width)
    throw new PackFileError(
      cfgRel,
      `d_in is ${config.dIn}, but the model's activation at ${sae.hook} has width ${width}`,
    );
  const wRel = `${sae.dir}/sae_weights.safetensors`;
  const infos = await readHeader(path.join(dir, wRel), wRel);
  for (const [name, shape] of saeTensors(config)) {
    const t = infos.get(name);
    if (!t)
      throw new PackFileError(wRel, `missing tensor "${name}" (a ${config.architecture} SAE)`);
    if (!FLOATS.has(t.dtype))
      throw new PackFileError(
        wRel,
        `tensor "${name}" is ${t.dtype}; SAE weights must be F32, F16, BF16 or F64`,
      );
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw new PackFileError(
        wRel,
        `tensor "${name}" has shape [${t.shape.join(', ')}], but cfg.json (d_in ${config.dIn}, d_sae ${config.dSae}) needs [${shape.join(', ')}]`,
      );
  }
  const sRel = `${sae.dir}/sparsity.safetensors`;
  const hasSparsity = await fs.stat(path.join(dir, sRel)).then(
    (s) => s.isFile(),
    () => false,
  );
  if (hasSparsity) {
    const sp = (await readHeader(path.join(dir, sRel), sRel)).get('sparsity');
    if (sp && (!FLOATS.has(sp.dtype) || sp.shape.reduce((a, b) => a * b, 1) !== config.dSae))
      throw new PackFileError(
        sRel,
        `"sparsity" must be ${config.dSae} floats (d_sae), not ${sp.dtype} [${sp.shape.join(', ')}]`,
      );
  }
}

/** Counts bytes through a stream and fails past `max`. */
function capped(max: number, over: () => Error): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback) {
      n += chunk.length;
      if (n > max) return done(over());
      done(null, chunk);
    },
  });
}

const INDEX_TABLES = ['saes', 'features', 'examples', 'feature_fts'];

async function checkIndex(dir: string, m: Manifest, rel: string): Promise<void> {
  const src = path.join(dir, rel);
  const tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'orrery-index-check-'));
  const file = path.join(tmpDir, 'index.sqlite');
  try {
    if (rel.endsWith('.br')) {
      try {
        await pipeline(
          createReadStream(src, { highWaterMark: UNPACK_CHUNK }),
          zlib.createBrotliDecompress({ chunkSize: UNPACK_CHUNK }),
          capped(
            limits.zipBytes,
            () =>
              new PackFileError(
                rel,
                `decompresses to more than ${limits.zipBytes} bytes (zipBytes)`,
              ),
          ),
          createWriteStream(file, { highWaterMark: UNPACK_CHUNK }),
        );
      } catch (e) {
        if (e instanceof PackFileError) throw e;
        throw new PackFileError(
          rel,
          `the compressed feature index is corrupt or truncated (${(e as Error).message})`,
        );
      }
    } else {
      await fs.copyFile(src, file);
    }
    const head = Buffer.alloc(16);
    const fh = await fs.open(file, 'r');
    await fh.read(head, 0, 16, 0).finally(() => fh.close());
    if (head.toString('latin1') !== 'SQLite format 3\0')
      throw new PackFileError(
        rel,
        `not a feature index (${rel.endsWith('.br') ? 'decompresses to' : 'is'} no SQLite database)`,
      );
    let db;
    try {
      db = openDatabase(file, { readonly: true });
    } catch (e) {
      throw new PackFileError(rel, `not a feature index (${(e as Error).message})`);
    }
    try {
      const check = (db.pragma('quick_check') as { quick_check: string }[]).map(
        (r) => r.quick_check,
      );
      if (check.join() !== 'ok')
        throw new PackFileError(
          rel,
          `the feature index is damaged (${check.slice(0, 2).join('; ')})`,
        );
      const names = new Set(
        (
          db.prepare("select name from sqlite_master where type in ('table')").all() as {
            name: string;
          }[]
        ).map((r) => r.name),
      );
      const missing = INDEX_TABLES.filter((t) => !names.has(t));
      if (missing.length)
        throw new PackFileError(rel, `not a feature index: it has no table ${missing.join(', ')}`);
      const ids = new Set(m.saes.map((s) => s.id));
      const stray = (db.prepare('select sae_id from saes').all() as { sae_id: string }[])
        .map((r) => r.sae_id)
        .filter((id) => !ids.has(id));
      if (stray.length)
        throw new PackFileError(
          rel,
          `the index is for SAEs the manifest does not name: ${stray.slice(0, 5).join(', ')}`,
        );
    } catch (e) {
      if (e instanceof PackFileError) throw e;
      throw new PackFileError(rel, `not a feature index (${(e as Error).message})`);
    } finally {
      db.close();
    }
  } finally {
    await fs.rm(tmpDir, { recursive: true, force: true });
  }
}

async function checkTokenizer(dir: string, m: Manifest): Promise<void> {
  if (m.kind !== 'text-lm') return;
  const rel = m.model.tokenizer;
  try {
    await TextTokenizer.load(path.join(dir, rel), m.model.vocab_size);
  } catch (e) {
    const msg = (e as Error).message;
    const full = path.join(dir, rel);
    throw new PackFileError(rel, msg.startsWith(`${full}: `) ? msg.slice(full.length + 2) : msg);
  }
}

/** Reads every file of `pack` as what it claims to be; the first problem, or null. */
export async function validatePack(pack: LoadedPack): Promise<PackProblem | null> {
  const m = pack.manifest;
  const outside = absolutePaths(m);
  if (outside.length > 0) {
    return {
      dir: pack.dir,
      file: 'manifest.json',
      message:
        `names files outside the pack (${outside[0]}); a pack holds its own files. ` +
        'To use a Hugging Face folder in place, open it with "Open model…"',
    };
  }
  try {
    for (const g of graphsOf(m)) await checkGraph(pack.dir, g);
    for (const sae of m.saes) await checkSae(pack.dir, m, sae);
    await checkTokenizer(pack.dir, m);
    if (m.index && pack.hasIndex) await checkIndex(pack.dir, m, m.index);
  } catch (e) {
    if (e instanceof PackFileError) return { dir: pack.dir, file: e.file, message: e.message };
    throw e;
  }
  return null;
}
