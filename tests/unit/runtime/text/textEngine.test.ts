import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrreryError, runtimeInputs } from '../../../../preload/contract';
import type { EngineContext, TextGenerateInput } from '../../../../main/runtime/engine';
import { TopkRanker } from '../../../../main/runtime/saeRank';
import { KeptBefore } from '../../../../main/runtime/text/generation';
import { codedDelta, INFO_EXAMPLES, TextEngine } from '../../../../main/runtime/text/textEngine';
import { loadSae, steer, writeSafetensors } from '../../../../main/sae';
import { fixtureDir, readTextPack } from './helpers';

const SAE = 'res1-64';
const CONTEXT = 64;

type Sampling = Partial<TextGenerateInput['sampling']>;
type DialIn = Record<string, unknown>;

/** A generate input as the API would parse it. */
function input(prompt: string, dials: DialIn[] = [], sampling: Sampling = {}): TextGenerateInput {
  return runtimeInputs.textGenerate.parse({
    packId: 'orrery-text-tiny',
    prompt,
    dials,
    sampling: { maxTokens: 24, temperature: 0, topK: 0, topP: 1, seed: 0, ...sampling },
  });
}

interface Streamed {
  before: number[];
  after: number[];
}

function ctxOf(streamed?: Streamed, signal = new AbortController().signal): EngineContext {
  return {
    signal,
    token: (row, index, tokenId) => {
      if (!streamed) return;
      expect(index).toBe(streamed[row].length);
      streamed[row].push(tokenId);
    },
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OrreryError);
    return `${(e as OrreryError).code}: ${(e as Error).message}`;
  }
  throw new Error('expected an error');
}

const PROMPT = 'And God said, Let there be light';

