/**
 * Part 1: API fuzzing. At least 10,000 generated hostile messages (support/hostile.ts; seeded,
 * so a run can be repeated) across every call of the contract, over real WebSockets to the real
 * server in a child process: wrong types, huge strings, deep nesting, prototype keys,
 * NaN/Infinity-ish numbers, broken envelopes, malformed ORB1 frames, text over messageBytes,
 * frames over frameBytes (the socket closes with 1009; the suite reconnects) and bursts of 200
 * calls at once. Every message must get a reply or a clean close; the server must stay up; no
 * reply may take longer than the hang bound; no reply may be `internal`.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls, limits, type CallName } from '../../preload/contract';
import { cleanupTmp, fixturePacks, tmpDir } from '../support/tmp';
import { clip, recordPart, resultsDir } from './support/figures';
import {
  brokenEnvelope,
  callMessage,
  malformedFrame,
  mutateInput,
  pickMutation,
  rng,
  type Rand,
} from './support/hostile';
import { Conn, startServerChild, type Outcome, type ServerChild } from './support/server';

/** Messages one at a time (the bursts come on top). */
const SINGLE = Number(process.env.RELIABILITY_MESSAGES ?? 9_200);
const BURSTS = Number(process.env.RELIABILITY_BURSTS ?? 5);
const BURST = 200;
const SOCKETS = Number(process.env.RELIABILITY_SOCKETS ?? 3);
const SEED = Number(process.env.RELIABILITY_SEED ?? 20_13);

const TEXT = 'orrery-text-tiny';
const EMOJI = 'orrery-emoji-tiny';
const GLYPH = 'orrery-glyphs-tiny';

let server: ServerChild;
let work: string;
let sessionId = 'none';

beforeAll(async () => {
  server = await startServerChild();
  work = tmpDir('orrery-rel-fuzz-');
  cpSync(path.join(fixturePacks, 'text-tiny'), path.join(work, 'pack'), { recursive: true });
  mkdirSync(path.join(work, 'texts'));
  writeFileSync(path.join(work, 'texts', 'a.txt'), 'Some words to index.\n');
  writeFileSync(
    path.join(work, 'labels.jsonl'),
    '{"modelId":"m","layer":"l","index":"3","description":"a label"}\n',
  );
  const c = await Conn.authed(server.port);
  const s = await c.call('sessions.create', { packId: TEXT, name: 'fuzz' });
  if (s.ok) sessionId = (s.value as { id: string }).id;
  c.close();
});

afterAll(async () => {
  await server?.stop();
  cleanupTmp();
});

const dial = { saeId: 'res1-64', feature: 3, method: 'add', value: 2 };

