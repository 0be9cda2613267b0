/**
 * Part 2: a corpus of corrupt and hostile files, generated here into a temp folder (no binaries
 * in the repo), each fed through the real API of the real server (a child process) the way the
 * page would: packs and zips to packs.import, images and fonts to blobs.put then image.steer /
 * glyph.specimen, label exports to index.importLabels, recipes to sessions.importRecipe, and
 * damaged sessions databases to the app's start. Each must end in its expected named error
 * (never `internal`, never a crash); a damaged database must be moved aside and replaced.
 * Big files are made without holding them: a 300 MB label line is a sparse file, the bombs
 * are repeated deflate blocks.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTmp, fixturePacks, tmpDir } from '../support/tmp';
import { deflated, stored, writeZip, zeroBomb } from '../support/zipBomb';
import { clip, recordPart } from './support/figures';
import { Conn, startServerChild, type ServerChild } from './support/server';

const TEXT = 'orrery-text-tiny';
const SAE = 'res1-64';
const EMOJI = 'orrery-emoji-tiny';
const GLYPH = 'orrery-glyphs-tiny';

let server: ServerChild;
let conn: Conn;
let dir: string;
const rows: string[][] = [];
let crashes = 0;

beforeAll(async () => {
  dir = tmpDir('orrery-rel-corpus-');
  server = await startServerChild();
  conn = await Conn.authed(server.port);
});

afterAll(async () => {
  conn?.close();
  await server?.stop();
  const matched = rows.filter((r) => r[4] === 'yes').length;
  recordPart({
    part: '2 hostile files',
    order: 2,
    figures: [
      { label: 'hostile files tried', value: rows.length, goal: '>= 40' },
      { label: 'ended as expected', value: matched, goal: `${rows.length}` },
      {
        label: '  in a named error',
        value: rows.filter(
          (r) => r[4] === 'yes' && /^[a-z_]+$/.test(r[3] ?? '') && r[3] !== 'recovered',
        ).length,
      },
      {
        label: '  damaged database moved aside and replaced',
        value: rows.filter((r) => r[3] === 'recovered').length,
      },
      {
        label: '  read to the end, nothing imported',
        value: rows.filter((r) => r[3] === 'nothing imported').length,
      },
      {
        label: "ended in 'internal'",
        value: rows.filter((r) => r[3] === 'internal').length,
        goal: '0',
      },
      { label: 'server crashes', value: crashes, goal: '0' },
    ],
    tables: [
      {
        title: 'file -> code -> message',
        header: ['group', 'file', 'expected', 'got', 'as expected', 'message'],
        rows,
      },
    ],
  });
  cleanupTmp();
});

interface Case {
  group: string;
  name: string;
  /** Expected code; `a|b` where either is right. */
  expect: string;
  /** Makes the file and feeds it through the API; the result's code (or 'recovered'). */
  run(): Promise<{ code: string; message: string }>;
}

async function viaCall(call: string, input: unknown): Promise<{ code: string; message: string }> {
  if (!conn.open) conn = await Conn.authed(server.port);
  const r = await conn.call(call, input);
  if (!r.ok) return r.error;
  return { code: 'ok', message: `accepted: ${clip(JSON.stringify(r.value), 100)}` };
}

// ---- packs ---------------------------------------------------------------------------------

let packN = 0;
/** A copy of the tiny text pack with a fresh id, changed by `edit`. */
function pack(edit: (d: string) => void, kind = 'text-tiny'): string {
  const d = path.join(dir, `pack-${++packN}`);
  cpSync(path.join(fixturePacks, kind), d, { recursive: true });
  const m = path.join(d, 'manifest.json');
  writeFileSync(
    m,
    JSON.stringify({ ...JSON.parse(readFileSync(m, 'utf8')), id: `rel-bad-${packN}` }),
  );
  edit(d);
  return d;
}
const saeFile = (d: string): string =>
  path.join(d, 'sae/blocks.1.hook_resid_post/sae_weights.safetensors');
