/**
 * Recipe import is checked against what is installed: the pack, its SAEs, their feature
 * ranges, the step kinds and inputs, and the recipe's nesting; a refused recipe stores nothing.
 */
import { cpSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeApp, type OrreryApp } from '../../../main/app/compose';
import { resolveConfig } from '../../../main/app/config';
import { cleanupTmp, fixturePacks, repoRoot, tmpDir } from '../../support/tmp';

let app: OrreryApp | null = null;
afterEach(async () => {
  await app?.dispose();
  app = null;
  cleanupTmp();
});

const packId = 'orrery-text-tiny';

function start(): OrreryApp {
  const models = tmpDir();
  cpSync(path.join(fixturePacks, 'text-tiny'), path.join(models, 'text-tiny'), { recursive: true });
  app = composeApp(resolveConfig('headless', repoRoot, { home: tmpDir(), models }));
  return app;
}

const sampling = { maxTokens: 4, temperature: 0, topK: 0, topP: 1, seed: 0 };

function recipe(over: { packId?: string; step?: Record<string, unknown> } = {}): unknown {
  return {
    orrery: 'recipe',
    version: 1,
    name: 'checked',
    packId: over.packId ?? packId,
    steps: [
      {
        ref: 1,
        parent: null,
        kind: 'text',
        input: { prompt: 'Thou shalt', sampling },
        dials: [{ saeId: 'res1-64', feature: 5, method: 'add', value: 3 }],
        ...over.step,
      },
    ],
    head: 1,
  };
}

/** `depth` nested objects: {a: {a: … {}}}. */
function nested(depth: number): unknown {
  let v: unknown = {};
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

describe('recipe import', () => {
  it('accepts a recipe for an installed pack, its SAE and a feature it has', async () => {
    const a = start();
    const r = await a.dispatcher.dispatch('sessions.importRecipe', { recipe: recipe() });
    expect(r).toMatchObject({ ok: true, value: { session: { packId, name: 'checked' } } });
  });

  it('refuses each bad recipe with a named error and stores nothing', async () => {
    const a = start();
    const cases: [string, unknown, string, RegExp][] = [
      [
        'a pack that is not installed',
        recipe({ packId: 'orrery-nowhere' }),
        'not_found',
        /pack "orrery-nowhere", which is not installed/,
      ],
      [
        'an SAE the pack does not have',
        recipe({ step: { dials: [{ saeId: 'res9-1k', feature: 1, method: 'add', value: 1 }] } }),
        'bad_input',
        /recipe step 1: SAE "res9-1k" is not in pack orrery-text-tiny \(it has res1-64\)/,
      ],
      [
        'feature 9,999,999 of a 64-feature SAE',
        recipe({
          step: { dials: [{ saeId: 'res1-64', feature: 9_999_999, method: 'add', value: 1 }] },
        }),
        'bad_input',
        /feature 9999999 is out of range; SAE res1-64 has 64 features \(0…63\)/,
      ],
      [
        'a step of another kind than the pack',
        recipe({ step: { kind: 'image', input: { source: { example: 0 } } } }),
        'bad_input',
        /is of kind "image", but orrery-text-tiny is a text-lm pack/,
      ],
      [
        'an input the run call would refuse',
        recipe({ step: { input: { prompt: 42, sampling } } }),
        'bad_input',
        /recipe step 1: input prompt/,
      ],
      [
        'inputs nested 40 deep',
        recipe({ step: { input: { prompt: 'x', extra: nested(40) } } }),
        'too_large',
        /the limit \(recipeDepth\) is 16/,
      ],
      ['not a recipe', { orrery: 'recipe', version: 1 }, 'bad_input', /not an Orrery recipe/],
    ];
    for (const [what, r, code, message] of cases) {
      const out = await a.dispatcher.dispatch('sessions.importRecipe', { recipe: r });
      expect(out.ok, what).toBe(false);
      if (out.ok) continue;
      expect(out.error.code, what).toBe(code);
      expect(out.error.message, what).toMatch(message);
    }
    const list = await a.dispatcher.dispatch('sessions.list', {});
    expect(list).toEqual({ ok: true, value: [] });
  });
});
