/**
 * Deep validation at import: corrupt variants of the tiny fixture packs, each refused before
 * the pack is offered with a named error naming the file and the problem.
 */
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { composeApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import { openDatabase } from '../../../main/db/connection';
import { readPack } from '../../../main/packs/packReader';
import { validatePack } from '../../../main/packs/validatePack';
import { buildModel, type ValueInfo } from '../../../main/runtime/onnxGraph';
import { cleanupTmp, fixturePacks, repoRoot, testAllow, tmpDir } from '../../support/tmp';

afterAll(cleanupTmp);

type Kind = 'text-tiny' | 'emoji-tiny' | 'glyphs-tiny';

function copyPack(kind: Kind): string {
  const dir = path.join(tmpDir(), kind);
  cpSync(path.join(fixturePacks, kind), dir, { recursive: true });
  return dir;
}

function editJson(file: string, edit: (j: Record<string, unknown>) => void): void {
  const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(j);
  writeFileSync(file, JSON.stringify(j));
}

function editModel(dir: string, edit: (m: Record<string, unknown>) => void): void {
  editJson(path.join(dir, 'manifest.json'), (j) => edit(j.model as Record<string, unknown>));
}

/** Rewrites a safetensors header (the data bytes stay as they are). */
function editHeader(
  file: string,
  edit: (h: Record<string, Record<string, unknown>>) => void,
): void {
  const bytes = readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, json, bytes.subarray(8 + n)]));
}

const textSae = 'sae/blocks.1.hook_resid_post';

/**
 * The I/O of one of the text model's two graphs (below: tokens → hook_resid; above:
 * hook_resid + steering → logits; the fixture's hook is its last layer, so above has no
 * cache) with one change: a graph with no nodes is still a parseable model.
 */
function textGraph(
  graph: 'below' | 'above',
  change: (io: { inputs: ValueInfo[]; outputs: ValueInfo[] }) => void,
): Uint8Array {
  const kv = (io: string): ValueInfo[] =>
    [0, 1].flatMap((l) =>
      ['key', 'value'].map((x) => ({
        name: `${io}.${l}.${x}`,
        type: 'float32' as const,
        shape: ['batch', 2, io === 'past' ? 'past' : 'p', 8],
      })),
    );
  const resid = { name: 'hook_resid', type: 'float32', shape: ['batch', 'seq', 16] } as ValueInfo;
  const io =
    graph === 'below'
      ? {
          inputs: [
            { name: 'input_ids', type: 'int64', shape: ['batch', 'seq'] },
            { name: 'position_ids', type: 'int64', shape: ['batch', 'seq'] },
            ...kv('past'),
          ] as ValueInfo[],
          outputs: [resid, ...kv('present')],
        }
      : {
          inputs: [
            resid,
            { name: 'steering', type: 'float32', shape: ['batch', 'seq', 16] },
          ] as ValueInfo[],
          outputs: [
            { name: 'logits', type: 'float32', shape: ['batch', 'seq', 300] },
          ] as ValueInfo[],
        };
  change(io);
  return buildModel({ name: 'g', ...io, nodes: [], initializers: [] });
}

interface Variant {
  name: string;
  kind: Kind;
  break: (dir: string) => void;
  file: string;
  message: RegExp;
}

