// The split graphs merged into one (main/runtime/text/mergedGraph, textGraphs, textStep) on
// the two-hook fixture (below, middle1, above): a step without pin/scale dials is one run of
// the whole graph and gives the logits of the split graphs run one after the other,
// unsteered and with add steering at both hooks, with and without the cache, the cache grown
// by new keys/values or kept as whole presents; pin/scale steps stop at their hook and give
// the tokens of the split graphs alone, also when the graphs besides the whole one are held
// within one copy of the model (closed and opened again between cases); the plan merges only
// a prefix or a tail, and the graphs it opens stay within that budget.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TextGenerateInput } from '../../../../main/runtime/engine';
import { OnnxSession } from '../../../../main/runtime/onnx';
import type { RowState } from '../../../../main/runtime/text/generation';
import { Prng } from '../../../../main/runtime/text/sampling';
import type { HookSteering } from '../../../../main/runtime/text/steerPlan';
import { TextEngine } from '../../../../main/runtime/text/textEngine';
import { keptBudget, openTextGraphs } from '../../../../main/runtime/text/textGraphs';
import { textSegments } from '../../../../main/packs/textSegments';
import type { SplitTextModel } from '../../../../main/packs/manifest';
import { loadSae, type Sae } from '../../../../main/sae';
import { engineCtx, greedyInput, hooksPack, readTextPack } from './helpers';

const { dir, hooks: HOOKS, saes: SAES, dModel: D, prompt: PROMPT } = hooksPack;
const STEPS = 6;

type Row = RowState<ReadonlyMap<string, HookSteering>>;

/** A constant delta at every hook named, different per hook. */
function addAt(hooks: readonly string[]): ReadonlyMap<string, HookSteering> {
  return new Map(
    hooks.map((h, k) => [
      h,
      { constant: Float32Array.from({ length: D }, (_, i) => Math.sin(i + 3 * k) * 4), coded: [] },
    ]),
  );
}

const ctx = engineCtx;
const input = (dials: TextGenerateInput['dials'], maxTokens = 10): TextGenerateInput =>
  greedyInput(PROMPT, dials, maxTokens);