const cfgFile = (d: string): string => path.join(d, 'sae/blocks.1.hook_resid_post/cfg.json');
function editJson(file: string, edit: (j: Record<string, unknown>) => void): void {
  const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(j);
  writeFileSync(file, JSON.stringify(j));
}
function editHeader(
  file: string,
  edit: (h: Record<string, Record<string, unknown>>) => void,
  length?: bigint,
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
  len.writeBigUInt64LE(length ?? BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, json, bytes.subarray(8 + n)]));
}
const importPack = (d: string) => viaCall('packs.import', { from: d });
const packCase = (
  name: string,
  expect: string,
  edit: (d: string) => void,
  kind?: string,
): Case => ({
  group: 'pack',
  name,
  expect,
  run: () => importPack(pack(edit, kind)),
});

const packs: Case[] = [
  packCase('manifest.json not JSON', 'bad_pack', (d) =>
    writeFileSync(path.join(d, 'manifest.json'), '{"format":1,'),
  ),
  packCase('manifest.json missing', 'bad_pack', (d) => rmSync(path.join(d, 'manifest.json'))),
  packCase('manifest.json kind "rocket"', 'bad_pack', (d) =>
    editJson(path.join(d, 'manifest.json'), (j) => (j.kind = 'rocket')),
  ),
  packCase('manifest.json names a missing below.onnx', 'bad_pack', (d) =>
    rmSync(path.join(d, 'below.onnx')),
  ),
  packCase('manifest.json 3 MB of nesting', 'bad_pack', (d) =>
    writeFileSync(
      path.join(d, 'manifest.json'),
      `${'['.repeat(1_500_000)}${']'.repeat(1_500_000)}`,
    ),
  ),
  packCase('below.onnx truncated to half', 'bad_pack', (d) => {
    const f = path.join(d, 'below.onnx');
    truncateSync(f, Math.floor(readFileSync(f).length / 2));
  }),
  packCase('below.onnx random bytes', 'bad_pack', (d) =>
    writeFileSync(path.join(d, 'below.onnx'), randomBytes(40_000)),
  ),
  packCase('below.onnx empty', 'bad_pack', (d) => writeFileSync(path.join(d, 'below.onnx'), '')),
  packCase(
    'encoder.onnx of an image pack, random bytes',
    'bad_pack',
    (d) => writeFileSync(path.join(d, 'encoder.onnx'), randomBytes(5000)),
    'emoji-tiny',
  ),
  packCase('safetensors header length 2^62', 'bad_pack', (d) =>
    editHeader(saeFile(d), () => undefined, 2n ** 62n),
  ),
  packCase('safetensors offsets out of range', 'bad_pack', (d) =>
    editHeader(
      saeFile(d),
      (h) => ((h.W_dec as Record<string, unknown>).data_offsets = [0, 10_000_000]),
    ),
  ),
  packCase('safetensors I64 dtype', 'bad_pack', (d) =>
    editHeader(saeFile(d), (h) => ((h.W_enc as Record<string, unknown>).dtype = 'I64')),
  ),
  packCase('safetensors header not JSON', 'bad_pack', (d) => {
    const b = readFileSync(saeFile(d));
    b.write('!!!!', 8, 'latin1');
    writeFileSync(saeFile(d), b);
  }),
  packCase('safetensors truncated (tensors cut)', 'bad_pack', (d) =>
    truncateSync(saeFile(d), 1000),
  ),
  packCase('cfg.json d_sae 128 against 64 in the tensors', 'bad_pack', (d) =>
    editJson(cfgFile(d), (j) => (j.d_sae = 128)),
  ),
  packCase('cfg.json d_in 32 against the hook width 16', 'bad_pack', (d) =>
    editJson(cfgFile(d), (j) => (j.d_in = 32)),
  ),
  packCase('cfg.json not JSON', 'bad_pack', (d) => writeFileSync(cfgFile(d), 'architecture: topk')),
  packCase('tokenizer.json garbage', 'bad_pack', (d) =>
    writeFileSync(path.join(d, 'tokenizer.json'), randomBytes(3000)),
  ),
];

// ---- zips ----------------------------------------------------------------------------------