describe('TextEngine on the text-tiny fixture', () => {
  let engine: TextEngine;
  beforeAll(async () => {
    engine = await TextEngine.load(await readTextPack(fixtureDir), { keepBefore: false });
  });
  afterAll(async () => engine.dispose());

  it('describes the pack: SAEs and the first examples', () => {
    const info = engine.info();
    expect(info.kind).toBe('text-lm');
    expect(info.packId).toBe('orrery-text-tiny');
    expect(info.saes).toEqual([
      { id: SAE, hook: 'blocks.1.hook_resid_post', dIn: 16, dSae: 64, architecture: 'topk' },
    ]);
    const lines = readFileSync(join(fixtureDir, 'examples.jsonl'), 'utf8').trim().split('\n');
    expect(info.examples.length).toBe(Math.min(lines.length, INFO_EXAMPLES));
    const first = JSON.parse(lines[0] ?? '{}') as { text: string; meta: object };
    expect(info.examples[0]).toEqual({ index: 0, name: first.text.slice(0, 60), meta: first.meta });
    expect(info.charset).toBeNull();
  });

  it('generates with one run and no batch when no dial is active; streams both rows', async () => {
    const streamed: Streamed = { before: [], after: [] };
    const out = await engine.generate(input(PROMPT), ctxOf(streamed));
    expect(out.batched).toBe(false);
    expect(out.before.tokenIds.length).toBeGreaterThan(0);
    expect(out.before.tokenIds.length).toBeLessThanOrEqual(24);
    expect(out.after).toEqual(out.before);
    expect(streamed.before).toEqual(out.before.tokenIds);
    expect(streamed.after).toEqual(out.before.tokenIds);
    expect(out.promptTokens[0]).toBe('<|bos|>');
    expect(out.promptTokens.slice(1).join('')).toBe(PROMPT);
    expect(out.before.tokens.join('')).toBe(out.before.text);
    expect(out.before.tokenIds).not.toContain(2);
    expect(engine.tokenizer.decode(out.before.tokenIds)).toBe(out.before.text);
  });

  it('is deterministic for a seed and differs across seeds when sampling', async () => {
    const hot = { temperature: 1, topP: 1, maxTokens: 16 };
    const a = await engine.generate(input(PROMPT, [], { ...hot, seed: 11 }), ctxOf());
    const b = await engine.generate(input(PROMPT, [], { ...hot, seed: 11 }), ctxOf());
    expect(b.before.tokenIds).toEqual(a.before.tokenIds);
    const others = await Promise.all(
      [12, 13, 14].map((seed) => engine.generate(input(PROMPT, [], { ...hot, seed }), ctxOf())),
    );
    expect(others.some((o) => o.before.text !== a.before.text)).toBe(true);
  });

  it.each([
    ['greedy', { temperature: 0 }],
    ['sampled', { temperature: 0.9, topK: 40, topP: 0.95, seed: 5 }],
  ] as const)(
    '%s: the unsteered row of a steered batch is the run with no dials, token for token',
    async (_name, sampling) => {
      const plain = await engine.generate(input(PROMPT, [], sampling), ctxOf());
      for (const method of ['add', 'pin'] as const) {
        const streamed: Streamed = { before: [], after: [] };
        const dials = [{ saeId: SAE, feature: 3, method, value: 4 }];
        const out = await engine.generate(input(PROMPT, dials, sampling), ctxOf(streamed));
        expect(out.batched).toBe(true);
        expect(out.before.tokenIds, method).toEqual(plain.before.tokenIds);
        expect(streamed.before).toEqual(out.before.tokenIds);
        expect(streamed.after).toEqual(out.after.tokenIds);
      }
    },
  );

  it('an add dial with a large value changes the after text', async () => {
    const out = await engine.generate(
      input(PROMPT, [{ saeId: SAE, feature: 3, method: 'add', value: 20 }]),
      ctxOf(),
    );
    expect(out.after.text).not.toBe(out.before.text);
  });

  it('pin to a large value and scale by a large factor change the after text', async () => {
    const pinned = await engine.generate(
      input(PROMPT, [{ saeId: SAE, feature: 3, method: 'pin', value: 10 }]),
      ctxOf(),
    );
    expect(pinned.after.text).not.toBe(pinned.before.text);
    // Scale the feature that is strongest at the last prompt token (in this 2-layer fixture
    // the hook is the last block, so steering a position moves only that position's logits).
    const seen = await engine.active(activeInput(PROMPT, 4), ctxOf());
    const feature = seen.rows[seen.rows.length - 1]?.features[0]?.feature ?? -1;
    expect(feature).toBeGreaterThanOrEqual(0);
    const scaled = await engine.generate(
      input(PROMPT, [{ saeId: SAE, feature, method: 'scale', value: -1000 }]),
      ctxOf(),
    );
    expect(scaled.after.text).not.toBe(scaled.before.text);
  });

  it('pin at the current value and scale 1 change nothing measurable', async () => {
    // Scale 1 is at rest; 1.000001 runs the steered path and must not change the tokens.
    const rest = await engine.generate(
      input(PROMPT, [{ saeId: SAE, feature: 23, method: 'scale', value: 1 }]),
      ctxOf(),
    );
    expect(rest.batched).toBe(false);
    const near = await engine.generate(
      input(PROMPT, [{ saeId: SAE, feature: 23, method: 'scale', value: 1.000001 }]),
      ctxOf(),
    );
    expect(near.batched).toBe(true);
    expect(near.after.tokenIds).toEqual(near.before.tokenIds);

    // Pin a feature to its own value at the last prompt position: the logits there stay put.
    const sae = await loadSae(join(fixtureDir, 'sae/blocks.1.hook_resid_post'));
    const ids = engine.promptIds(PROMPT);
    const n = ids.length;
    const zero = await engine.forward([ids], 0, null, new Float32Array(n * 16));
    const last = zero.hook.slice((n - 1) * 16, n * 16);
    const f = sae.encode(last, 1);
    const feature = f.findIndex((v) => v > 0);
    expect(feature).toBeGreaterThanOrEqual(0);
    const { steer } = await import('../../../../main/sae');
    const { delta } = steer(sae, last, 1, [{ feature, method: 'pin', value: f[feature] ?? 0 }]);
    const steering = new Float32Array(n * 16);
    steering.set(delta, (n - 1) * 16);
    const pinned = await engine.forward([ids], 0, null, steering);
    let m = 0;
    for (let i = 0; i < zero.logits.length; i++) {
      m = Math.max(m, Math.abs((zero.logits[i] ?? 0) - (pinned.logits[i] ?? 0)));
    }
    expect(m).toBeLessThan(1e-5);
  });

  it('pin/scale deltas from the SAE ranker (int8 product in ORT) equal steer() in JS', async () => {
    const sae = await loadSae(join(fixtureDir, 'sae/blocks.1.hook_resid_post'));
    const ids = engine.promptIds(PROMPT);
    const n = ids.length;
    const { hook } = await engine.forward([ids], 0, null, new Float32Array(n * 16));
    const f = sae.encode(hook, n);
    // The strongest feature at the last position (positive there, zero at some others), one
    // active nowhere, and an add on a third: both encode paths and the shortcut are taken.
    const last = f.subarray((n - 1) * 64, n * 64);
    const strong = last.indexOf(Math.max(...last));
    const never = Array.from({ length: 64 }, (_, j) => j).find((j) =>
      Array.from({ length: n }, (_, r) => f[r * 64 + j] ?? 0).every((v) => v === 0),
    );
    expect(never).toBeDefined();
    const coder = await TopkRanker.create(sae, sae.config.k ?? 4, 1);
    try {
      for (const dials of [
        [{ feature: strong, method: 'scale' as const, value: 3 }],
        [{ feature: strong, method: 'pin' as const, value: -2 }],
        [
          { feature: never ?? 0, method: 'pin' as const, value: 5 },
          { feature: (strong + 1) % 64, method: 'add' as const, value: 1.5 },
          { feature: strong, method: 'scale' as const, value: 0 },
        ],
      ]) {
        const want = steer(sae, hook, n, dials).delta;
        const got = await codedDelta({ sae, dials, coder }, hook, n);
        let m = 0;
        for (let i = 0; i < want.length; i++) {
          m = Math.max(m, Math.abs((got[i] ?? 0) - (want[i] ?? 0)));
        }
        expect(want.some((v) => v !== 0)).toBe(true);
        expect(m).toBeLessThan(1e-4);
      }
    } finally {
      await coder.release();
    }
  });

  it('gives the same tokens with and without the KV cache, batched or not', async () => {
    const dials = [
      { saeId: SAE, feature: 3, method: 'add', value: 3 },
      { saeId: SAE, feature: 23, method: 'pin', value: 2 },
    ];
    const inp = input(PROMPT, dials, { maxTokens: 12 });
    const cached = await engine.generateWith(inp, ctxOf(), {});
    const uncached = await engine.generateWith(inp, ctxOf(), { cache: false });
    const separate = await engine.generateWith(inp, ctxOf(), { batched: false });
    expect(cached.batched).toBe(true);
    expect(separate.batched).toBe(false);
    for (const o of [uncached, separate]) {
      expect(o.before.tokenIds).toEqual(cached.before.tokenIds);
      expect(o.after.tokenIds).toEqual(cached.after.tokenIds);
    }
  });

  it('pin, scale and add alone: batched equals two runs and no cache, token for token', async () => {
    // Values large enough to change the text (see the test above for why scale needs so much).
    const seen = await engine.active(activeInput(PROMPT, 4), ctxOf());
    const strongest = seen.rows[seen.rows.length - 1]?.features[0]?.feature ?? -1;
    expect(strongest).toBeGreaterThanOrEqual(0);
    const cases: DialIn[][] = [
      [{ saeId: SAE, feature: 3, method: 'pin', value: 10 }],
      [{ saeId: SAE, feature: strongest, method: 'scale', value: -1000 }],
      [{ saeId: SAE, feature: 3, method: 'add', value: 3 }],
    ];
    const plain = await engine.generate(input(PROMPT, [], { maxTokens: 30 }), ctxOf());
    for (const dials of cases) {
      const inp = input(PROMPT, dials, { maxTokens: 30 });
      const mode = { ignoreEos: true };
      const streamed: Streamed = { before: [], after: [] };
      const batched = await engine.generateWith(inp, ctxOf(streamed), mode);
      const separate = await engine.generateWith(inp, ctxOf(), { ...mode, batched: false });
      const uncached = await engine.generateWith(inp, ctxOf(), { ...mode, cache: false });
      expect(batched.batched).toBe(true);
      // EOS ignored: every row has the whole budget, whatever it generates.
      expect(batched.before.tokenIds).toHaveLength(30);
      expect(batched.after.tokenIds).toHaveLength(30);
      expect(streamed.before).toEqual(batched.before.tokenIds);
      expect(streamed.after).toEqual(batched.after.tokenIds);
      for (const o of [separate, uncached]) {
        expect(o.before.tokenIds).toEqual(batched.before.tokenIds);
        expect(o.after.tokenIds).toEqual(batched.after.tokenIds);
      }
      // "before" is the unsteered run; the dial changes "after".
      const n = plain.before.tokenIds.length;
      expect(batched.before.tokenIds.slice(0, n)).toEqual(plain.before.tokenIds);
      expect(batched.after.tokenIds).not.toEqual(batched.before.tokenIds);
    }
  });

  it('the cache kept in place runs to the end of the context, as a batch and alone', async () => {
    const dials = [{ saeId: SAE, feature: 3, method: 'pin', value: 10 }];
    const inp = input('', dials, { maxTokens: 100 });
    const mode = { ignoreEos: true };
    const cached = await engine.generateWith(inp, ctxOf(), mode);
    const uncached = await engine.generateWith(inp, ctxOf(), { ...mode, cache: false });
    const separate = await engine.generateWith(inp, ctxOf(), { ...mode, batched: false });
    // BOS, then the rest of the context.
    expect(cached.after.tokenIds).toHaveLength(CONTEXT - 1);
    for (const o of [uncached, separate]) {
      expect(o.before.tokenIds).toEqual(cached.before.tokenIds);
      expect(o.after.tokenIds).toEqual(cached.after.tokenIds);
    }
    // A second generation reuses the buffers of the first and gives the same tokens.
    const again = await engine.generateWith(inp, ctxOf(), mode);
    expect(again.after.tokenIds).toEqual(cached.after.tokenIds);
  });

  it('a pinned row and an unsteered row part at EOS; both equal their runs alone', async () => {
    const dials = [{ saeId: SAE, feature: 23, method: 'pin', value: 3 }];
    const sampling = { maxTokens: 30, temperature: 1.3 };
    let unequal = 0;
    for (const seed of [5, 13, 18, 22, 31, 40]) {
      const inp = input('And God said', dials, { ...sampling, seed });
      const batched = await engine.generateWith(inp, ctxOf(), {});
      const separate = await engine.generateWith(inp, ctxOf(), { batched: false });
      expect(batched.before.tokenIds).toEqual(separate.before.tokenIds);
      expect(batched.after.tokenIds).toEqual(separate.after.tokenIds);
      if (batched.before.tokenIds.length !== batched.after.tokenIds.length) unequal++;
    }
    expect(unequal).toBeGreaterThan(0);
  });

  it('the cache grown by new keys/values alone gives the tokens of whole presents', async () => {
    // The fixture's graphs make each present as Concat(past, new): by default the engine
    // fetches only the new positions (KvAppend); wholePresents keeps whole presents.
    const whole = await TextEngine.load(await readTextPack(fixtureDir), {
      wholePresents: true,
      keepBefore: false,
    });
    try {
      const sampling = { maxTokens: 40, temperature: 1.3 };
      let unequal = 0;
      for (const [method, value] of [
        ['pin', 3],
        ['add', 2],
      ] as const) {
        for (const seed of [5, 13, 18, 22]) {
          const dials = [{ saeId: SAE, feature: 23, method, value }];
          const inp = input('And God said', dials, { ...sampling, seed });
          const a = await engine.generateWith(inp, ctxOf(), {});
          const b = await whole.generateWith(inp, ctxOf(), {});
          expect(a.batched).toBe(true);
          expect(b.before.tokenIds).toEqual(a.before.tokenIds);
          expect(b.after.tokenIds).toEqual(a.after.tokenIds);
          if (a.before.tokenIds.length !== a.after.tokenIds.length) unequal++;
        }
      }
      // Some rows left the batch early (EOS), so keep() ran in both caches.
      expect(unequal).toBeGreaterThan(0);
    } finally {
      await whole.dispose();
    }
  });

  it('a row that reaches EOS leaves the batch; the other goes on unchanged', async () => {
    const dials = [{ saeId: SAE, feature: 3, method: 'add', value: 2 }];
    const sampling = { maxTokens: 30, temperature: 1.3 };
    // Seeds where one row stops at EOS well before the other (found by search on the fixture;
    // the assertions below hold for any seed, the length check makes sure the path is taken).
    let unequal = 0;
    for (const seed of [5, 13, 18, 22]) {
      const inp = input('And God said', dials, { ...sampling, seed });
      const batched = await engine.generateWith(inp, ctxOf(), {});
      const separate = await engine.generateWith(inp, ctxOf(), { batched: false });
      const plain = await engine.generate(
        input('And God said', [], { ...sampling, seed }),
        ctxOf(),
      );
      expect(separate.after.tokenIds).toEqual(batched.after.tokenIds);
      expect(batched.before.tokenIds).toEqual(plain.before.tokenIds);
      for (const row of [batched.before, batched.after]) {
        expect(row.tokenIds).not.toContain(2);
        expect(row.tokenIds.length).toBeLessThanOrEqual(30);
      }
      if (batched.before.tokenIds.length !== batched.after.tokenIds.length) unequal++;
    }
    expect(unequal).toBeGreaterThan(0);
  });

  it('an empty prompt starts from BOS', async () => {
    const out = await engine.generate(input('', [], { maxTokens: 5 }), ctxOf());
    expect(out.promptTokens).toEqual(['<|bos|>']);
    expect(out.before.tokenIds.length).toBeGreaterThan(0);
  });

  it('stops at the context limit', async () => {
    const words = 'the light and the darkness '.repeat(20);
    let prompt = '';
    for (const w of words.split(' ')) {
      const next = `${prompt}${w} `;
      if (engine.promptIds(next).length > CONTEXT - 3) break;
      prompt = next;
    }
    const p = engine.promptIds(prompt).length;
    expect(p).toBeGreaterThan(CONTEXT - 10);
    const out = await engine.generate(input(prompt, [], { maxTokens: 100 }), ctxOf());
    expect(out.before.tokenIds.length).toBeLessThanOrEqual(CONTEXT - p);
    expect(p + out.before.tokenIds.length).toBeLessThanOrEqual(CONTEXT);
  });

  it('cancellation stops between tokens', async () => {
    const controller = new AbortController();
    let seen = 0;
    const ctx: EngineContext = {
      signal: controller.signal,
      token: () => {
        seen++;
        if (seen === 3) controller.abort();
      },
    };
    const dials = [{ saeId: SAE, feature: 3, method: 'add', value: 2 }];
    expect(await codeOf(engine.generate(input(PROMPT, dials), ctx))).toMatch(/^cancelled/);
    // Both rows of the batch stream token 3 in the same step, then it stops.
    expect(seen).toBeLessThanOrEqual(4);
    const done = new AbortController();
    done.abort();
    expect(await codeOf(engine.active(activeInput(PROMPT), ctxOf(undefined, done.signal)))).toMatch(
      /^cancelled/,
    );
  });

  it('rejects bad input clearly and keeps serving', async () => {
    const bad: [DialIn[], string, RegExp][] = [
      [[{ saeId: 'nope', feature: 1, method: 'add', value: 1 }], 'unknown SAE', /no SAE "nope"/],
      [
        [{ saeId: SAE, feature: 64, method: 'add', value: 1 }],
        'feature',
        /feature 64 is not in 0…63/,
      ],
      [
        [{ saeId: SAE, feature: 1, method: 'add', value: 1e5, maxActivation: 1 }],
        'absurd add',
        /max activation/,
      ],
      [[{ saeId: SAE, feature: 1, method: 'scale', value: 1e5 }], 'absurd scale', /factor/],
      [
        [
          { saeId: SAE, feature: 1, method: 'pin', value: 1 },
          { saeId: SAE, feature: 1, method: 'scale', value: 2 },
        ],
        'two pins',
        /dial 1 .*already has a pin\/scale dial/,
      ],
    ];
    for (const [dials, what, message] of bad) {
      const err = await codeOf(engine.generate(input(PROMPT, dials), ctxOf()));
      expect(err, what).toMatch(/^bad_input: /);
      expect(err, what).toMatch(message);
    }
    const huge = 'In the beginning God created the heaven and the earth. '.repeat(360);
    expect(huge.length).toBeLessThanOrEqual(20_000);
    expect(await codeOf(engine.generate(input(huge), ctxOf()))).toMatch(
      /^bad_input: the prompt is \d+ tokens; this model's context is 64 tokens/,
    );
    expect(await codeOf(engine.active(activeInput(huge), ctxOf()))).toMatch(/^bad_input/);
    expect(await codeOf(engine.active({ ...activeInput(PROMPT), saeId: 'nope' }, ctxOf()))).toMatch(
      /^bad_input: .*no SAE "nope"/,
    );
    // NaN never reaches the engine: the contract stops it.
    expect(() => input(PROMPT, [{ saeId: SAE, feature: 1, method: 'add', value: NaN }])).toThrow();

    const after = await engine.generate(input(PROMPT), ctxOf());
    expect(after.before.tokenIds.length).toBeGreaterThan(0);
  });

  it('active: top features per token, labelled, and the strongest per feature', async () => {
    const out = await engine.active(activeInput(PROMPT, 3), ctxOf());
    const ids = engine.promptIds(PROMPT);
    expect(out.rows.map((r) => r.label)).toEqual(ids.map((i) => engine.tokenizer.tokenText(i)));
    const sae = await loadSae(join(fixtureDir, 'sae/blocks.1.hook_resid_post'));
    const { hook } = await engine.forward([ids], 0, null, new Float32Array(ids.length * 16));
    const f = sae.encode(hook, ids.length);
    const best = new Map<number, number>();
    out.rows.forEach((row, r) => {
      expect(row.features.length).toBeLessThanOrEqual(3);
      const all = Array.from(f.subarray(r * 64, (r + 1) * 64))
        .map((value, feature) => ({ feature, value }))
        .filter((x) => x.value > 0)
        .sort((a, b) => b.value - a.value || a.feature - b.feature);
      expect(row.features).toEqual(all.slice(0, 3));
      if (r === 0) return; // BOS does not count towards strongest
      for (const { feature, value } of all)
        best.set(feature, Math.max(best.get(feature) ?? 0, value));
    });
    expect(out.strongest).toEqual(
      [...best]
        .map(([feature, value]) => ({ feature, value }))
        .sort((a, b) => b.value - a.value || a.feature - b.feature),
    );
  });
});

