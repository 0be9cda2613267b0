/**
 * The path-policy matrix: every call that takes a path, through the real dispatcher of a
 * composed app, against paths inside an allowed root, outside it, escaping by `..` or a
 * symlink, hidden, relative, with a NUL, very long, and missing vs existing outside (the two
 * refusals must read the same). Then the folder picker (files.list) and desktop grants
 * (files.choose with a chooser standing in for the system dialog).
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { composeApp, type OrreryApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import { pathFields } from '../../../main/files/guard';
import { parseServerArgs } from '../../../main/server/args';
import {
  calls,
  limits,
  PathSchema,
  type CallName,
  type FileListing,
  type Result,
} from '../../../preload/contract';
import { clip, recordPart } from '../../reliability/support/figures';
import { cleanupTmp, repoRoot, tmpDir } from '../../support/tmp';

let root: string;
let outside: string;
let app: OrreryApp;

beforeAll(() => {
  root = tmpDir('orrery-allowed-');
  outside = tmpDir('orrery-outside-');
  mkdirSync(path.join(root, 'texts', 'deeper'), { recursive: true });
  writeFileSync(path.join(root, 'texts', 'a.txt'), 'A paragraph of text.\n');
  writeFileSync(path.join(root, 'labels.jsonl'), '{"index":0,"description":"x"}\n');
  mkdirSync(path.join(root, '.ssh'));
  writeFileSync(path.join(root, '.ssh', 'id_rsa'), 'secret');
  writeFileSync(path.join(outside, 'secret.txt'), 'root:x:0:0\n');
  mkdirSync(path.join(outside, 'folder'));
  symlinkSync(outside, path.join(root, 'link-out'));
  symlinkSync(path.join(root, 'texts'), path.join(root, 'link-in'));
  app = composeApp(
    resolveConfig('headless', repoRoot, { home: tmpDir(), models: tmpDir(), allow: [root] }),
  );
});

/** Every case of the matrix, for the reliability suite's table: call, case, expected, got. */
const rows: string[][] = [];
const row = (call: string, what: string, expected: 'refused' | 'through', r: Result<unknown>) => {
  const got = r.ok
    ? 'through (ok)'
    : r.error.code === 'forbidden' || r.error.code === 'bad_input'
      ? `refused (${r.error.code})`
      : `through (${r.error.code}: ${clip(r.error.message, 50)})`;
  rows.push([call, what, expected, got]);
};

afterAll(async () => {
  await app.dispose();
  cleanupTmp();
  const hostile = rows.filter((r) => r[2] === 'refused');
  const inside = rows.filter((r) => r[2] === 'through');
  recordPart({
    part: '5 path policy',
    order: 5,
    figures: [
      { label: 'path-policy cases (calls × paths)', value: rows.length },
      {
        label: 'paths outside, escaping, hidden, relative, NUL, too long: refused',
        value: hostile.filter((r) => r[3]?.startsWith('refused')).length,
        goal: `${hostile.length}`,
      },
      {
        label: 'paths inside an allowed root: let through',
        value: inside.filter((r) => r[3]?.startsWith('through')).length,
        goal: `${inside.length}`,
      },
      {
        label: 'path cases not as expected',
        value: rows.filter((r) => !r[3]?.startsWith(r[2] ?? '')).length,
        goal: '0',
      },
    ],
    tables: [{ title: 'Path policy matrix', header: ['call', 'path', 'expected', 'got'], rows }],
  });
});

