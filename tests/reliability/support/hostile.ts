/**
 * Hostile API messages, generated from a seeded random source (the same seed gives the same
 * messages): per call, a plausible input (seeds, see fuzz.test.ts) bent by one mutation (wrong
 * types, huge strings, deep nesting, prototype keys, NaN/Infinity-ish numbers, odd Unicode,
 * missing and extra fields), broken envelopes, malformed and oversize binary frames.
 * Messages are JSON text built by hand where JSON.stringify cannot say it (1e999, __proto__).
 */
import { mulberry32 } from '../../../main/index/build/rng';
import { encodeMessage, limits } from '../../../preload/contract';

/** mulberry32 (the index build's own): a small seeded generator, the same messages every run. */
export const rng = mulberry32;

export type Rand = () => number;
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
export const int = (r: Rand, lo: number, hi: number): number =>
  lo + Math.floor(r() * (hi - lo + 1));

/** A value as raw JSON text: numbers JSON.stringify would turn into null are kept as written. */
type Raw = { raw: string };
const raw = (text: string): Raw => ({ raw: text });

/** JSON text of a value; `{raw}` values are spliced in as they are. */
export function toJson(v: unknown): string {
  if (v !== null && typeof v === 'object' && 'raw' in v && typeof (v as Raw).raw === 'string')
    return (v as Raw).raw;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

const numbers = [
  raw('1e999'),
  raw('-1e999'),
  raw('-0'),
  raw('1e-400'),
  raw('9007199254740993'),
  raw('1.7976931348623157e308'),
  raw('123456789012345678901234567890'),
  'NaN',
  'Infinity',
  '-Infinity',
  -1,
  0.5,
  -0.000001,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  -(2 ** 53),
  10_000_001,
  9_999_999,
];
const strings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u202d',
  '🜲'.repeat(50),
  '../../../../etc/passwd',
  '/etc/shadow',
  'C:\\Windows\\win.ini',
  '\\\\server\\share',
  '%2e%2e%2f',
  '${jndi:x}',
  '<script>alert(1)</script>',
  "'; DROP TABLE sessions; --",
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
  'true',
  '0x10',
  '-1',
  'a'.repeat(129),
  'é'.repeat(200),
];
const others = [null, true, false, [], {}, [null], { '': null }, [[[]]]];

export function wrongValue(r: Rand): unknown {
  const k = r();
  if (k < 0.4) return pick(r, numbers);
  if (k < 0.8) return pick(r, strings);
  return pick(r, others);
}

export function hugeString(r: Rand): string {
  const n = pick(r, [16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024]);
  return pick(r, ['x', 'é', '\u0000', '/', '{', '🜲']).repeat(Math.floor(n / 2));
}

