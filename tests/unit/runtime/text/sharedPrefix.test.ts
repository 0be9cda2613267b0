/**
 * Rows of one batch that have the same tokens so far (the prompt, and the tokens before a
 * dial first changes one) take one `below` pass for the first row; every row takes its keys,
 * values and hook_resid. Checked step by step on the text-tiny fixture with real ORT: the
 * cache below the hook of every row is bit for bit that of the row run alone, the logits
 * equal it, and once the rows part each row's cache and logits are its own run's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowState } from '../../../../main/runtime/text/generation';
import { Prng } from '../../../../main/runtime/text/sampling';
import type { HookSteering } from '../../../../main/runtime/text/steerPlan';
import { TextEngine } from '../../../../main/runtime/text/textEngine';
import { fixtureDir, readTextPack } from './helpers';

const H = 2;
const DH = 8;
const LOWER = [0, 1];

type Row = RowState<ReadonlyMap<string, HookSteering>>;

describe('TextEngine: rows with the same tokens so far share the pass below the hook', () => {
  let engine: TextEngine;
  beforeAll(async () => {
    engine = await TextEngine.load(await readTextPack(fixtureDir), { keepBefore: false });
  });
  afterAll(async () => engine.dispose());

  const row = (ids: number[]): Row => ({
    row: 'after',
    steering: null,
    rng: new Prng(0),
    ids,
    pieces: [],
    stream: engine.tokenizer.stream(),
  });

  /** Each layer's keys and values below the hook, per row, after the steps (len positions). */
  async function run(
    steps: { rows: Row[]; ids: number[][] }[],
  ): Promise<{ logits: Float32Array[]; cache: Float32Array[][] }> {
    const B = steps[0]?.rows.length ?? 0;
    const opened = engine.openCache(B, true);
    const { kv, buffers } = opened;
    if (!kv) throw new Error('no cache');
    try {
      const logits: Float32Array[] = [];
      for (const s of steps) {
        const seq = s.ids[0]?.length ?? 0;
        const ids = BigInt64Array.from(s.ids.flat(), (t) => BigInt(t));
        logits.push((await engine.step(s.rows, ids, seq, kv, buffers)).slice());
      }
      const len = kv.len;
      const block = H * len * DH;
      const cache = Array.from({ length: B }, (_, b) =>
        LOWER.flatMap((l) =>
          [buffers.keys[0]?.[l], buffers.values[0]?.[l]].map((buf) =>
            (buf ?? new Float32Array()).slice(b * block, (b + 1) * block),
          ),
        ),
      );
      return { logits, cache };
    } finally {
      opened.close();
    }
  }

  it('two rows from one prompt: the cache of the row alone, bit for bit; then each its own', async () => {
    const prompt = engine.promptIds('And God said, Let there be light');
    const P = prompt.length;
    const [x, y] = [40, 41];
    const alone = async (next: number) =>
      run([
        { rows: [row([])], ids: [prompt] },
        { rows: [row([next])], ids: [[next]] },
      ]);
    const ax = await alone(x);
    const ay = await alone(y);

    // The prompt step alone: both rows share it.
    const first = await run([{ rows: [row([]), row([])], ids: [prompt, prompt] }]);
    const V = engine.vocab;
    const lastOf = (l: Float32Array, b: number, seq: number): Float32Array =>
      l.subarray((b * seq + seq - 1) * V, (b * seq + seq) * V);
    for (const b of [0, 1]) {
      const prefill = await run([{ rows: [row([])], ids: [prompt] }]);
      first.cache[b]?.forEach((t, i) => expect(t).toEqual(prefill.cache[0]?.[i]));
      const got = lastOf(first.logits[0] ?? new Float32Array(), b, P);
      const want = lastOf(prefill.logits[0] ?? new Float32Array(), 0, P);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i] ?? Number.NaN, 5));
    }

    // Then the rows part (other tokens): each row's cache and logits are its own run's.
    const both = await run([
      { rows: [row([]), row([])], ids: [prompt, prompt] },
      { rows: [row([x]), row([y])], ids: [[x], [y]] },
    ]);
    [ax, ay].forEach((own, b) => {
      both.cache[b]?.forEach((t, i) => {
        const want = own.cache[0]?.[i] ?? new Float32Array();
        expect(t.length).toBe(want.length);
        t.forEach((v, k) => expect(Math.abs(v - (want[k] ?? Number.NaN))).toBeLessThan(1e-5));
      });
      const got = lastOf(both.logits[1] ?? new Float32Array(), b, 1);
      const want = lastOf(own.logits[1] ?? new Float32Array(), 0, 1);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i] ?? Number.NaN, 5));
    });
    expect(ax.logits[1]).not.toEqual(ay.logits[1]);
  });
});