function activeInput(prompt: string, topK = 8) {
  return runtimeInputs.textActive.parse({ packId: 'orrery-text-tiny', saeId: SAE, prompt, topK });
}

describe("a dial's ticks share their before row (KeptBefore)", () => {
  let kept: TextEngine;
  let fresh: TextEngine;
  /** Rows of each step the kept engine ran, per call. */
  let steps: number[] = [];
  beforeAll(async () => {
    kept = await TextEngine.load(await readTextPack(fixtureDir));
    fresh = await TextEngine.load(await readTextPack(fixtureDir), { keepBefore: false });
    const step = kept.step.bind(kept);
    kept.step = (rows, ...rest) => {
      steps.push(rows.length);
      return step(rows, ...rest);
    };
  });
  afterAll(async () => {
    await kept.dispose();
    await fresh.dispose();
  });

  const sampled = { maxTokens: 20, temperature: 0.9, seed: 5 };
  const dial = (value: number): DialIn[] => [{ saeId: SAE, feature: 3, method: 'add', value }];

  it('runs the after row alone once the before is kept; before and after as a fresh engine makes them', async () => {
    steps = [];
    const first = await kept.generate(input(PROMPT, dial(8), sampled), ctxOf());
    // the first tick: before and after as one batch
    expect(steps[0]).toBe(2);
    expect(first.batched).toBe(true);
    for (const value of [12, -6]) {
      steps = [];
      const streamed: Streamed = { before: [], after: [] };
      const tick = await kept.generate(input(PROMPT, dial(value), sampled), ctxOf(streamed));
      const want = await fresh.generate(input(PROMPT, dial(value), sampled), ctxOf());
      // every step ran one row: the after row
      expect(steps.length).toBeGreaterThan(0);
      expect(steps.every((rows) => rows === 1)).toBe(true);
      expect(tick.batched).toBe(false);
      expect(tick.before).toEqual(want.before);
      expect(tick.after).toEqual(want.after);
      expect(tick.after.tokenIds).not.toEqual(tick.before.tokenIds);
      // the kept before is streamed too, every token, in order
      expect(streamed.before).toEqual(want.before.tokenIds);
      expect(streamed.after).toEqual(want.after.tokenIds);
    }
    // dials at rest: the kept run serves both rows, with no step at all
    steps = [];
    const rest = await kept.generate(input(PROMPT, [], sampled), ctxOf());
    expect(steps).toEqual([]);
    expect(rest.after).toEqual(first.before);
    expect(rest.before).toEqual(first.before);
  });

  it('makes the before row again for another seed, prompt or budget', async () => {
    await kept.generate(input(PROMPT, dial(8), sampled), ctxOf());
    for (const other of [
      input(PROMPT, dial(8), { ...sampled, seed: 6 }),
      input(`${PROMPT} upon`, dial(8), sampled),
      input(PROMPT, dial(8), { ...sampled, maxTokens: 21 }),
      input(PROMPT, dial(8), { ...sampled, temperature: 0.5 }),
    ]) {
      steps = [];
      const out = await kept.generate(other, ctxOf());
      expect(steps[0]).toBe(2);
      expect(out.before).toEqual((await fresh.generate(other, ctxOf())).before);
    }
  });
});