/** A plausible input for every call; the mutations bend these. */
function seeds(): Record<CallName, Record<string, unknown>> {
  const ref = { packId: TEXT, saeId: 'res1-64' };
  return {
    'app.health': {},
    'app.notices': {},
    'packs.list': {},
    'packs.import': { from: path.join(work, 'pack') },
    'packs.remove': { id: 'orrery-text-tiny-copy' },
    'models.inspect': { dir: path.join(work, 'pack'), saes: [path.join(work, 'pack', 'sae')] },
    'models.open': {
      dir: path.join(work, 'pack'),
      saes: [path.join(work, 'pack', 'sae')],
      jobId: 'fuzz-open',
    },
    'models.addSae': {
      packId: TEXT,
      saes: [path.join(work, 'pack', 'sae')],
      jobId: 'fuzz-add-sae',
    },
    'blobs.put': { bytes: [1, 2, 3], name: 'x.png' },
    'blobs.get': { hash: 'a'.repeat(64) },
    'blobs.collect': {},
    'runtime.open': { packId: TEXT },
    'runtime.effectStrip': { packId: EMOJI, saeId: 'latent-32', feature: 3, typical: 2 },
    'text.generate': {
      packId: TEXT,
      prompt: 'The king',
      dials: [dial],
      sampling: { maxTokens: 4 },
      sessionId,
    },
    'text.active': { ...ref, prompt: 'The king said', topK: 4 },
    'image.steer': {
      packId: EMOJI,
      source: { example: 0 },
      dials: [{ ...dial, saeId: 'latent-32' }],
    },
    'image.sweep': {
      packId: EMOJI,
      source: { example: 0 },
      swept: { others: [], at: 0, dial: { ...dial, saeId: 'latent-32' } },
      values: [1, 2, 3],
      jobId: 'fuzz-sweep',
    },
    'image.active': { packId: EMOJI, saeId: 'spatial-32', source: { example: 1 }, topK: 4 },
    'glyph.specimen': {
      packId: GLYPH,
      source: { example: 0 },
      text: 'Ab',
      dials: [{ ...dial, saeId: 'style-64' }],
    },
    'selection.activations': { ...ref, input: { text: 'The king said' }, features: [3, 5, 7] },
    'selection.separate': {
      ...ref,
      like: [{ text: 'The king said' }],
      away: [{ text: 'A cookie' }],
      top: 4,
    },
    'selection.save': { ...ref, name: 's', features: [3, 5], origin: 'lasso' },
    'selection.list': { packId: TEXT },
    'selection.remove': { packId: TEXT, name: 's' },
    'export.image': { rgba: [0, 0, 0, 255], width: 1, height: 1, size: 32 },
    'export.sweep': {
      packId: EMOJI,
      saeId: 'latent-32',
      feature: 3,
      typical: 2,
      format: 'strip',
      size: 64,
    },
    'export.text': { prompt: 'The king', before: ' said', after: ' spoke' },
    'index.corpora': { packId: TEXT },
    'index.status': ref,
    'index.build': { ...ref, jobId: 'fuzz-build' },
    'index.map': ref,
    'index.search': { ...ref, query: 'king', limit: 5 },
    'index.feature': { ...ref, feature: 3 },
    'index.titles': { ...ref, features: [3, 0, 5] },
    'index.rename': { ...ref, feature: 3, label: 'royal', notes: 'n' },
    'index.importLabels': { ...ref, from: path.join(work, 'labels.jsonl') },
    'index.importDashboards': { ...ref, from: path.join(work, 'labels.jsonl') },
    'index.exportNeuronpedia': { ...ref, features: [1, 2], jobId: 'fuzz-np-export' },
    'index.exportMap': ref,
    'bridge.status': { a: ref, b: ref },
    'bridge.build': { a: ref, b: ref, method: 'decoder', jobId: 'fuzz-bridge' },
    'bridge.matches': { a: ref, b: ref, side: 'a', feature: 3 },
    'bridge.best': { a: ref, b: ref, side: 'b' },
    'bridge.chain': { ...ref, feature: 3 },
    'bridge.carry': {
      a: ref,
      b: ref,
      from: 'a',
      dials: [{ saeId: ref.saeId, feature: 3, method: 'add', value: 2 }],
    },
    'sessions.create': { packId: TEXT, name: 'a session' },
    'sessions.list': { packId: TEXT },
    'sessions.get': { sessionId },
    'sessions.undo': { sessionId },
    'sessions.redo': { sessionId },
    'sessions.checkout': { sessionId, stepId: 1 },
    'sessions.rename': { sessionId, name: 'renamed' },
    'sessions.renameStep': { sessionId, stepId: 1, name: 'first' },
    'sessions.setDials': { sessionId, dials: [dial] },
    'sessions.remove': { sessionId: 'not-this-one' },
    'sessions.exportRecipe': { sessionId },
    'sessions.importRecipe': {
      recipe: {
        orrery: 'recipe',
        version: 1,
        name: 'r',
        packId: TEXT,
        steps: [{ ref: 1, parent: null, kind: 'text', input: { prompt: 'x' }, dials: [dial] }],
        head: 1,
      },
    },
    'presets.save': { packId: TEXT, name: 'p', dials: [dial] },
    'presets.list': { packId: TEXT },
    'presets.remove': { packId: TEXT, name: 'p' },
    'files.list': { dir: work },
    'files.choose': { use: 'pack', kind: 'dir' },
    'jobs.cancel': { jobId: 'fuzz-build' },
  };
}