export function deep(r: Rand): Raw {
  const depth = pick(r, [100, 1000, 10_000, 100_000]);
  return r() < 0.5
    ? raw(`${'['.repeat(depth)}${']'.repeat(depth)}`)
    : raw(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

export function protoKeys(r: Rand, base: Record<string, unknown>): Raw {
  const evil = pick(r, [
    '"__proto__":{"polluted":true,"isAdmin":true}',
    '"constructor":{"prototype":{"polluted":true}}',
    '"__proto__":null',
    '"prototype":{"x":1}',
    '"__proto__":{"toString":1,"valueOf":1}',
  ]);
  const inner = toJson(base).slice(1, -1);
  return raw(`{${evil}${inner ? `,${inner}` : ''}}`);
}

/** Nests `{raw}` at a random place in a copy of `v` (one level into objects and arrays). */
function atRandomField(
  r: Rand,
  base: Record<string, unknown>,
  make: () => unknown,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  const keys = Object.keys(out);
  if (keys.length === 0 || r() < 0.2) {
    out[pick(r, ['x', 'extra', '__proto__', 'constructor', 'jobId', 'from', 'packId'])] = make();
    return out;
  }
  const k = pick(r, keys);
  const v = out[k];
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && r() < 0.5) {
    out[k] = atRandomField(r, v as Record<string, unknown>, make);
  } else if (Array.isArray(v) && v.length > 0 && r() < 0.5) {
    const copy = [...v];
    const i = int(r, 0, copy.length - 1);
    const item = copy[i];
    copy[i] =
      item !== null && typeof item === 'object' && !Array.isArray(item)
        ? atRandomField(r, item as Record<string, unknown>, make)
        : make();
    out[k] = copy;
  } else out[k] = make();
  return out;
}

export const inputMutations = [
  'as seeded',
  'wrong type',
  'huge string',
  'deep nesting',
  'prototype keys',
  'NaN/Infinity-ish number',
  'missing field',
  'extra field',
  'not an object',
  'many dials',
  'huge array',
] as const;
export type InputMutation = (typeof inputMutations)[number];

/** How often each mutation is drawn: the hostile ones mostly; a few inputs as seeded. */
const weights: Record<InputMutation, number> = {
  'as seeded': 3,
  'wrong type': 20,
  'huge string': 6,
  'deep nesting': 6,
  'prototype keys': 15,
  'NaN/Infinity-ish number': 15,
  'missing field': 10,
  'extra field': 10,
  'not an object': 5,
  'many dials': 4,
  'huge array': 6,
};
const totalWeight = Object.values(weights).reduce((a, b) => a + b, 0);

export function pickMutation(r: Rand): InputMutation {
  let x = r() * totalWeight;
  for (const m of inputMutations) {
    x -= weights[m];
    if (x < 0) return m;
  }
  return 'wrong type';
}

/** An input for a call: its seed, bent by one mutation. */
export function mutateInput(r: Rand, seed: Record<string, unknown>, m: InputMutation): unknown {
  switch (m) {
    case 'as seeded':
      return seed;
    case 'wrong type':
      return atRandomField(r, seed, () => wrongValue(r));
    case 'huge string':
      return atRandomField(r, seed, () => hugeString(r));
    case 'deep nesting':
      return atRandomField(r, seed, () => deep(r));
    case 'prototype keys':
      return r() < 0.5 ? protoKeys(r, seed) : atRandomField(r, seed, () => protoKeys(r, {}));
    case 'NaN/Infinity-ish number':
      return atRandomField(r, seed, () => pick(r, numbers));
    case 'missing field': {
      const keys = Object.keys(seed);
      const gone = keys.length ? pick(r, keys) : '';
      return Object.fromEntries(Object.entries(seed).filter(([k]) => k !== gone));
    }
    case 'extra field':
      return { ...seed, [pick(r, ['x', 'id', 'path', 'dir', 'token', 'call'])]: wrongValue(r) };
    case 'not an object':
      return pick(r, [null, [], 'input', 42, true, [seed], raw('1e999')]);
    case 'many dials':
      return {
        ...seed,
        dials: Array.from({ length: pick(r, [257, 2000]) }, (_, i) => ({
          saeId: 'res1-64',
          feature: i,
          method: 'add',
          value: 1,
        })),
      };
    case 'huge array':
      return atRandomField(r, seed, () =>
        Array.from({ length: pick(r, [1000, 65_537, 70_000]) }, () => pick(r, [0, 1, 0.5])),
      );
  }
}

export function callMessage(id: unknown, call: unknown, input: unknown): string {
  return toJson({ type: 'call', id, call, input });
}

export const envelopeMutations = [
  'not JSON',
  'empty',
  'JSON scalar',
  'wrong type field',
  'id as string',
  'negative id',
  'fractional id',
  'huge id',
  'unknown call',
  'prototype call name',
  'call name too long',
  'missing input',
  'extra envelope key',
  'duplicate keys',
  'lone surrogate',
  'hello again',
] as const;

export function brokenEnvelope(r: Rand, id: number, call: string, input: unknown): string {
  const m = pick(r, envelopeMutations);
  switch (m) {
    case 'not JSON':
      return pick(r, ['garbage', '{', '{"type":"call",', '[1,2', '\u0000', 'undefined', "{'a':1}"]);
    case 'empty':
      return '';
    case 'JSON scalar':
      return pick(r, ['null', '1', '"call"', 'true', '[]', '1e999']);
    case 'wrong type field':
      return toJson({ type: pick(r, ['reply', 'event', 'hello', '', null, 1]), id, call, input });
    case 'id as string':
      return toJson({ type: 'call', id: String(id), call, input });
    case 'negative id':
      return callMessage(-id, call, input);
    case 'fractional id':
      return callMessage(id + 0.5, call, input);
    case 'huge id':
      return callMessage(raw(pick(r, ['1e999', '9007199254740993', '1e300'])), call, input);
    case 'unknown call':
      return callMessage(
        id,
        pick(r, ['app.nothing', 'packs', '', 'PACKS.LIST', 'packs.list ']),
        input,
      );
    case 'prototype call name':
      return callMessage(
        id,
        pick(r, ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']),
        input,
      );
    case 'call name too long':
      return callMessage(id, 'a'.repeat(int(r, 129, 100_000)), input);
    case 'missing input':
      return toJson({ type: 'call', id, call });
    case 'extra envelope key':
      return toJson({ type: 'call', id, call, input, [pick(r, ['token', 'x', '__proto__'])]: 1 });
    case 'duplicate keys':
      return `{"type":"call","id":${id},"call":"app.nothing","call":${JSON.stringify(call)},"input":${toJson(input)}}`;
    case 'lone surrogate':
      return `{"type":"call","id":${id},"call":"\\ud800","input":{}}`;
    case 'hello again':
      return toJson({ type: 'hello', token: 'x'.repeat(40) });
  }
}

/** A frame header followed by buffers, with any lengths (for malformed frames). */
function frame(
  headerJson: string,
  declaredLength: number | null,
  body: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const header = Buffer.from(headerJson, 'utf8');
  const head = Buffer.alloc(8);
  head.write('ORB1', 0, 'latin1');
  head.writeUInt32LE(declaredLength ?? header.byteLength, 4);
  return new Uint8Array(
    Buffer.concat([head, header, Buffer.alloc((8 - ((8 + header.byteLength) % 8)) % 8), body]),
  );
}

export const frameMutations = [
  'random bytes',
  'wrong magic',
  'magic only',
  'header length past the end',
  'header length 2^32-1',
  'header not JSON',
  'header not UTF-8',
  'table malformed',
  'table too long',
  'buffer past the end',
  'odd length for its kind',
  '$bin out of range',
  '$bin not a number',
  'bytes where no bytes belong',
  'valid put',
] as const;

export function malformedFrame(r: Rand, id: number): Uint8Array {
  const m = pick(r, frameMutations);
  const call = (input: unknown): string => toJson({ type: 'call', id, call: 'blobs.put', input });
  switch (m) {
    case 'random bytes':
      return new Uint8Array(int(r, 0, 4096)).map(() => int(r, 0, 255));
    case 'wrong magic':
      return new Uint8Array(Buffer.from('ORB2\u0004\u0000\u0000\u0000null'));
    case 'magic only':
      return new Uint8Array(Buffer.from('ORB1'));
    case 'header length past the end':
      return frame(`{"m":${call({})},"b":[]}`, 10_000);
    case 'header length 2^32-1':
      return frame('{}', 0xffffffff);
    case 'header not JSON':
      return frame('{"m":{"type":"call",', null);
    case 'header not UTF-8': {
      const f = frame('{"m":"xx"}', null);
      f[14] = 0xff;
      f[15] = 0xfe;
      return f;
    }
    case 'table malformed':
      return frame(
        `{"m":${call({ bytes: { $bin: 0 } })},"b":${pick(r, ['[["u64",8]]', '[["u8",-1]]', '[["u8"]]', '{"0":1}', '[["__proto__",8]]', '[["u8",1e999]]'])}}`,
        null,
        new Uint8Array(8),
      );
    case 'table too long':
      return frame(
        `{"m":${call({})},"b":${JSON.stringify(Array.from({ length: limits.frameBuffers + 1 }, () => ['u8', 0]))}}`,
        null,
      );
    case 'buffer past the end':
      return frame(
        `{"m":${call({ bytes: { $bin: 0 } })},"b":[["u8",100000]]}`,
        null,
        new Uint8Array(16),
      );
    case 'odd length for its kind':
      return frame(
        `{"m":${call({ bytes: { $bin: 0 } })},"b":[["f32",7]]}`,
        null,
        new Uint8Array(8),
      );
    case '$bin out of range':
      return frame(`{"m":${call({ bytes: { $bin: 5 } })},"b":[["u8",8]]}`, null, new Uint8Array(8));
    case '$bin not a number':
      return frame(
        `{"m":${call({ bytes: { $bin: '0' } })},"b":[["u8",8]]}`,
        null,
        new Uint8Array(8),
      );
    case 'bytes where no bytes belong':
      return encodeMessage({
        type: 'call',
        id,
        call: pick(r, [
          'packs.import',
          'sessions.importRecipe',
          'index.search',
          'text.generate',
          'blobs.get',
        ]),
        input: {
          from: new Uint8Array(8),
          recipe: new Float32Array(4),
          query: new Int32Array(2),
          prompt: new Uint16Array(3),
          hash: new Uint8Array(64),
        },
      }) as Uint8Array;
    case 'valid put':
      return encodeMessage({
        type: 'call',
        id,
        call: 'blobs.put',
        input: {
          bytes: new Uint8Array(int(r, 0, 65_536)).map(() => int(r, 0, 255)),
          name: 'fuzz.bin',
        },
      }) as Uint8Array;
  }
}
