import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import { readPack } from '../../../main/packs/packReader';
import type { PackList, Progress } from '../../../preload/contract';
import { cleanupTmp, fixturePacks, repoRoot, testAllow, tmpDir } from '../../support/tmp';

afterEach(cleanupTmp);

const textTiny = path.join(fixturePacks, 'text-tiny');

function setup(models = tmpDir()) {
  const home = tmpDir();
  const app = composeApp(resolveConfig('headless', repoRoot, { home, models, allow: testAllow }));
  return { app, home, models, library: path.join(home, 'library') };
}

function copyPack(from: string): string {
  const dir = path.join(tmpDir(), path.basename(from));
  cpSync(from, dir, { recursive: true });
  return dir;
}

async function list(app: ReturnType<typeof setup>['app']): Promise<PackList> {
  const r = await app.dispatcher.dispatch('packs.list', {});
  if (!r.ok) throw new Error(r.error.message);
  return r.value as PackList;
}

describe('pack reader', () => {
  it('reads the fixture packs', async () => {
    for (const name of readdirSync(fixturePacks)) {
      const r = await readPack(path.join(fixturePacks, name));
      expect(r.ok, name).toBe(true);
    }
  });

  it('names the file and the reason for a bad pack', async () => {
    const dir = copyPack(textTiny);
    writeFileSync(path.join(dir, 'manifest.json'), '{"format": 1,');
    const r1 = await readPack(dir);
    expect(r1).toMatchObject({ ok: false, problem: { file: 'manifest.json' } });

    const dir2 = copyPack(textTiny);
    const m = JSON.parse(readFileSync(path.join(dir2, 'manifest.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(path.join(dir2, 'manifest.json'), JSON.stringify({ ...m, kind: 'music-lm' }));
    const r2 = await readPack(dir2);
    expect(r2.ok).toBe(false);
    if (!r2.ok) expect(r2.problem.message).toContain('kind');

    const dir3 = copyPack(textTiny);
    writeFileSync(
      path.join(dir3, 'manifest.json'),
      JSON.stringify({ ...m, model: { ...(m.model as object), onnx: '../../etc/passwd' } }),
    );
    const r3 = await readPack(dir3);
    expect(r3.ok).toBe(false);
    if (!r3.ok) expect(r3.problem.message).toContain('relative path inside the pack');

    const dir4 = copyPack(textTiny);
    writeFileSync(path.join(dir4, 'tokenizer.json'), '');
    const r4 = await readPack(dir4);
    expect(r4).toMatchObject({
      ok: false,
      problem: { file: 'tokenizer.json', message: expect.stringContaining('empty') },
    });
  });
});

describe('pack service', () => {
  it('lists bundled packs and reports bad ones without hiding good ones', async () => {
    const models = tmpDir();
    cpSync(textTiny, path.join(models, 'text-tiny'), { recursive: true });
    cpSync(textTiny, path.join(models, 'broken'), { recursive: true });
    writeFileSync(path.join(models, 'broken', 'manifest.json'), 'not json');
    const { app } = setup(models);
    const l = await list(app);
    expect(l.packs.map((p) => p.id)).toEqual(['orrery-text-tiny']);
    expect(l.packs[0]).toMatchObject({
      kind: 'text-lm',
      location: 'bundled',
      saes: [{ hook: 'blocks.1.hook_resid_post', dSae: 64 }],
    });
    expect(l.problems).toHaveLength(1);
    expect(l.problems[0]?.dir).toContain('broken');
  });

  it('imports a pack with progress, then refuses the same id twice', async () => {
    const { app, library } = setup();
    const seen: Progress[] = [];
    app.events.subscribe((m) => {
      if (m.event === 'job.progress') seen.push(m.payload);
    });
    const r = await app.dispatcher.dispatch('packs.import', { from: textTiny, jobId: 'imp-1' });
    expect(r).toMatchObject({ ok: true, value: { id: 'orrery-text-tiny', location: 'library' } });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toMatchObject({ jobId: 'imp-1' });
    expect(seen.at(-1)?.done).toBe(seen.at(-1)?.total);
    expect(existsSync(path.join(library, 'orrery-text-tiny', 'below.onnx'))).toBe(true);
    expect((await list(app)).packs.map((p) => p.location)).toEqual(['library']);
    const again = await app.dispatcher.dispatch('packs.import', { from: textTiny });
    expect(again).toMatchObject({ ok: false, error: { code: 'bad_pack' } });
  });

  it('a cancelled import leaves nothing behind', async () => {
    const { app, library } = setup();
    app.events.subscribe((m) => {
      if (m.event === 'job.progress' && m.payload.stage.startsWith('copying'))
        void app.dispatcher.dispatch('jobs.cancel', { jobId: 'imp-2' });
    });
    const r = await app.dispatcher.dispatch('packs.import', { from: textTiny, jobId: 'imp-2' });
    expect(r).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(existsSync(library) ? readdirSync(library) : []).toEqual([]);
    expect((await list(app)).packs).toEqual([]);
  });

  it('removes library packs but never bundled ones', async () => {
    const models = tmpDir();
    cpSync(path.join(fixturePacks, 'emoji-tiny'), path.join(models, 'emoji-tiny'), {
      recursive: true,
    });
    const { app } = setup(models);
    expect(await app.dispatcher.dispatch('packs.import', { from: textTiny })).toMatchObject({
      ok: true,
    });
    expect(
      await app.dispatcher.dispatch('packs.remove', { id: 'orrery-emoji-tiny' }),
    ).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    expect(await app.dispatcher.dispatch('packs.remove', { id: 'orrery-text-tiny' })).toEqual({
      ok: true,
      value: { removed: true },
    });
    expect(await app.dispatcher.dispatch('packs.remove', { id: 'orrery-text-tiny' })).toMatchObject(
      { ok: false, error: { code: 'not_found' } },
    );
  });

  it('imports a zipped pack, and refuses zips that escape their folder or are not zips', async () => {
    const { app, library } = setup();
    const files: Record<string, Uint8Array> = {};
    for (const f of walk(textTiny))
      files[`text-tiny/${path.relative(textTiny, f)}`] = readFileSync(f);
    const zip = path.join(tmpDir(), 'text-tiny.zip');
    writeFileSync(zip, zipSync(files));
    const r = await app.dispatcher.dispatch('packs.import', { from: zip, jobId: 'zip-1' });
    expect(r).toMatchObject({ ok: true, value: { id: 'orrery-text-tiny', location: 'library' } });
    expect(existsSync(path.join(library, 'orrery-text-tiny', 'tokenizer.json'))).toBe(true);

    const evil = path.join(tmpDir(), 'evil.zip');
    writeFileSync(
      evil,
      zipSync({
        '../../escaped.txt': new Uint8Array([1]),
        'manifest.json': new Uint8Array([123, 125]),
      }),
    );
    const bad = await app.dispatcher.dispatch('packs.import', { from: evil });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_pack' } });
    if (!bad.ok) expect(bad.error.message).toContain('outside the pack');

    const notZip = path.join(tmpDir(), 'not.zip');
    writeFileSync(notZip, 'plain text');
    expect(await app.dispatcher.dispatch('packs.import', { from: notZip })).toMatchObject({
      ok: false,
      error: { code: 'bad_pack' },
    });
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}