interface Sent {
  kind: string;
  call: string;
  mutation: string;
  data: string | Uint8Array;
}

interface Tally {
  sent: number;
  byKind: Map<string, number>;
  ok: number;
  codes: Map<string, number>;
  closes: Map<number, number>;
  hangs: Sent[];
  internal: { sent: Sent; message: string }[];
  uncleanCloses: { sent: Sent; code: number }[];
  callsCovered: Set<string>;
}

const tally: Tally = {
  sent: 0,
  byKind: new Map(),
  ok: 0,
  codes: new Map(),
  closes: new Map(),
  hangs: [],
  internal: [],
  uncleanCloses: [],
  callsCovered: new Set(),
};

const bump = <K>(m: Map<K, number>, k: K): void => void m.set(k, (m.get(k) ?? 0) + 1);

/** A close the server chose for a frame it will not read: too big (1009) or not UTF-8 (1007). */
const CLEAN_CLOSES = new Set([1007, 1009]);

function count(s: Sent, o: Outcome): void {
  tally.sent++;
  bump(tally.byKind, s.kind);
  if (o.kind === 'hang') {
    tally.hangs.push(s);
    return;
  }
  if (o.kind === 'close') {
    bump(tally.closes, o.code);
    if (!CLEAN_CLOSES.has(o.code)) tally.uncleanCloses.push({ sent: s, code: o.code });
    return;
  }
  const result = o.reply.result;
  if (result.ok) {
    tally.ok++;
    return;
  }
  bump(tally.codes, result.error.code);
  if (result.error.code === 'internal')
    tally.internal.push({ sent: s, message: result.error.message });
}

/** The i-th single message. */
function message(r: Rand, i: number, all: Record<CallName, Record<string, unknown>>): Sent {
  const names = Object.keys(calls) as CallName[];
  const id = i + 1;
  if (i % 500 === 250)
    return {
      kind: 'text over messageBytes',
      call: '-',
      mutation: 'oversize',
      data: `{"type":"call","id":${id},"call":"packs.list","input":{"x":"${'x'.repeat(limits.messageBytes)}"}}`,
    };
  if (i % 3000 === 1500) {
    const f = new Uint8Array(limits.frameBytes + 1);
    f.set(Buffer.from('ORB1'), 0);
    return { kind: 'frame over frameBytes', call: '-', mutation: 'oversize', data: f };
  }
  if (i % 1000 === 999)
    return {
      kind: 'text frame, not UTF-8',
      call: '-',
      mutation: 'invalid UTF-8',
      data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    };
  const k = r();
  if (k < 0.06)
    return {
      kind: 'malformed frame',
      call: 'blobs.put',
      mutation: 'frame',
      data: malformedFrame(r, id),
    };
  const call = names[i % names.length] as CallName;
  const input = mutateInput(r, all[call], pickMutation(r));
  if (k < 0.14)
    return {
      kind: 'broken envelope',
      call,
      mutation: 'envelope',
      data: brokenEnvelope(r, id, call, input),
    };
  const mutation = pickMutation(r);
  tally.callsCovered.add(call);
  return {
    kind: 'call input',
    call,
    mutation,
    data: callMessage(id, call, mutateInput(r, all[call], mutation)),
  };
}

/** Text frames whose bytes are not UTF-8 go out as raw bytes with the text opcode. */
function send(c: Conn, s: Sent): void {
  if (s.kind === 'text frame, not UTF-8') c.ws.send(s.data, { binary: false });
  else c.send(s.data);
}