/** Each path-taking call, with the rest of its input valid, the path in `field`. */
const callsWithPaths: { call: CallName; field: string; input: (p: string) => object }[] = [
  { call: 'packs.import', field: 'from', input: (p) => ({ from: p }) },
  ...(['index.status', 'index.build', 'index.map'] as const).map((call) => ({
    call,
    field: 'corpus',
    input: (p: string) => ({ packId: 'no-pack', saeId: 'sae', corpus: p }),
  })),
  {
    call: 'index.search',
    field: 'corpus',
    input: (p) => ({ packId: 'no-pack', saeId: 'sae', corpus: p, query: 'x' }),
  },
  {
    call: 'index.feature',
    field: 'corpus',
    input: (p) => ({ packId: 'no-pack', saeId: 'sae', corpus: p, feature: 0 }),
  },
  {
    call: 'index.titles',
    field: 'corpus',
    input: (p) => ({ packId: 'no-pack', saeId: 'sae', corpus: p, features: [0] }),
  },
  {
    call: 'index.rename',
    field: 'corpus',
    input: (p) => ({ packId: 'no-pack', saeId: 'sae', corpus: p, feature: 0, label: 'x' }),
  },
  {
    call: 'index.importLabels',
    field: 'corpus',
    input: (p) => ({ packId: 'no-pack', saeId: 'sae', corpus: p, from: path.join(root, 'x') }),
  },
  {
    call: 'index.importLabels',
    field: 'from',
    input: (p) => ({ packId: 'no-pack', saeId: 'sae', from: p }),
  },
  {
    call: 'index.importDashboards',
    field: 'corpus',
    input: (p) => ({ packId: 'no-pack', saeId: 'sae', corpus: p, from: path.join(root, 'x') }),
  },
  {
    call: 'index.importDashboards',
    field: 'from',
    input: (p) => ({ packId: 'no-pack', saeId: 'sae', from: p }),
  },
  ...(['index.exportNeuronpedia', 'index.exportMap'] as const).map((call) => ({
    call,
    field: 'corpus',
    input: (p: string) => ({ packId: 'no-pack', saeId: 'sae', corpus: p }),
  })),
  ...(['models.inspect', 'models.open'] as const).flatMap((call) => [
    { call, field: 'dir', input: (p: string) => ({ dir: p }) },
    { call, field: 'saes', input: (p: string) => ({ dir: path.join(root, 'texts'), saes: [p] }) },
    {
      call,
      field: 'neuronpedia',
      input: (p: string) => ({ dir: path.join(root, 'texts'), neuronpedia: p }),
    },
    {
      call,
      field: 'examples',
      input: (p: string) => ({ dir: path.join(root, 'texts'), examples: p }),
    },
  ]),
  { call: 'models.addSae', field: 'saes', input: (p) => ({ packId: 'no-pack', saes: [p] }) },
  { call: 'files.list', field: 'dir', input: (p) => ({ dir: p }) },
];

const dispatch = (call: CallName, input: object): Promise<Result<unknown>> =>
  app.dispatcher.dispatch(call, input);

const refusedPaths = (): [string, string][] => [
  ['outside, existing file', path.join(outside, 'secret.txt')],
  ['outside, existing folder', path.join(outside, 'folder')],
  ['outside, missing', path.join(outside, 'no-such-file')],
  ['/etc/shadow', '/etc/shadow'],
  ['.. escape', path.join(root, 'texts', '..', '..', path.basename(outside), 'secret.txt')],
  ['.. escape written raw', `${root}/texts/../../${path.basename(outside)}/folder`],
  ['symlink escape', path.join(root, 'link-out', 'secret.txt')],
  ['symlink escape to a folder', path.join(root, 'link-out')],
  ['hidden inside the root', path.join(root, '.ssh', 'id_rsa')],
  ['relative', 'texts/a.txt'],
  ['relative with ..', '../../etc/passwd'],
  ['very long, outside', path.join(outside, 'a'.repeat(200), 'b'.repeat(200), 'c'.repeat(3000))],
];

const allowedPaths = (): [string, string][] => [
  ['inside, folder', path.join(root, 'texts')],
  ['inside, file', path.join(root, 'labels.jsonl')],
  ['inside, missing', path.join(root, 'not-yet')],
  ['the root itself', root],
  ['symlink that stays inside', path.join(root, 'link-in')],
  ['.. that stays inside', path.join(root, 'texts', 'deeper', '..')],
  ['very long, inside', path.join(root, 'a'.repeat(250), 'b'.repeat(250))],
];

