/**
 * Following a feature through the layers: hook depth order, then bridge.chain through the
 * composed app on a copy of the text fixture given SAEs at two layers and two at one hook (the
 * fixture's SAE folder copied with its hook renamed to blocks.0.hook_resid_post, and copied
 * again under another id): before any bridge the chain is the feature alone with a 'no bridge'
 * stop each way; with a correlation bridge (layer 0 ↔ layer 1) and a decoder bridge built the
 * other way round (copy ↔ layer 1), each link is the best match bridge.matches gives for the
 * link before it, from either end.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OrreryApp } from '../../../main/app/compose';
import { hookDepth, layeredSaes } from '../../../main/bridge/chain';
import type { CallOutput } from '../../../preload/contract';
import { cleanupTmp, fixturePacks, tmpDir } from '../../support/tmp';
import { callOk, composeTestApp } from '../../support/composed';

describe('hook depth', () => {
  it('orders hooks through the blocks and leaves out hooks in no block', () => {
    expect(hookDepth('blocks.0.hook_resid_post')).toBeLessThan(
      hookDepth('blocks.1.hook_resid_pre') as number,
    );
    expect(hookDepth('blocks.1.hook_resid_pre')).toBeLessThan(
      hookDepth('blocks.1.attn.hook_z') as number,
    );
    expect(hookDepth('blocks.1.hook_resid_mid')).toBeLessThan(
      hookDepth('blocks.1.hook_resid_post') as number,
    );
    expect(hookDepth('blocks.10.hook_resid_pre')).toBeGreaterThan(
      hookDepth('blocks.9.hook_resid_post') as number,
    );
    expect(hookDepth('latent')).toBeNull();
    const sorted = layeredSaes([
      { saeId: 'z', hook: 'blocks.2.hook_resid_post' },
      { saeId: 'lat', hook: 'latent' },
      { saeId: 'b', hook: 'blocks.0.hook_resid_post' },
      { saeId: 'a', hook: 'blocks.2.hook_resid_post' },
    ]);
    expect(sorted.map((s) => s.saeId)).toEqual(['b', 'a', 'z']);
  });
});

let app: OrreryApp;
const PACK = 'orrery-text-tiny';
const l0 = { packId: PACK, saeId: 'res0-64' };
const l1 = { packId: PACK, saeId: 'res1-64' };
const copy = { packId: PACK, saeId: 'res1-copy' };

beforeAll(() => {
  const models = tmpDir();
  const dir = path.join(models, 'text-tiny');
  cpSync(path.join(fixturePacks, 'text-tiny'), dir, { recursive: true });
  const own = path.join(dir, 'sae', 'blocks.1.hook_resid_post');
  const at0 = path.join(dir, 'sae', 'blocks.0.hook_resid_post');
  cpSync(own, at0, { recursive: true });
  const cfg = JSON.parse(readFileSync(path.join(at0, 'cfg.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  writeFileSync(
    path.join(at0, 'cfg.json'),
    JSON.stringify({ ...cfg, hook_name: 'blocks.0.hook_resid_post', hook_layer: 0 }),
  );
  cpSync(own, path.join(dir, 'sae', 'copy'), { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    saes: { id: string; hook: string; dir: string }[];
  };
  manifest.saes.push(
    { id: 'res1-copy', hook: 'blocks.1.hook_resid_post', dir: 'sae/copy' },
    { id: 'res0-64', hook: 'blocks.0.hook_resid_post', dir: 'sae/blocks.0.hook_resid_post' },
  );
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  app = composeTestApp(models);
});

afterAll(async () => {
  await app.dispose();
  cleanupTmp();
});

const call = <T>(name: string, input: unknown): Promise<T> => callOk<T>(app, name, input);

type Chain = CallOutput<'bridge.chain'>;
type Matches = CallOutput<'bridge.matches'>;

describe('bridge.chain through the API (text fixture, SAEs at two layers)', () => {
  it('lists the SAEs in layer order and stops where no bridge is built', async () => {
    const c = await call<Chain>('bridge.chain', { ...l1, feature: 3 });
    expect(c.saes.map((s) => s.saeId)).toEqual(['res0-64', 'res1-64', 'res1-copy']);
    expect(c.links).toEqual([
      {
        saeId: 'res1-64',
        hook: 'blocks.1.hook_resid_post',
        feature: 3,
        label: null,
        score: null,
        status: null,
      },
    ]);
    expect(c.stops).toEqual([
      { saeId: 'res1-64', toward: 'res1-copy', why: 'no bridge' },
      { saeId: 'res1-64', toward: 'res0-64', why: 'no bridge' },
    ]);
    const bad = await app.dispatcher.dispatch('bridge.chain', { ...l1, saeId: 'nope', feature: 0 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('follows a feature best match by best match through the built bridges, from either end', async () => {
    await call('bridge.build', { a: l0, b: l1 });
    await call('bridge.build', { a: copy, b: l1 });
    // a layer-1 feature that fired on the corpus
    let start = -1;
    let down: Matches | null = null;
    for (let f = 0; f < 64 && start < 0; f++) {
      const m = await call<Matches>('bridge.matches', { a: l0, b: l1, side: 'b', feature: f });
      if (m.status !== 'silent' && m.matches[0]) {
        start = f;
        down = m;
      }
    }
    if (!down) throw new Error('no layer-1 feature fired');
    const up = await call<Matches>('bridge.matches', {
      a: copy,
      b: l1,
      side: 'b',
      feature: start,
    });
    const c = await call<Chain>('bridge.chain', { ...l1, feature: start });
    expect(c.stops).toEqual([]);
    expect(c.links.map((l) => [l.saeId, l.feature])).toEqual([
      ['res0-64', down.matches[0]?.feature],
      ['res1-64', start],
      ['res1-copy', up.matches[0]?.feature],
    ]);
    // the copy has the same decoder: the feature itself, cosine 1
    expect(c.links[2]).toMatchObject({ feature: start, status: 'shared' });
    expect(c.links[2]?.score).toBeCloseTo(1, 5);
    expect(c.links[0]?.score).toBeCloseTo(down.matches[0]?.score ?? NaN, 6);
    expect(c.links[0]?.status).toBe(down.status);

    // from the layer-0 end: its best layer-1 match, then that one's copy
    const first = c.links[0]?.feature as number;
    const fromL0 = await call<Matches>('bridge.matches', {
      a: l0,
      b: l1,
      side: 'a',
      feature: first,
    });
    const mid = fromL0.matches[0]?.feature as number;
    const again = await call<Chain>('bridge.chain', { ...l0, feature: first });
    expect(again.links.map((l) => [l.saeId, l.feature])).toEqual([
      ['res0-64', first],
      ['res1-64', mid],
      ['res1-copy', mid],
    ]);
    expect(again.links[1]?.score).toBeCloseTo(fromL0.matches[0]?.score ?? NaN, 6);
  }, 120_000);
});