/** The tiny text pack's files as zip entries under `root/`. */
function packEntries(root = 'text-tiny'): ReturnType<typeof stored>[] {
  const base = path.join(fixturePacks, 'text-tiny');
  const out: ReturnType<typeof stored>[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(base, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else {
        let bytes = readFileSync(path.join(base, r));
        if (r === 'manifest.json')
          bytes = Buffer.from(
            JSON.stringify({ ...JSON.parse(bytes.toString()), id: `rel-zip-${++packN}` }),
          );
        out.push(deflated(`${root}/${r}`, bytes));
      }
    }
  };
  walk('');
  return out;
}
let zipN = 0;
const zipCase = (name: string, expect: string, make: () => Buffer): Case => ({
  group: 'zip',
  name,
  expect,
  run: () => {
    const f = path.join(dir, `z${++zipN}.zip`);
    writeFileSync(f, make());
    return importPack(f);
  },
});
const zips: Case[] = [
  zipCase('zip bomb: 1 MB inflating to 1 GiB', 'too_large', () =>
    writeZip([...packEntries(), zeroBomb('text-tiny/examples.bin', 1024)]),
  ),
  zipCase('zip bomb declaring a small size', 'too_large|bad_pack', () =>
    writeZip([...packEntries(), { ...zeroBomb('text-tiny/examples.bin', 256), size: 4096 }]),
  ),
  zipCase('10,001 entries', 'too_large', () =>
    writeZip([
      ...packEntries(),
      ...Array.from({ length: 10_001 }, (_, i) => stored(`text-tiny/many/${i}`, 'x')),
    ]),
  ),
  zipCase('entry named ../x', 'bad_pack', () =>
    writeZip([...packEntries(), stored('../x', 'escape')]),
  ),
  zipCase('entry named text-tiny/../../x', 'bad_pack', () =>
    writeZip([...packEntries(), stored('text-tiny/../../x', 'escape')]),
  ),
  zipCase('entry named /etc/x (absolute)', 'bad_pack', () =>
    writeZip([...packEntries(), stored('/etc/x', 'escape')]),
  ),
  zipCase('entry named C:\\x (drive)', 'bad_pack', () =>
    writeZip([...packEntries(), stored('C:\\x', 'escape')]),
  ),
  zipCase('random bytes named .zip', 'bad_pack', () => randomBytes(20_000)),
  zipCase('zip truncated to half', 'bad_pack', () => {
    const z = writeZip(packEntries());
    return z.subarray(0, Math.floor(z.length / 2));
  }),
  zipCase('bad CRC in an entry', 'bad_pack', () =>
    writeZip(
      packEntries().map((e) =>
        e.name.endsWith('tokenizer.json') ? { ...e, crc: (e.crc ^ 1) >>> 0 } : e,
      ),
    ),
  ),
  zipCase('a corrupt pack inside (manifest not JSON)', 'bad_pack', () =>
    writeZip(
      packEntries().map((e) =>
        e.name.endsWith('manifest.json') ? stored(e.name, '{"format":') : e,
      ),
    ),
  ),
];

// ---- images and fonts (uploaded once, then named by hash) ------------------------------------