describe('path policy: every path-taking call', () => {
  it('guards every PathSchema field of the contract', () => {
    const unwrap = (s: unknown): unknown => {
      const inner = (s as { unwrap?: () => unknown }).unwrap;
      return typeof inner === 'function' ? unwrap(inner.call(s)) : s;
    };
    const found: string[] = [];
    for (const [name, spec] of Object.entries(calls)) {
      const shape = (spec.input as unknown as { shape?: Record<string, ZodType> }).shape ?? {};
      for (const [field, schema] of Object.entries(shape)) {
        if (unwrap(schema) === PathSchema) found.push(`${name}.${field}`);
      }
    }
    const guarded = Object.entries(pathFields).flatMap(([call, fields]) =>
      Object.keys(fields).map((f) => `${call}.${f}`),
    );
    expect(found.sort()).toEqual(guarded.sort());
    expect(found).toContain('packs.import.from');
    expect(found).toContain('index.importLabels.from');
    const matrix = callsWithPaths.map((c) => `${c.call}.${c.field}`);
    expect(matrix.sort()).toEqual(guarded.sort());
  });

  for (const { call, field, input } of callsWithPaths) {
    describe(`${call} (${field})`, () => {
      it('refuses every path outside the allowed roots with forbidden', async () => {
        const rests = new Set<string>();
        for (const [what, p] of refusedPaths()) {
          const r = await dispatch(call, input(p));
          row(`${call} (${field})`, what, 'refused', r);
          expect(r.ok, what).toBe(false);
          if (r.ok) continue;
          expect(r.error.code, `${what}: ${r.error.message}`).toBe('forbidden');
          // Nothing of the disk shows: past the echo of what was sent, every refusal reads
          // the same (no realpath, no link target, nothing on existence).
          const echo = JSON.stringify(p.length > 200 ? `${p.slice(0, 200)}…` : p);
          expect(r.error.message.startsWith(echo), what).toBe(true);
          rests.add(r.error.message.slice(echo.length));
          expect(r.error.message).not.toMatch(/exist|ENOENT|EACCES|no such|not a (file|folder)/i);
        }
        expect(rests.size).toBe(1);
      });

      it('says the same for a missing path as for an existing one', async () => {
        const existing = path.join(outside, 'secret.txt');
        const missing = path.join(outside, 'secret.tx_');
        const a = await dispatch(call, input(existing));
        const b = await dispatch(call, input(missing));
        row(`${call} (${field})`, 'outside, existing file', 'refused', a);
        row(`${call} (${field})`, 'outside, missing file (same words)', 'refused', b);
        expect(a.ok || b.ok).toBe(false);
        if (a.ok || b.ok) return;
        expect(a.error.code).toBe(b.error.code);
        expect(a.error.message.replace(existing, 'P')).toBe(b.error.message.replace(missing, 'P'));
        // And a folder that exists reads as a file that does not.
        const dir = await dispatch(call, input(path.join(outside, 'folder')));
        const none = await dispatch(call, input(path.join(outside, 'folde_')));
        if (dir.ok || none.ok) throw new Error('outside folder accepted');
        expect(dir.error.message.replace('folder', 'X')).toBe(
          none.error.message.replace('folde_', 'X'),
        );
      });

      it('refuses a NUL and an over-long path at the contract', async () => {
        const nul = await dispatch(call, input(`${root}/texts\0/../../etc/passwd`));
        row(`${call} (${field})`, 'NUL inside the path', 'refused', nul);
        expect(nul).toMatchObject({ ok: false, error: { code: 'bad_input' } });
        const long = await dispatch(call, input(`${root}/${'x'.repeat(limits.pathLength)}`));
        row(`${call} (${field})`, `over ${limits.pathLength} characters`, 'refused', long);
        expect(long).toMatchObject({ ok: false, error: { code: 'bad_input' } });
      });

      it('lets paths inside a root through to the call', async () => {
        for (const [what, p] of allowedPaths()) {
          const r = await dispatch(call, input(p));
          row(`${call} (${field})`, what, 'through', r);
          if (!r.ok) {
            expect(r.error.code, `${what}: ${r.error.message}`).not.toBe('forbidden');
            expect(r.error.code, `${what}: ${r.error.message}`).not.toBe('internal');
          }
        }
      });
    });
  }
});

