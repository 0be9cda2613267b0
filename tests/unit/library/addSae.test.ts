/**
 * models.addSae through the real dispatcher of a composed app (real runtime and index workers,
 * real SQLite): the GPT-2 fixture opened with one SAE gains a second at another hook it
 * exposes; the entry lists it, the runtime opens with both and its index builds over the
 * texts. An SAE at a hook the model does not expose, or of the wrong width, is refused by name
 * and leaves manifest.json byte for byte as it was.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OrreryApp } from '../../../main/app/compose';
import type { AddedSaes, OpenedModel, PackList, RuntimeInfo } from '../../../preload/contract';
import { cleanupTmp, repoRoot, tmpDir } from '../../support/tmp';
import { callOk, composeTestApp } from '../../support/composed';

const HF = path.join(repoRoot, 'tests', 'fixtures', 'hf');
const MODEL = path.join(HF, 'gpt2-tiny');
const FIRST = path.join(HF, 'gpt2-tiny-sae', 'blocks.1.hook_resid_pre');
const EXAMPLES = path.join(repoRoot, 'tests', 'fixtures', 'packs', 'text-tiny', 'examples.jsonl');
const NEW_HOOK = 'blocks.2.hook_resid_post';

let app: OrreryApp;
const libraryDir = (): string => app.config.libraryDir;

beforeAll(() => {
  const models = tmpDir();
  cpSync(
    path.join(repoRoot, 'tests', 'fixtures', 'packs', 'text-tiny'),
    path.join(models, 'text'),
    {
      recursive: true,
    },
  );
  app = composeTestApp(models);
});

afterAll(async () => {
  await app.dispose();
  cleanupTmp();
});

const call = <T>(name: string, input: unknown): Promise<T> => callOk<T>(app, name, input);

/** A copy of the fixture SAE with its cfg.json changed by `edit`. */
function saeCopy(edit: (cfg: Record<string, unknown>) => Record<string, unknown>): string {
  const dir = path.join(tmpDir(), 'sae');
  cpSync(FIRST, dir, { recursive: true });
  const cfg = JSON.parse(readFileSync(path.join(dir, 'cfg.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  writeFileSync(path.join(dir, 'cfg.json'), JSON.stringify(edit(cfg)));
  return dir;
}

const atHook = (hook: string) => (cfg: Record<string, unknown>) => ({
  ...cfg,
  hook_name: hook,
  hook_layer: Number(/^blocks\.(\d+)\./.exec(hook)?.[1] ?? 0),
  metadata: { ...(cfg.metadata as object), hook_name: hook },
});

describe('models.addSae', () => {
  it('attaches a second SAE at another exposed hook; runtime and index see it', async () => {
    const opened = await call<OpenedModel>('models.open', {
      dir: MODEL,
      saes: [FIRST],
      examples: EXAMPLES,
      jobId: 'open-for-add',
    });
    const packId = opened.pack.id;
    // The runtime has the entry's engine loaded before the SAE is added.
    const first = await call<RuntimeInfo>('runtime.open', { packId });
    expect(first.saes.map((s) => s.id)).toEqual(['blocks.1.hook_resid_pre']);

    const manifestFile = path.join(opened.pack.dir, 'manifest.json');
    const before = readFileSync(manifestFile, 'utf8');
    const wrongHook = saeCopy(atHook('blocks.7.hook_resid_post'));
    const bad = await app.dispatcher.dispatch('models.addSae', { packId, saes: [wrongHook] });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    expect(bad.ok ? '' : bad.error.message).toMatch(
      /reads blocks\.7\.hook_resid_post, which the model does not expose/,
    );
    const narrow = saeCopy((cfg) => ({ ...atHook(NEW_HOOK)(cfg), d_in: 32 }));
    const bad2 = await app.dispatcher.dispatch('models.addSae', { packId, saes: [narrow] });
    expect(bad2.ok ? '' : bad2.error.message).toMatch(/width 32 \(d_in\)/);
    const again = await app.dispatcher.dispatch('models.addSae', { packId, saes: [FIRST] });
    expect(again.ok ? '' : again.error.message).toMatch(/already attached/);
    expect(readFileSync(manifestFile, 'utf8')).toBe(before);

    const second = saeCopy(atHook(NEW_HOOK));
    const added = await call<AddedSaes>('models.addSae', {
      packId,
      saes: [second],
      jobId: 'add-sae',
    });
    expect(added.added).toMatchObject([{ id: NEW_HOOK, hook: NEW_HOOK, dir: second, dIn: 64 }]);
    expect(added.features).toBeGreaterThan(0);
    expect(added.pack.saes.map((s) => s.id)).toEqual(['blocks.1.hook_resid_pre', NEW_HOOK]);

    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
      saes: { id: string; hook: string; dir: string }[];
    };
    expect(manifest.saes[1]).toEqual({ id: NEW_HOOK, hook: NEW_HOOK, dir: second });
    const list = await call<PackList>('packs.list', {});
    const listed = list.packs.find((p) => p.id === packId);
    expect(listed?.saes.map((s) => s.hook)).toEqual(['blocks.1.hook_resid_pre', NEW_HOOK]);
    // The engine was reloaded: the runtime now offers the new SAE too.
    const now = await call<RuntimeInfo>('runtime.open', { packId });
    expect(now.saes.map((s) => s.id)).toEqual(['blocks.1.hook_resid_pre', NEW_HOOK]);
    expect(await call('index.status', { packId, saeId: NEW_HOOK })).toMatchObject({
      built: true,
      features: added.features,
    });
  }, 120_000);

  it('cancelled while the new index builds: the manifest is put back as it was', async () => {
    const manifestFile = path.join(libraryDir(), 'gpt2-tiny', 'manifest.json');
    const before = readFileSync(manifestFile, 'utf8');
    let cancelled = false;
    const off = app.events.subscribe((m) => {
      if (m.event !== 'job.progress' || m.payload.jobId !== 'add-cancel' || cancelled) return;
      if (/: (examples|activations)$/.test(m.payload.stage)) {
        cancelled = true;
        void app.dispatcher.dispatch('jobs.cancel', { jobId: 'add-cancel' });
      }
    });
    const r = await app.dispatcher.dispatch('models.addSae', {
      packId: 'gpt2-tiny',
      saes: [saeCopy(atHook('blocks.0.hook_resid_mid'))],
      jobId: 'add-cancel',
    });
    off();
    expect(cancelled).toBe(true);
    expect(r).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(readFileSync(manifestFile, 'utf8')).toBe(before);
    const list = await call<PackList>('packs.list', {});
    expect(list.packs.find((p) => p.id === 'gpt2-tiny')?.saes).toHaveLength(2);
  });

  it('refuses a pack that was not opened with "Open model…"', async () => {
    const r = await app.dispatcher.dispatch('models.addSae', {
      packId: 'orrery-text-tiny',
      saes: [FIRST],
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    expect(r.ok ? '' : r.error.message).toMatch(/only to a model opened with "Open model…"/);
  });
});