describe('text graphs merged into one (text-tiny-hooks)', () => {
  let merged: TextEngine;
  let split: TextEngine;
  let inPlace: TextEngine;
  /** Merged, its graphs besides the whole one held within one copy of the model. */
  let tight: TextEngine;
  let modelBytes = 0;
  /** ORT runs of the model's graphs (and the SAE rankers), counted while a test spies. */
  let runs = 0;
  beforeAll(async () => {
    const pack = await readTextPack(dir);
    merged = await TextEngine.load(pack, { keepBefore: false });
    split = await TextEngine.load(pack, { merge: false, keepBefore: false });
    inPlace = await TextEngine.load(pack, { wholePresents: true, keepBefore: false });
    const m = pack.manifest.model as SplitTextModel;
    const onnx = m.onnx;
    if (typeof onnx === 'string') throw new Error('split pack expected');
    modelBytes = (
      await Promise.all(textSegments({ ...m, onnx }).map((seg) => stat(join(dir, seg.rel))))
    ).reduce((sum, st) => sum + st.size, 0);
    tight = await TextEngine.load(pack, { keepBytes: modelBytes, keepBefore: false });
  });
  afterAll(async () => {
    for (const e of [merged, split, inPlace, tight]) await e.dispose();
  });
  afterEach(() => vi.restoreAllMocks());

  const spyRuns = (): void => {
    runs = 0;
    for (const k of ['run', 'runInto'] as const) {
      const orig = OnnxSession.prototype[k];
      vi.spyOn(OnnxSession.prototype, k).mockImplementation(function (
        this: OnnxSession,
        ...args: unknown[]
      ) {
        runs++;
        return (orig as (...a: unknown[]) => ReturnType<OnnxSession['run']>).apply(this, args);
      });
    }
  };

  const row = (engine: TextEngine, ids: number[], steering: Row['steering']): Row => ({
    row: 'after',
    steering,
    rng: new Prng(0),
    ids,
    pieces: [],
    stream: engine.tokenizer.stream(),
  });

  /**
   * The logits of every step: the prompt, then STEPS greedy tokens of row 0 fed to every row
   * (with the cache one token a step, without it the whole sequence). Row b has its own
   * tokens so far (b, so that no two rows are the same) and steering[b].
   */
  async function steps(
    engine: TextEngine,
    steering: Row['steering'][],
    cache: boolean,
  ): Promise<{ logits: Float32Array[]; runsPerStep: number }> {
    const prompt = engine.promptIds(PROMPT);
    const B = steering.length;
    const opened = engine.openCache(B, cache);
    const V = engine.vocab;
    const out: Float32Array[] = [];
    const seqIds = [...prompt];
    runs = 0;
    try {
      let feed = prompt;
      for (let s = 0; s <= STEPS; s++) {
        const rows = steering.map((st, b) => row(engine, [b, ...seqIds.slice(prompt.length)], st));
        const seq = feed.length;
        const ids = BigInt64Array.from(Array.from({ length: B }, () => feed).flat(), (t) =>
          BigInt(t),
        );
        const logits = (await engine.step(rows, ids, seq, opened.kv, opened.buffers)).slice();
        out.push(logits);
        const last = logits.subarray((seq - 1) * V, seq * V);
        let best = 0;
        for (let v = 1; v < V; v++) if ((last[v] ?? 0) > (last[best] ?? 0)) best = v;
        seqIds.push(best);
        feed = cache ? [best] : [...seqIds];
      }
    } finally {
      opened.close();
    }
    return { logits: out, runsPerStep: runs / (STEPS + 1) };
  }

  const maxDiff = (a: Float32Array[], b: Float32Array[]): number => {
    expect(a.length).toBe(b.length);
    let m = 0;
    a.forEach((x, s) => {
      const y = b[s] ?? new Float32Array();
      expect(x.length).toBe(y.length);
      for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs((x[i] ?? 0) - (y[i] ?? 0)));
    });
    return m;
  };

  it('a step without pin/scale is one run of the whole graph, with the split graphs logits', async () => {
    spyRuns();
    const cases: [string, Row['steering'][]][] = [
      ['unsteered', [null]],
      ['add at both hooks', [addAt(HOOKS)]],
      ['add at the second hook', [addAt([HOOKS[1]])]],
      ['a batch: unsteered and add at both hooks', [null, addAt(HOOKS)]],
    ];
    for (const [name, steering] of cases) {
      for (const cache of [true, false]) {
        const want = await steps(split, steering, cache);
        // Three graphs, one run each.
        expect(want.runsPerStep, `${name}, split`).toBe(3);
        for (const [label, engine] of [
          ['new keys/values', merged],
          ['whole presents', inPlace],
        ] as const) {
          const got = await steps(engine, steering, cache);
          expect(got.runsPerStep, `${name}, cache ${cache}, ${label}`).toBe(1);
          expect(
            maxDiff(got.logits, want.logits),
            `${name}, cache ${cache}, ${label}`,
          ).toBeLessThan(1e-5);
        }
      }
    }
    // The steering reaches the logits: add at both hooks moves them.
    const plain = await steps(merged, [null], true);
    const steered = await steps(merged, [addAt(HOOKS)], true);
    expect(maxDiff(plain.logits, steered.logits)).toBeGreaterThan(1e-2);
  });

  it('pin and scale stop at their hook: the split graphs logits and tokens', async () => {
    // Steps: each hook's pin/scale delta from the residual there (steer() in JS).
    const saes = await Promise.all(HOOKS.map((h) => loadSae(join(dir, 'sae', h))));
    const coded = (hook: 0 | 1, method: 'pin' | 'scale', value: number): HookSteering => ({
      constant: null,
      coded: [
        {
          saeId: SAES[hook],
          sae: saes[hook] as Sae,
          dials: [{ feature: 23, method, value, maxActivation: null, members: null }],
          coder: null,
        },
      ],
    });
    spyRuns();
    const stepCases: [string, Row['steering'][], number][] = [
      ['scale at the first hook', [new Map([[HOOKS[0], coded(0, 'scale', 8)]])], 2],
      ['pin at the second hook', [new Map([[HOOKS[1], coded(1, 'pin', 30)]])], 2],
      [
        'scale at the first, pin at the second',
        [
          new Map([
            [HOOKS[0], coded(0, 'scale', 8)],
            [HOOKS[1], coded(1, 'pin', 30)],
          ]),
        ],
        3,
      ],
      [
        'a batch: unsteered and pin at the second hook with add at the first',
        [null, new Map([[HOOKS[1], coded(1, 'pin', 30)], ...addAt([HOOKS[0]])])],
        2,
      ],
    ];
    const plain = await steps(merged, [null], true);
    for (const [name, steering, graphs] of stepCases) {
      for (const cache of [true, false]) {
        const want = await steps(split, steering, cache);
        for (const engine of [merged, inPlace]) {
          const got = await steps(engine, steering, cache);
          // The run stops at each hook with pin/scale; the graphs between run as one.
          expect(got.runsPerStep, `${name}, cache ${cache}`).toBe(graphs);
          expect(maxDiff(got.logits, want.logits), `${name}, cache ${cache}`).toBeLessThan(1e-5);
        }
        if (cache && steering.length === 1) {
          expect(maxDiff(want.logits, plain.logits), `${name} steers`).toBeGreaterThan(1e-3);
        }
      }
    }
    vi.restoreAllMocks();

    // Generation: the tokens of the split graphs alone, batched, one row after the other and
    // without the cache (a batch first runs `below` once for both rows, then apart).
    const dialsAt = (hook: 0 | 1, method: 'pin' | 'scale'): TextGenerateInput['dials'] => [
      { saeId: SAES[hook], feature: 23, method, value: method === 'pin' ? 30 : 8 },
    ];
    const cases = [
      dialsAt(0, 'pin'),
      dialsAt(1, 'pin'),
      dialsAt(0, 'scale'),
      [...dialsAt(0, 'scale'), ...dialsAt(1, 'pin')],
      [...dialsAt(1, 'pin'), { saeId: SAES[0], feature: 9, method: 'add' as const, value: 20 }],
    ];
    for (const dials of cases) {
      for (const mode of [{}, { batched: false }, { cache: false }]) {
        const want = await split.generateWith(input(dials), ctx(), mode);
        const got = await merged.generateWith(input(dials), ctx(), mode);
        const label = `${JSON.stringify(dials)} ${JSON.stringify(mode)}`;
        expect(got.after.tokenIds, label).toEqual(want.after.tokenIds);
        expect(got.before.tokenIds, label).toEqual(want.before.tokenIds);
        if (dials.some((x) => x.method === 'pin')) {
          expect(got.after.tokenIds, `${label} steers`).not.toEqual(got.before.tokenIds);
        }
        // graphs closed for the budget and opened again between cases give the same tokens
        if (!('batched' in mode)) {
          const kept = await tight.generateWith(input(dials), ctx(), mode);
          expect(kept.after.tokenIds, `${label}, kept`).toEqual(want.after.tokenIds);
          expect(kept.before.tokenIds, `${label}, kept`).toEqual(want.before.tokenIds);
        }
      }
    }
  });

  it('plans the whole graph, or a prefix and a tail around the hooks a step stops at', async () => {
    const pack = await readTextPack(dir);
    const m = pack.manifest.model as SplitTextModel;
    const onnx = m.onnx;
    if (typeof onnx === 'string') throw new Error('split pack expected');
    const open = (merge: boolean, keepBytes?: number) =>
      openTextGraphs({
        packId: 'p',
        dir,
        plan: textSegments({ ...m, onnx }),
        model: m,
        hooks: HOOKS,
        threads: 1,
        wholePresents: false,
        merge,
        ...(keepBytes === undefined ? {} : { keepBytes }),
      });
    // a budget of one more copy of the model (its graph files' bytes)
    const graphs = await open(true, modelBytes);
    const unmerged = await open(false);
    try {
      const spans = async (g: typeof graphs, breaks: number[]) =>
        (await g.plan(breaks)).map((x) => `${x.first}-${x.last}`);
      expect(graphs.merged).toBe(true);
      expect(await spans(graphs, [])).toEqual(['0-2']);
      expect(await spans(graphs, [0])).toEqual(['0-0', '1-2']);
      expect(await spans(graphs, [1])).toEqual(['0-1', '2-2']);
      expect(await spans(graphs, [0, 1])).toEqual(['0-0', '1-1', '2-2']);
      // Each graph of a plan reads what the one before gives.
      for (const breaks of [[], [0], [1], [0, 1]]) {
        const plan = await graphs.plan(breaks);
        plan.forEach((g, k) => {
          expect(g.from).toBe(k === 0 ? null : plan[k - 1]?.to);
          expect(g.layers).toEqual(
            Array.from({ length: g.last - g.first + 1 }, (_, i) => g.first + i).filter(
              (l) => l < 2,
            ),
          );
        });
      }
      expect(unmerged.merged).toBe(false);
      expect(await spans(unmerged, [])).toEqual(['0-0', '1-1', '2-2']);

      // Every graph of every plan opened, and the split graphs (the SAE readers'): beside the
      // whole graph, at most one more copy of the model stays open (keptSessions.ts), and a
      // graph closed for it opens again when asked
      const opened = async (g: typeof graphs): Promise<void> => {
        for (const breaks of [[0], [1], [0, 1]])
          for (const x of await g.plan(breaks)) await x.session();
        for (const x of g.segments) await x.session();
      };
      await opened(graphs);
      const held = graphs.kept();
      expect(held.budget).toBe(modelBytes);
      expect(held.bytes).toBeGreaterThan(0);
      expect(held.bytes).toBeLessThanOrEqual(held.budget);
      await opened(graphs);
      expect(graphs.kept().bytes).toBeLessThanOrEqual(held.budget);
      // without the whole graph the split graphs serve every step: none is ever closed
      await opened(unmerged);
      expect(unmerged.kept().budget).toBe(Infinity);
      // the default budget: a quarter of the memory, at least the model
      expect(keptBudget(modelBytes, 64 * modelBytes)).toBe(16 * modelBytes);
      expect(keptBudget(modelBytes, 2 * modelBytes)).toBe(modelBytes);
    } finally {
      await graphs.release();
      await unmerged.release();
    }
  });
});