const variants: Variant[] = [
  {
    name: 'an SAE folder outside the pack (absolute path)',
    kind: 'text-tiny',
    break: (d) => {
      const outside = path.join(tmpDir(), 'outside-sae');
      cpSync(path.join(d, textSae), outside, { recursive: true });
      editJson(path.join(d, 'manifest.json'), (j) => {
        j.saes = (j.saes as { dir: string }[]).map((sae) => ({ ...sae, dir: outside }));
      });
    },
    file: 'manifest.json',
    message: /names files outside the pack .*Open model/,
  },
  {
    name: 'truncated ONNX',
    kind: 'text-tiny',
    break: (d) => truncateSync(path.join(d, 'below.onnx'), 40_000),
    file: 'below.onnx',
    message: /not a readable ONNX model: .*(truncated|runs past)/,
  },
  {
    name: 'random bytes as ONNX',
    kind: 'emoji-tiny',
    break: (d) => writeFileSync(path.join(d, 'decoder_head.onnx'), randomBytes(9000)),
    file: 'decoder_head.onnx',
    message: /not a readable ONNX model/,
  },
  {
    name: 'ONNX without the steering input',
    kind: 'text-tiny',
    break: (d) =>
      writeFileSync(
        path.join(d, 'above.onnx'),
        textGraph('above', (io) => io.inputs.pop()),
      ),
    file: 'above.onnx',
    message: /no input "steering"/,
  },
  {
    name: 'ONNX input of the wrong dtype',
    kind: 'text-tiny',
    break: (d) =>
      writeFileSync(
        path.join(d, 'below.onnx'),
        textGraph('below', (io) => {
          io.inputs[0] = { name: 'input_ids', type: 'float32', shape: ['batch', 'seq'] };
        }),
      ),
    file: 'below.onnx',
    message: /input "input_ids" is float32; the pack format needs int64/,
  },
  {
    name: 'manifest d_model that the graph does not have',
    kind: 'text-tiny',
    break: (d) => editModel(d, (m) => (m.d_model = 32)),
    file: 'below.onnx',
    message: /"hook_resid" has size 16 in dimension 2; manifest.json implies 32/,
  },
  {
    name: 'manifest vocab_size that the graph does not have',
    kind: 'text-tiny',
    break: (d) => editModel(d, (m) => (m.vocab_size = 4096)),
    file: 'above.onnx',
    message: /"logits" has size 300 in dimension 2; manifest.json implies 4096/,
  },
  {
    name: "a below graph without a layer's past",
    kind: 'text-tiny',
    break: (d) =>
      writeFileSync(
        path.join(d, 'below.onnx'),
        textGraph('below', (io) => (io.inputs = io.inputs.filter((i) => i.name !== 'past.1.key'))),
      ),
    file: 'below.onnx',
    message: /no input "past.1.key"/,
  },
  {
    name: 'image size that the encoder does not read',
    kind: 'emoji-tiny',
    break: (d) => editModel(d, (m) => ((m.image as Record<string, unknown>).size = 32)),
    file: 'encoder.onnx',
    message: /input "image" has size 64 in dimension 2; manifest.json implies 32/,
  },
  {
    name: 'encoder_chars of another length than the glyph encoder reads',
    kind: 'glyphs-tiny',
    break: (d) => editModel(d, (m) => (m.encoder_chars = 'HOQ')),
    file: 'encoder.onnx',
    message: /"glyphs" has size 10 in dimension 1; manifest.json implies 3/,
  },
  {
    name: 'safetensors header length 2^62',
    kind: 'text-tiny',
    break: (d) => {
      const f = path.join(d, textSae, 'sae_weights.safetensors');
      const b = readFileSync(f);
      b.writeBigUInt64LE(1n << 62n, 0);
      writeFileSync(f, b);
    },
    file: `${textSae}/sae_weights.safetensors`,
    message: /header length 4611686018427387904 exceeds/,
  },
  {
    name: 'safetensors offsets out of range',
    kind: 'text-tiny',
    break: (d) =>
      editHeader(path.join(d, textSae, 'sae_weights.safetensors'), (h) => {
        const t = h.b_dec as { data_offsets: number[] };
        t.data_offsets = [1_000_000, 1_000_064];
      }),
    file: `${textSae}/sae_weights.safetensors`,
    message: /tensor "b_dec": data_offsets \[1000000, 1000064\] run past the end/,
  },
  {
    name: 'safetensors I64 weights',
    kind: 'text-tiny',
    break: (d) =>
      editHeader(path.join(d, textSae, 'sae_weights.safetensors'), (h) => {
        h.W_enc = { ...h.W_enc, dtype: 'I64', shape: [16, 16] }; // same bytes as F16 [16, 64]
      }),
    file: `${textSae}/sae_weights.safetensors`,
    message: /tensor "W_enc" is I64; SAE weights must be F32/,
  },
  {
    name: 'safetensors without W_dec',
    kind: 'glyphs-tiny',
    break: (d) =>
      editHeader(path.join(d, 'sae/style/sae_weights.safetensors'), (h) => {
        h.W_other = h.W_dec as Record<string, unknown>;
        delete h.W_dec;
      }),
    file: 'sae/style/sae_weights.safetensors',
    message: /missing tensor "W_dec"/,
  },
  {
    name: 'cfg.json d_in that is not the hook width',
    kind: 'text-tiny',
    break: (d) => editJson(path.join(d, textSae, 'cfg.json'), (c) => (c.d_in = 32)),
    file: `${textSae}/cfg.json`,
    message: /d_in is 32, but the model's activation at blocks.1.hook_resid_post has width 16/,
  },
  {
    name: 'cfg.json d_sae that the weights do not have',
    kind: 'emoji-tiny',
    break: (d) => editJson(path.join(d, 'sae/latent/cfg.json'), (c) => (c.d_sae = 128)),
    file: 'sae/latent/sae_weights.safetensors',
    message:
      /tensor "W_enc" has shape \[8, 32\], but cfg.json \(d_in 8, d_sae 128\) needs \[8, 128\]/,
  },
  {
    name: 'cfg.json that is not JSON',
    kind: 'glyphs-tiny',
    break: (d) => writeFileSync(path.join(d, 'sae/style/cfg.json'), '{"d_in": 32,'),
    file: 'sae/style/cfg.json',
    message: /JSON/,
  },
  {
    name: 'cfg.json with an architecture Orrery does not know',
    kind: 'emoji-tiny',
    break: (d) =>
      editJson(
        path.join(d, 'sae/decoder.hook_spatial/cfg.json'),
        (c) => (c.architecture = 'matryoshka'),
      ),
    file: 'sae/decoder.hook_spatial/cfg.json',
    message: /architecture/,
  },
  {
    name: 'sparsity of another size than d_sae',
    kind: 'text-tiny',
    break: (d) =>
      editHeader(path.join(d, textSae, 'sparsity.safetensors'), (h) => {
        const s = h.sparsity as { shape: number[]; data_offsets: number[] };
        s.shape = [32];
        s.data_offsets = [0, 128];
      }),
    file: `${textSae}/sparsity.safetensors`,
    message: /"sparsity" must be 64 floats/,
  },
  {
    name: 'tokenizer.json that does not parse',
    kind: 'text-tiny',
    break: (d) =>
      writeFileSync(path.join(d, 'tokenizer.json'), '{"model": {"type": "BPE", "vocab": '),
    file: 'tokenizer.json',
    message: /.+/,
  },
  {
    name: '.br index that is not Brotli',
    kind: 'emoji-tiny',
    break: (d) => {
      // fixed bytes: about 1 in 25 random 4 KB buffers is a valid Brotli stream (of garbage)
      writeFileSync(path.join(d, 'features.sqlite.br'), 'this is not Brotli '.repeat(200));
      editJson(path.join(d, 'manifest.json'), (j) => (j.index = 'features.sqlite.br'));
    },
    file: 'features.sqlite.br',
    message: /the compressed feature index is corrupt or truncated/,
  },
  {
    name: '.br index that decompresses to no SQLite database',
    kind: 'glyphs-tiny',
    break: (d) => {
      writeFileSync(
        path.join(d, 'features.sqlite.br'),
        zlib.brotliCompressSync(Buffer.alloc(8192, 65)),
      );
      editJson(path.join(d, 'manifest.json'), (j) => (j.index = 'features.sqlite.br'));
    },
    file: 'features.sqlite.br',
    message: /decompresses to no SQLite database/,
  },
  {
    name: '.br index that is SQLite without the index tables',
    kind: 'text-tiny',
    break: (d) => {
      const tmp = path.join(tmpDir(), 'other.sqlite');
      const db = openDatabase(tmp);
      db.exec('create table notes (x)');
      db.pragma('journal_mode = DELETE');
      db.close();
      writeFileSync(path.join(d, 'features.sqlite.br'), zlib.brotliCompressSync(readFileSync(tmp)));
      editJson(path.join(d, 'manifest.json'), (j) => (j.index = 'features.sqlite.br'));
    },
    file: 'features.sqlite.br',
    message: /not a feature index: it has no table saes, features, examples, feature_fts/,
  },
];