describe('KeptBefore', () => {
  it('keeps the most recently used few', () => {
    const keep = new KeptBefore(2);
    const plan = (seed: number) => ({
      prompt: [1, 2],
      steering: null,
      params: { temperature: 0, topK: 0, topP: 1 },
      seed,
      limit: 4,
      eos: 2,
      cache: true,
      batched: true,
    });
    const run = (t: number) => ({ text: `t${t}`, tokens: [`t${t}`], tokenIds: [t] });
    keep.set(plan(1), run(1));
    keep.set(plan(2), run(2));
    expect(keep.get(plan(1))).toEqual(run(1)); // 1 is now the most recent
    keep.set(plan(3), run(3));
    expect(keep.get(plan(2))).toBeUndefined();
    expect(keep.get(plan(1))).toEqual(run(1));
    expect(keep.get(plan(3))).toEqual(run(3));
    // what get gives is a copy: changing it changes nothing kept
    const got = keep.get(plan(3));
    got?.tokenIds.push(99);
    expect(keep.get(plan(3))).toEqual(run(3));
  });
});

describe('TextEngine.load', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orrery-text-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects an SAE whose d_in disagrees with d_model, naming the SAE', async () => {
    const pack = join(dir, 'bad-sae');
    cpSync(fixtureDir, pack, { recursive: true });
    const saeDir = join(pack, 'sae/blocks.1.hook_resid_post');
    const cfgPath = join(saeDir, 'cfg.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, d_in: 8 }));
    // Weights that agree with the new cfg: the only fault is the width against the model.
    const dIn = 8;
    const dSae = 64;
    const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.1);
    writeFileSync(
      join(saeDir, 'sae_weights.safetensors'),
      writeSafetensors({
        W_enc: { dtype: 'F32', shape: [dIn, dSae], data: fill(dIn * dSae) },
        W_dec: { dtype: 'F32', shape: [dSae, dIn], data: fill(dSae * dIn) },
        b_enc: { dtype: 'F32', shape: [dSae], data: fill(dSae) },
        b_dec: { dtype: 'F32', shape: [dIn], data: fill(dIn) },
      }),
    );
    await expect(loadSae(saeDir)).resolves.toBeDefined();
    const err = await codeOf(TextEngine.load(await readTextPack(pack)));
    expect(err).toMatch(/^bad_pack: /);
    expect(err).toMatch(/SAE "res1-64"/);
    expect(err).toMatch(/d_in is 8, but the model's activation at this hook has width 16/);
  });

  it('rejects a graph that lacks the text-lm inputs', async () => {
    const pack = join(dir, 'bad-graph');
    cpSync(fixtureDir, pack, { recursive: true });
    const { buildModel } = await import('../../../../main/runtime/onnxGraph');
    writeFileSync(
      join(pack, 'above.onnx'),
      buildModel({
        name: 'identity',
        inputs: [{ name: 'x', type: 'float32', shape: ['batch', 4] }],
        outputs: [{ name: 'y', type: 'float32', shape: ['batch', 4] }],
        nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
        initializers: [],
      }),
    );
    const err = await codeOf(TextEngine.load(await readTextPack(pack)));
    expect(err).toMatch(
      /^bad_pack: .*lack above\.onnx input hook_resid, above\.onnx input steering/,
    );
  });

  it('refuses the single-graph layout of older packs, naming the converter', async () => {
    // The fixture's graph before the split (stacked past_keys/past_values), same weights.
    const pack = join(dir, 'old-layout');
    cpSync(fixtureDir, pack, { recursive: true });
    cpSync(join(fixtureDir, '../../text-legacy/model.onnx'), join(pack, 'model.onnx'));
    const manifestPath = join(pack, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { model: { onnx: unknown } };
    manifest.model.onnx = 'model.onnx';
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const err = await codeOf(TextEngine.load(await readTextPack(pack)));
    expect(err).toMatch(/^bad_pack: .*model\.onnx is the single-graph layout of older packs/);
    expect(err).toMatch(/models\/recipes\/text\/reexport\.py/);
  });
});