describe('files.list: the served folder picker', () => {
  it('lists the allowed roots and the packs folders when no folder is given', async () => {
    const r = await dispatch('files.list', {});
    expect(r.ok).toBe(true);
    const listing = (r as { value: FileListing }).value;
    expect(listing.dir).toBeNull();
    expect(listing.entries.map((e) => e.path)).toContain(root);
    expect(listing.entries.map((e) => e.path)).toContain(app.config.bundledPacks);
    expect(listing.entries.every((e) => e.kind === 'dir')).toBe(true);
  });

  it('lists a folder: folders first, sizes, no hidden names, no links that leave the root', async () => {
    const r = await dispatch('files.list', { dir: root });
    expect(r.ok).toBe(true);
    const listing = (r as { value: FileListing }).value;
    expect(listing.dir).toBe(root);
    expect(listing.parent).toBeNull();
    expect(listing.entries.map((e) => [e.name, e.kind, e.size])).toEqual([
      ['link-in', 'dir', 0],
      ['texts', 'dir', 0],
      ['labels.jsonl', 'file', 30],
    ]);
    const sub = await dispatch('files.list', { dir: path.join(root, 'texts') });
    expect(sub).toMatchObject({ ok: true, value: { parent: root } });
  });

  it('answers a missing folder inside a root as not_found', async () => {
    const r = await dispatch('files.list', { dir: path.join(root, 'gone') });
    expect(r).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('has no system dialog in the headless server', async () => {
    const r = await dispatch('files.choose', { use: 'corpus', kind: 'dir' });
    expect(r).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });
});

describe('desktop grants: files.choose', () => {
  it('grants what the person picked, for that use only, and keeps it across launches', async () => {
    const home = tmpDir();
    const picked = { path: path.join(outside, 'secret.txt') as string | null };
    const desktop = (): OrreryApp =>
      composeApp(resolveConfig('desktop', repoRoot, { home, models: tmpDir() }), {
        chooser: () => Promise.resolve(picked.path),
      });
    const a = desktop();
    const labels = { packId: 'no-pack', saeId: 'sae', from: path.join(outside, 'secret.txt') };
    // Not picked yet: refused, like any path the page names.
    expect(await a.dispatcher.dispatch('index.importLabels', labels)).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    const chosen = await a.dispatcher.dispatch('files.choose', { use: 'labels', kind: 'file' });
    expect(chosen).toEqual({ ok: true, value: { path: path.join(outside, 'secret.txt') } });
    const now = await a.dispatcher.dispatch('index.importLabels', labels);
    expect(now.ok ? null : now.error.code).not.toBe('forbidden');
    // The grant is for labels: not a pack, not a corpus, not the file beside it.
    expect(
      await a.dispatcher.dispatch('packs.import', { from: path.join(outside, 'secret.txt') }),
    ).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(
      await a.dispatcher.dispatch('index.importLabels', {
        ...labels,
        from: path.join(outside, 'folder'),
      }),
    ).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // A folder picked for a corpus covers what is inside it.
    picked.path = path.join(outside, 'folder');
    await a.dispatcher.dispatch('files.choose', { use: 'corpus', kind: 'dir' });
    const inside = await a.dispatcher.dispatch('index.status', {
      packId: 'no-pack',
      saeId: 'sae',
      corpus: path.join(outside, 'folder', 'sub'),
    });
    expect(inside.ok ? null : inside.error.code).not.toBe('forbidden');
    // Cancelled: nothing granted.
    picked.path = null;
    expect(await a.dispatcher.dispatch('files.choose', { use: 'pack', kind: 'dir' })).toEqual({
      ok: true,
      value: { path: null },
    });
    await a.dispose();
    const b = desktop();
    const again = await b.dispatcher.dispatch('index.importLabels', labels);
    expect(again.ok ? null : again.error.code).not.toBe('forbidden');
    expect(
      await b.dispatcher.dispatch('files.list', { dir: path.join(outside, 'folder') }),
    ).toMatchObject({ ok: true, value: { dir: path.join(outside, 'folder'), parent: null } });
    await b.dispose();
  });
});

describe('where the roots come from', () => {
  it('takes --allow (repeatable) on the command line; headless defaults to the home folder', () => {
    expect(parseServerArgs(['--allow', '/data/a', '--allow=/data/b']).allow).toEqual([
      '/data/a',
      '/data/b',
    ]);
    expect(parseServerArgs([]).allow).toEqual([]);
    expect(() => parseServerArgs(['--allow'])).toThrow(/--allow needs a value/);
    expect(resolveConfig('headless', repoRoot, { home: tmpDir() }).allow).toEqual([os.homedir()]);
    expect(resolveConfig('desktop', repoRoot, { home: tmpDir() }).allow).toEqual([]);
  });
});