describe('part 1: API fuzzing over the real WebSocket', () => {
  it(`${SINGLE} hostile messages and ${BURSTS} bursts of ${BURST}: replies or clean closes, no crash, no hang, no internal`, async () => {
    const all = seeds();
    expect(Object.keys(all).sort()).toEqual(Object.keys(calls).sort());
    const r = rng(SEED);
    let next = 0;
    const burstAt = new Set(
      Array.from({ length: BURSTS }, (_, b) => Math.floor(((b + 0.5) * SINGLE) / BURSTS)),
    );
    const worker = async (): Promise<void> => {
      let c = await Conn.authed(server.port);
      while (next < SINGLE) {
        const i = next++;
        if (!c.open) c = await Conn.authed(server.port);
        if (burstAt.has(i)) {
          // A burst: 200 calls at once on one socket, then every reply.
          const burst = Array.from({ length: BURST }, (_, j) => {
            const s = message(r, 100_000 + i * BURST + j, all);
            return s.kind === 'call input' || s.kind === 'broken envelope'
              ? s
              : message(r, 3 + j * 3, all);
          }).map((s) => ({ ...s, kind: `burst: ${s.kind}` }));
          for (const s of burst) send(c, s);
          for (const s of burst) count(s, await c.next());
          continue;
        }
        const s = message(r, i, all);
        send(c, s);
        const o = await c.next();
        count(s, o);
        if (o.kind === 'hang') c = await Conn.authed(server.port);
      }
      c.close();
    };
    await Promise.all(Array.from({ length: SOCKETS }, worker));

    // Still up, still answering.
    expect(server.alive(), server.output()).toBe(true);
    const after = await Conn.authed(server.port);
    const health = await after.call('app.health', {});
    after.close();
    expect(health.ok).toBe(true);

    mkdirSync(resultsDir, { recursive: true });
    const repro = (s: Sent, n: number, what: string): string => {
      const file = path.join(resultsDir, `fuzz-${what}-${n}.msg`);
      const bytes = typeof s.data === 'string' ? Buffer.from(s.data) : Buffer.from(s.data);
      // An oversize message is kept as its first bytes and its length, not 68 MB.
      writeFileSync(
        file,
        bytes.length > 1024 * 1024
          ? `${bytes.length} bytes beginning ${bytes.subarray(0, 64).toString('hex')}\n`
          : bytes,
      );
      return path.relative(process.cwd(), file);
    };
    const problems = [
      ...tally.internal.map((x, n) => [
        x.sent.call,
        x.sent.mutation,
        'internal',
        clip(x.message, 90),
        repro(x.sent, n, 'internal'),
      ]),
      ...tally.hangs.map((s, n) => [s.call, s.mutation, 'hang', '', repro(s, n, 'hang')]),
      ...tally.uncleanCloses.map((x, n) => [
        x.sent.call,
        x.sent.mutation,
        `close ${x.code}`,
        '',
        repro(x.sent, n, 'close'),
      ]),
    ];
    recordPart({
      part: '1 fuzz',
      order: 1,
      figures: [
        { label: 'messages fuzzed', value: tally.sent, goal: '>= 10000' },
        ...[...tally.byKind].sort().map(([k, n]) => ({ label: `  ${k}`, value: n })),
        {
          label: 'calls covered',
          value: `${tally.callsCovered.size}/${Object.keys(calls).length}`,
          goal: 'all',
        },
        { label: 'replies ok', value: tally.ok },
        ...[...tally.codes].sort().map(([k, n]) => ({ label: `  error ${k}`, value: n })),
        ...[...tally.closes].sort().map(([k, n]) => ({ label: `  socket closed ${k}`, value: n })),
        { label: 'server crashes', value: server.alive() ? 0 : 1, goal: '0' },
        { label: 'hangs (no reply in 30 s)', value: tally.hangs.length, goal: '0' },
        { label: "replies with code 'internal'", value: tally.internal.length, goal: '0' },
        { label: 'closes without a reason', value: tally.uncleanCloses.length, goal: '0' },
      ],
      tables: problems.length
        ? [
            {
              title: 'problems (message saved for reproduction)',
              header: ['call', 'mutation', 'outcome', 'message', 'saved as'],
              rows: problems,
            },
          ]
        : [],
    });
    expect(tally.sent).toBeGreaterThanOrEqual(10_000);
    expect(tally.callsCovered.size).toBe(Object.keys(calls).length);
    expect(tally.hangs.length).toBe(0);
    expect(tally.uncleanCloses.length).toBe(0);
    expect(tally.internal.map((x) => `${x.sent.call} (${x.sent.mutation}): ${x.message}`)).toEqual(
      [],
    );
  });
});
