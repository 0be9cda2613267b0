/**
 * The inference calls end to end through the dispatcher, the real worker thread and real
 * ONNX sessions on the fixture packs.
 */
import { cpSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeApp, type OrreryApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import type { ImageFrameEvent, TextTokenEvent } from '../../../preload/contract';
import { cleanupTmp, fixturePacks, repoRoot, tmpDir } from '../../support/tmp';

let app: OrreryApp;

beforeAll(() => {
  const models = tmpDir();
  for (const p of ['text-tiny', 'emoji-tiny', 'glyphs-tiny']) {
    cpSync(path.join(fixturePacks, p), path.join(models, p), { recursive: true });
  }
  app = composeApp(resolveConfig('headless', repoRoot, { home: tmpDir(), models }));
});

afterAll(async () => {
  await app.dispose();
  cleanupTmp();
});

describe('inference calls through the worker', () => {
  it('opens a text pack and generates before and after, streaming tokens', async () => {
    const info = await app.dispatcher.dispatch('runtime.open', { packId: 'orrery-text-tiny' });
    expect(info).toMatchObject({
      ok: true,
      value: { kind: 'text-lm', saes: [{ id: 'res1-64', dSae: 64 }] },
    });
    const tokens: TextTokenEvent[] = [];
    app.events.subscribe((m) => {
      if (m.event === 'text.token') tokens.push(m.payload);
    });
    const plain = await app.dispatcher.dispatch('text.generate', {
      packId: 'orrery-text-tiny',
      prompt: 'The Lord',
      sampling: { maxTokens: 8, seed: 3 },
    });
    const steered = await app.dispatcher.dispatch('text.generate', {
      packId: 'orrery-text-tiny',
      prompt: 'The Lord',
      dials: [{ saeId: 'res1-64', feature: 5, method: 'add', value: 40 }],
      sampling: { maxTokens: 8, seed: 3 },
      jobId: 'gen-1',
    });
    expect(plain.ok && steered.ok).toBe(true);
    if (!plain.ok || !steered.ok) return;
    const p = plain.value as { before: { tokenIds: number[] }; after: { tokenIds: number[] } };
    const s = steered.value as {
      before: { tokenIds: number[] };
      after: { tokenIds: number[] };
      batched: boolean;
    };
    // the plain run's tokens are the steered run's before row, kept: only the after row ran
    expect(s.batched).toBe(false);
    expect(s.before.tokenIds).toEqual(p.after.tokenIds);
    expect(s.after.tokenIds).not.toEqual(s.before.tokenIds);
    // both rows stream, the kept before too
    for (const row of ['before', 'after'] as const) {
      expect(
        tokens.filter((t) => t.jobId === 'gen-1' && t.row === row).map((t) => t.tokenId),
      ).toEqual(s[row].tokenIds);
    }
  });

  it('answers bad dials with a clear error and keeps serving', async () => {
    const bad = await app.dispatcher.dispatch('text.generate', {
      packId: 'orrery-text-tiny',
      prompt: 'x',
      dials: [{ saeId: 'res1-64', feature: 999, method: 'add', value: 1 }],
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    const nan = await app.dispatcher.dispatch('text.generate', {
      packId: 'orrery-text-tiny',
      prompt: 'x',
      dials: [{ saeId: 'res1-64', feature: 1, method: 'add', value: Number.NaN }],
    });
    expect(nan).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    const wrongKind = await app.dispatcher.dispatch('image.steer', {
      packId: 'orrery-text-tiny',
      source: { example: 0 },
    });
    expect(wrongKind).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    const ok = await app.dispatcher.dispatch('text.active', {
      packId: 'orrery-text-tiny',
      saeId: 'res1-64',
      prompt: 'Thou shalt',
    });
    expect(ok.ok).toBe(true);
  });

  it('steers an emoji pack image: before unchanged, after different', async () => {
    const plain = await app.dispatcher.dispatch('image.steer', {
      packId: 'orrery-emoji-tiny',
      source: { example: 0 },
    });
    const steered = await app.dispatcher.dispatch('image.steer', {
      packId: 'orrery-emoji-tiny',
      source: { example: 0 },
      dials: [{ saeId: 'latent-32', feature: 0, method: 'add', value: 8 }],
    });
    expect(plain.ok && steered.ok).toBe(true);
    if (!plain.ok || !steered.ok) return;
    const p = plain.value as { before: Uint8Array; after: Uint8Array; step: unknown };
    const s = steered.value as { before: Uint8Array; after: Uint8Array };
    expect(s.before).toEqual(p.before);
    expect(p.after).toEqual(p.before);
    expect(s.after).not.toEqual(s.before);
    expect(p.step).toBeNull(); // no session named: nothing saved
  });

  it('sends an image run’s pixels once, as an image.frame event of its job, before the reply with its saved step', async () => {
    const session = await app.dispatcher.dispatch('sessions.create', {
      packId: 'orrery-emoji-tiny',
    });
    if (!session.ok) throw new Error(session.error.message);
    const order: string[] = [];
    let frame: ImageFrameEvent | null = null;
    const off = app.events.subscribe((m) => {
      if (m.event !== 'image.frame') return;
      order.push(`frame ${m.payload.jobId}`);
      frame = m.payload;
    });
    const r = await app.dispatcher
      .dispatch('image.steer', {
        packId: 'orrery-emoji-tiny',
        source: { example: 0 },
        dials: [{ saeId: 'latent-32', feature: 0, method: 'add', value: 8 }],
        sessionId: (session.value as { id: string }).id,
        jobId: 'img-1',
      })
      .finally(() => order.push('reply'));
    off();
    expect(order).toEqual(['frame img-1', 'reply']);
    if (!r.ok) throw new Error(r.error.message);
    const v = r.value as { metrics: unknown; width: number; step: { id: number } | null };
    expect(v.step).not.toBeNull(); // the reply still waits for the step to be saved
    const f = frame as ImageFrameEvent | null;
    // the pixels cross once, in the frame; the reply has the rest
    expect(f?.after.length).toBe((f?.width ?? 0) * (f?.height ?? 0) * 4);
    expect(f?.heatmap.length).toBe(f?.after.length);
    expect(f).not.toHaveProperty('png');
    expect(v).toMatchObject({ framed: true, metrics: f?.metrics, width: f?.width });
    expect(v).not.toHaveProperty('after');
    expect(v).not.toHaveProperty('before');
    expect(v).not.toHaveProperty('heatmap');
  });

  it('renders a typeface specimen from a pack face, before and after a style dial', async () => {
    const info = await app.dispatcher.dispatch('runtime.open', { packId: 'orrery-glyphs-tiny' });
    expect(info).toMatchObject({ ok: true, value: { kind: 'glyph-cvae' } });
    const r = await app.dispatcher.dispatch('glyph.specimen', {
      packId: 'orrery-glyphs-tiny',
      source: { example: 0 },
      text: 'Abc 12',
      dials: [{ saeId: 'style-64', feature: 1, method: 'add', value: 50 }],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const v = r.value as { before: Uint8Array; width: number; height: number };
    expect(v.width).toBeGreaterThan(v.height * 5);
    expect(v.before.length).toBe(v.width * v.height * 4);
    const bad = await app.dispatcher.dispatch('glyph.specimen', {
      packId: 'orrery-glyphs-tiny',
      source: { example: 0 },
      text: 'ß→',
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_input' } });
  });

  it('effect strips: pictures, specimens and text at -2x, 0, +1x, +2x, +4x, cached', async () => {
    type Strip = {
      frames: {
        multiple: number;
        value: number;
        image: { rgba: Uint8Array; width: number; height: number; ssim: number } | null;
        text: { tokens: string[]; changed: boolean[] } | null;
      }[];
      cached: boolean;
    };
    const ask = async (input: Record<string, unknown>): Promise<Strip> => {
      const r = await app.dispatcher.dispatch('runtime.effectStrip', input as never);
      if (!r.ok) throw new Error(r.error.message);
      return r.value as Strip;
    };
    const img = { packId: 'orrery-emoji-tiny', saeId: 'latent-32', feature: 0, typical: 4 };
    const a = await ask(img);
    expect(a.cached).toBe(false);
    expect(a.frames.map((f) => f.multiple)).toEqual([-2, 0, 1, 2, 4]);
    expect(a.frames.map((f) => f.value)).toEqual([-8, 0, 4, 8, 16]);
    // 0x is the input as the steer call draws it (example 0 by default)
    const plain = await app.dispatcher.dispatch('image.steer', {
      packId: 'orrery-emoji-tiny',
      source: { example: 0 },
    });
    if (!plain.ok) throw new Error('steer failed');
    const zero = a.frames[1]?.image;
    expect(zero?.rgba).toEqual((plain.value as { before: Uint8Array }).before);
    expect(zero?.ssim).toBe(1);
    // +4x is the add dial's own output at 16
    const at16 = await app.dispatcher.dispatch('image.steer', {
      packId: 'orrery-emoji-tiny',
      source: { example: 0 },
      dials: [{ saeId: 'latent-32', feature: 0, method: 'add', value: 16 }],
    });
    if (!at16.ok) throw new Error('steer failed');
    expect(a.frames[4]?.image?.rgba).toEqual((at16.value as { after: Uint8Array }).after);
    expect(a.frames[4]?.image?.ssim).toBeLessThan(1);
    const again = await ask(img);
    expect(again.cached).toBe(true);
    expect(again.frames[4]?.image?.rgba).toEqual(a.frames[4]?.image?.rgba);

    const glyph = await ask({
      packId: 'orrery-glyphs-tiny',
      saeId: 'style-64',
      feature: 1,
      typical: 20,
      limit: 200,
      text: 'Ab',
    });
    // a calibrated limit past +4x is one more frame
    expect(glyph.frames.map((f) => f.multiple)).toEqual([-2, 0, 1, 2, 4, 10]);
    expect(glyph.frames[5]?.value).toBe(200);
    const g = glyph.frames[4]?.image;
    expect(g && g.width > g.height).toBe(true);
    expect(g?.rgba.length).toBe((g?.width ?? 0) * (g?.height ?? 0) * 4);

    const text = await ask({
      packId: 'orrery-text-tiny',
      saeId: 'res1-64',
      feature: 5,
      typical: 10,
      prompt: 'The Lord',
      maxTokens: 8,
    });
    expect(text.frames.every((f) => f.text !== null && f.image === null)).toBe(true);
    expect(text.frames[1]?.text?.changed.every((c) => !c)).toBe(true);
    // at +4x (40, the dial the generate test turns) some words change
    expect(text.frames[4]?.text?.changed.some(Boolean)).toBe(true);
  });
});