function crc(buf: Buffer): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(zlib.crc32(buf) >>> 0);
  return b;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, td, crc(td)]);
}
function pngHeader(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
  ]);
}
function smallPng(): Buffer {
  const raw = Buffer.alloc((1 + 8 * 4) * 8, 128);
  for (let y = 0; y < 8; y++) raw[y * 33] = 0;
  return Buffer.concat([
    pngHeader(8, 8),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

async function upload(bytes: Buffer): Promise<string> {
  if (!conn.open) conn = await Conn.authed(server.port);
  const r = await conn.call('blobs.put', { bytes: new Uint8Array(bytes), name: 'hostile' });
  if (!r.ok) throw new Error(`blobs.put: ${JSON.stringify(r)}`);
  return (r.value as { hash: string }).hash;
}
const imageCase = (name: string, expect: string, make: () => Buffer): Case => ({
  group: 'image',
  name,
  expect,
  run: async () =>
    viaCall('image.steer', { packId: EMOJI, source: { blob: await upload(make()) }, dials: [] }),
});
const fontCase = (name: string, expect: string, make: () => Buffer): Case => ({
  group: 'font',
  name,
  expect,
  run: async () =>
    viaCall('glyph.specimen', {
      packId: GLYPH,
      source: { blob: await upload(make()) },
      text: 'Ab',
    }),
});
function sfnt(tag: string, tables: number, body: Buffer): Buffer {
  const h = Buffer.alloc(12 + 16 * tables);
  h.write(tag, 0, 'latin1');
  h.writeUInt16BE(tables, 4);
  for (let i = 0; i < tables; i++) {
    h.write(
      ['cmap', 'glyf', 'head', 'hhea', 'hmtx', 'loca', 'maxp', 'name', 'post', 'OS/2'][i % 10] ??
        'xxxx',
      12 + i * 16,
      'latin1',
    );
    h.writeUInt32BE(0x10000 + i * 100, 12 + i * 16 + 8); // offsets past the end
    h.writeUInt32BE(5000, 12 + i * 16 + 12);
  }
  return Buffer.concat([h, body]);
}
const images: Case[] = [
  imageCase('PNG truncated (header and half the data)', 'bad_input', () => {
    const p = smallPng();
    return p.subarray(0, p.length - 20);
  }),
  imageCase('PNG header declaring 8000 × 8000', 'too_large', () =>
    Buffer.concat([pngHeader(8000, 8000), pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(1000)))]),
  ),
  imageCase('PNG header declaring 1 × 100,000,000', 'too_large', () => pngHeader(1, 100_000_000)),
  imageCase('PNG with a bad IHDR CRC', 'bad_input', () => {
    const p = smallPng();
    p[29] = (p[29] ?? 0) ^ 0xff;
    return p;
  }),
  imageCase('JPEG garbage after the SOI marker', 'bad_input', () =>
    Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(5000)]),
  ),
  imageCase('JPEG SOF declaring 65535 × 65535', 'too_large', () => {
    const sof = Buffer.from([
      0xff, 0xc0, 0, 17, 8, 0xff, 0xff, 0xff, 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
    ]);
    return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, randomBytes(100)]);
  }),
  imageCase('WebP garbage in a RIFF header (257 × 257 declared)', 'bad_input', () => {
    const b = Buffer.concat([Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1'), Buffer.alloc(3000, 1)]);
    b.writeUInt32LE(b.length - 8, 4);
    return b;
  }),
  imageCase('random bytes', 'bad_input', () => randomBytes(10_000)),
  imageCase('empty file', 'bad_input', () => Buffer.alloc(0)),
  imageCase('a TTF font given as an image', 'bad_input', () =>
    sfnt('\0\x01\0\0', 4, randomBytes(200)),
  ),
];
const fonts: Case[] = [
  fontCase('random bytes', 'bad_input', () => randomBytes(20_000)),
  fontCase('TTF truncated after its table directory', 'bad_input', () =>
    sfnt('\0\x01\0\0', 10, Buffer.alloc(0)),
  ),
  fontCase('OTF header, garbage tables', 'bad_input', () => sfnt('OTTO', 9, randomBytes(2000))),
  fontCase('WOFF header, garbage', 'bad_input', () =>
    Buffer.concat([Buffer.from('wOFF', 'latin1'), randomBytes(3000)]),
  ),
  fontCase('TTF declaring 65535 tables', 'bad_input', () => {
    const b = Buffer.alloc(64);
    b.write('\0\x01\0\0', 0, 'latin1');
    b.writeUInt16BE(65535, 4);
    return b;
  }),
  fontCase('a PNG given as a font', 'bad_input', smallPng),
  fontCase('empty file', 'bad_input', () => Buffer.alloc(0)),
];

// ---- label exports ---------------------------------------------------------------------------

let labelN = 0;
const labelCase = (
  name: string,
  expect: string,
  make: (file: string) => void,
  ext = '.jsonl',
): Case => ({
  group: 'labels',
  name,
  expect,
  run: async () => {
    const f = path.join(dir, `labels-${++labelN}${ext}`);
    make(f);
    const r = await viaCall('index.importLabels', { packId: TEXT, saeId: SAE, from: f });
    // A file with no label in it is read to the end and reported: nothing imported.
    if (r.code === 'ok' && r.message.includes('"imported":0,'))
      return { code: 'nothing imported', message: r.message };
    return r;
  },
});
/** A gzip member of `mib` MiB of `block` repeated, made from one deflated block (no big buffer). */
function gzipBomb(file: string, block: Buffer, times: number): void {
  const fd = openSync(file, 'w');
  writeSync(fd, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
  const deflatedBlock = zlib.deflateRawSync(block, {
    finishFlush: zlib.constants.Z_FULL_FLUSH,
    level: 9,
  });
  let c = 0;
  for (let i = 0; i < times; i++) {
    writeSync(fd, deflatedBlock);
    c = zlib.crc32(block, c);
  }
  const tail = Buffer.alloc(10);
  tail.set([0x03, 0x00], 0);
  tail.writeUInt32LE(c >>> 0, 2);
  tail.writeUInt32LE((block.length * times) % 2 ** 32, 6);
  writeSync(fd, tail);
  closeSync(fd);
}
const labels: Case[] = [
  labelCase(
    'gzip bomb: 1 MB inflating to 1.1 GiB of zeros',
    'too_large',
    (f) => gzipBomb(f, Buffer.alloc(1024 * 1024), 1100),
    '.jsonl.gz',
  ),
  labelCase('one 300 MB line (sparse file)', 'too_large', (f) => {
    writeFileSync(f, '{"modelId":"m","index":"1","description":"');
    truncateSync(f, 300 * 1024 * 1024);
  }),
  labelCase('a 2 MB line among good ones', 'too_large', (f) =>
    writeFileSync(
      f,
      `{"index":"1","description":"a"}\n{"index":"2","description":"${'x'.repeat(2 * 1024 * 1024)}"}\n`,
    ),
  ),
  labelCase('not JSON at all (CSV)', 'nothing imported|bad_input', (f) =>
    writeFileSync(f, 'index,description\n1,hello\n2,world\n'),
  ),
  labelCase('random bytes', 'nothing imported|bad_input', (f) =>
    writeFileSync(f, randomBytes(50_000)),
  ),
  labelCase(
    'JSON array cut short',
    'bad_input',
    (f) => writeFileSync(f, '[{"index":"1","description":"a"},{"index":'),
    '.json',
  ),
  labelCase(
    'gzip truncated',
    'bad_input',
    (f) => {
      const g = zlib.gzipSync(Buffer.from('{"index":"1","description":"a"}\n'.repeat(2000)));
      writeFileSync(f, g.subarray(0, Math.floor(g.length / 2)));
    },
    '.jsonl.gz',
  ),
];

// ---- recipes -----------------------------------------------------------------------------------

const dial = (feature: number, saeId = SAE) => ({ saeId, feature, method: 'add', value: 1 });
function recipe(edit: (r: Record<string, unknown>) => void): Record<string, unknown> {
  const r: Record<string, unknown> = {
    orrery: 'recipe',
    version: 1,
    name: 'hostile',
    packId: TEXT,
    steps: [{ ref: 1, parent: null, kind: 'text', input: { prompt: 'x' }, dials: [dial(3)] }],
    head: 1,
  };
  edit(r);
  return r;
}
let recipeN = 0;
const recipeCase = (name: string, expect: string, make: () => unknown): Case => ({
  group: 'recipe',
  name,
  expect,
  run: () => {
    // A recipe is a file the person opens; the page reads it and sends its JSON.
    const f = path.join(dir, `recipe-${++recipeN}.json`);
    writeFileSync(f, JSON.stringify(make()));
    return viaCall('sessions.importRecipe', {
      recipe: JSON.parse(readFileSync(f, 'utf8')) as unknown,
    });
  },
});
function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}
const recipes: Case[] = [
  recipeCase('unknown pack', 'not_found|bad_input', () =>
    recipe((r) => (r.packId = 'no-such-pack')),
  ),
  recipeCase('feature 9,999,999 of a 64-feature SAE', 'bad_input', () =>
    recipe(
      (r) =>
        (r.steps = [
          { ref: 1, parent: null, kind: 'text', input: { prompt: 'x' }, dials: [dial(9_999_999)] },
        ]),
    ),
  ),
  recipeCase('unknown SAE id', 'bad_input|not_found', () =>
    recipe(
      (r) =>
        (r.steps = [
          {
            ref: 1,
            parent: null,
            kind: 'text',
            input: { prompt: 'x' },
            dials: [dial(1, 'no-sae')],
          },
        ]),
    ),
  ),
  recipeCase('1000-deep nesting in a step input', 'too_large|bad_input', () =>
    recipe(
      (r) =>
        (r.steps = [
          { ref: 1, parent: null, kind: 'text', input: { prompt: nested(1000) }, dials: [] },
        ]),
    ),
  ),
  recipeCase('an image step in a text pack', 'bad_input', () =>
    recipe(
      (r) =>
        (r.steps = [
          { ref: 1, parent: null, kind: 'image', input: { source: { example: 0 } }, dials: [] },
        ]),
    ),
  ),
  recipeCase('a step whose parent comes after it', 'bad_input', () =>
    recipe(
      (r) => (r.steps = [{ ref: 1, parent: 2, kind: 'text', input: { prompt: 'x' }, dials: [] }]),
    ),
  ),
  recipeCase('not a recipe (a string)', 'bad_input', () => 'recipe'),
];

// ---- databases (at the app's start) ------------------------------------------------------------

const dbCase = (name: string, damage: (file: string) => void): Case => ({
  group: 'database',
  name: `sessions.sqlite: ${name}`,
  expect: 'recovered',
  run: async () => {
    // A home with a real sessions database (made by a first start), then damaged.
    const home = tmpDir('orrery-rel-db-');
    const first = await startServerChild({ home, models: server.models });
    const c = await Conn.authed(first.port);
    await c.call('sessions.create', { packId: TEXT, name: 'before the damage' });
    c.close();
    await first.stop();
    const file = path.join(home, 'sessions.sqlite');
    for (const x of ['-wal', '-shm']) rmSync(file + x, { force: true });
    damage(file);
    let again: ServerChild;
    try {
      again = await startServerChild({ home, models: server.models });
    } catch (e) {
      return { code: 'did not start', message: (e as Error).message };
    }
    try {
      const c2 = await Conn.authed(again.port);
      const notices = await c2.call('app.notices', {});
      const list = await c2.call('sessions.list', {});
      c2.close();
      const n = notices.ok
        ? (notices.value as { notices: { file?: string; movedTo?: string; message: string }[] })
            .notices
        : [];
      const hit = n.find((x) => x.file === file);
      if (!hit) return { code: 'no notice', message: JSON.stringify(notices) };
      if (!hit.movedTo || !existsSync(hit.movedTo))
        return { code: 'old file gone', message: hit.message };
      if (!list.ok)
        return { code: `sessions.list ${list.error.code}`, message: list.error.message };
      return { code: 'recovered', message: hit.message };
    } finally {
      await again.stop();
    }
  },
});
const databases: Case[] = [
  dbCase('bad header', (f) => {
    const b = readFileSync(f);
    b.write('NOT A DATABASE!!', 0, 'latin1');
    writeFileSync(f, b);
  }),
  dbCase('truncated to 1,000 bytes', (f) => truncateSync(f, 1000)),
  dbCase('a folder in its place', (f) => {
    rmSync(f);
    mkdirSync(f);
    writeFileSync(path.join(f, 'x'), 'x');
  }),
  dbCase('random bytes', (f) => writeFileSync(f, randomBytes(64 * 1024))),
  dbCase('pages overwritten after the header', (f) => {
    const b = readFileSync(f);
    randomBytes(b.length - 4096).copy(b, 4096);
    writeFileSync(f, b);
  }),
];

const all: Case[] = [...packs, ...zips, ...images, ...fonts, ...labels, ...recipes, ...databases];

describe('part 2: hostile files through the real API', () => {
  it(`${all.length} corrupt or hostile files each end in their named error`, async () => {
    expect(all.length).toBeGreaterThanOrEqual(40);
    // Label imports go into a built index.
    const built = await viaCall('index.build', { packId: TEXT, saeId: SAE });
    expect(built.code).toBe('ok');
    for (const c of all) {
      let got: { code: string; message: string };
      try {
        got = await c.run();
      } catch (e) {
        got = { code: 'threw', message: (e as Error).message };
      }
      if (!server.alive()) {
        crashes++;
        server = await startServerChild({ models: server.models });
      }
      const as = c.expect.split('|').includes(got.code) ? 'yes' : 'NO';
      rows.push([c.group, c.name, c.expect, got.code, as, clip(got.message, 120)]);
    }
    expect(server.alive()).toBe(true);
    expect(crashes).toBe(0);
    const wrong = rows
      .filter((r) => r[4] !== 'yes')
      .map((r) => `${r[0]} ${r[1]}: expected ${r[2]}, got ${r[3]} (${r[5]})`);
    expect(wrong).toEqual([]);
  });
});