describe('deep pack validation', () => {
  it('accepts the fixture packs and the shipped packs', async () => {
    const dirs = [
      ...readdirSync(fixturePacks).map((n) => path.join(fixturePacks, n)),
      ...['glyphs']
        .map((n) => path.join(repoRoot, 'models', n))
        .filter((d) => existsSync(path.join(d, 'manifest.json'))),
    ];
    for (const dir of dirs) {
      const r = await readPack(dir);
      expect(r.ok, dir).toBe(true);
      if (r.ok) expect(await validatePack(r.pack), dir).toBeNull();
    }
  });

  it(`refuses ${variants.length} kinds of corrupt pack, naming the file and the problem`, async () => {
    expect(variants.length).toBeGreaterThanOrEqual(15);
    const seen: string[] = [];
    for (const v of variants) {
      const dir = copyPack(v.kind);
      v.break(dir);
      // As packs.import does: the reader first (manifest, files there, cfg JSON), then the rest.
      const r = await readPack(dir);
      const problem = r.ok ? await validatePack(r.pack) : r.problem;
      expect(problem, v.name).not.toBeNull();
      expect(problem?.file, v.name).toBe(v.file);
      expect(problem?.message, v.name).toMatch(v.message);
      seen.push(`${v.name.padEnd(62)} ${problem?.file}: ${problem?.message.slice(0, 90)}`);
    }
    console.log(seen.join('\n'));
  });

  it('packs.import refuses a corrupt pack before copying anything', async () => {
    const home = tmpDir();
    const app = composeApp(
      resolveConfig('headless', repoRoot, { home, models: tmpDir(), allow: testAllow }),
    );
    try {
      const dir = copyPack('text-tiny');
      editJson(path.join(dir, textSae, 'cfg.json'), (c) => (c.d_in = 32));
      const r = await app.dispatcher.dispatch('packs.import', { from: dir });
      expect(r).toMatchObject({ ok: false, error: { code: 'bad_pack' } });
      if (!r.ok) expect(r.error.message).toContain(path.join(dir, textSae, 'cfg.json'));
      const lib = path.join(home, 'library');
      expect(existsSync(lib) ? readdirSync(lib) : []).toEqual([]);
    } finally {
      await app.dispose();
    }
  });
});
