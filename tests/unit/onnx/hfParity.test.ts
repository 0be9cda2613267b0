/**
 * Graph surgery on the real Hugging Face fixtures (GPT-2 style and Llama style, exported with
 * optimum's names): every exposed blocks.N.hook_resid_pre/mid/post and the last logits match
 * torch forward hooks (reference.json) within its tolerance, without and with the KV cache,
 * and with a steering vector at blocks.1.hook_resid_mid (downstream hooks, the hook's own
 * value before steering, logits). The table is printed.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decoderFeeds, nextPast } from '../../../main/onnx/decoderFeeds';
import { rewiredModelFile } from '../../../main/onnx/graphCache';
import { allHooks, steerInputName } from '../../../main/onnx/hookNames';
import { verifyRewired } from '../../../main/onnx/verify';
import { OnnxSession, type TensorLike } from '../../../main/runtime/onnx';
import { hfFixture, maxAbsDiff, ParityTable, readHfReference } from '../../support/hfReference';
import { cleanupTmp, tmpDir } from '../../support/tmp';

afterAll(cleanupTmp);

const last = (t: TensorLike | undefined, width: number): Float32Array => {
  const data = t?.data as Float32Array;
  return data.subarray(data.length - width);
};

describe.each(['gpt2-tiny', 'llama-tiny'])('hook parity on the %s fixture', (model) => {
  it('matches torch at every hook, without and with the cache, steered and not', async () => {
    const ref = readHfReference(model);
    const hooks = allHooks(ref.hooks.length / 3);
    expect(hooks).toEqual(ref.hooks);
    const steer = ref.steering.hook;
    const file = path.join(hfFixture(model), 'onnx', 'decoder_model.onnx');
    const rewired = await rewiredModelFile(file, { expose: hooks, steer: [steer] }, tmpDir());
    const session = await OnnxSession.create(rewired.file);
    const original = await OnnxSession.create(file);
    try {
      const report = await verifyRewired(session, rewired.hooks, { original });
      expect(report.checks.length).toBe(2);

      const ids = ref.input_ids;
      const d = ref.steering.vector.length;
      const vocab = ref.no_cache.logits_last.length;
      const steering = {
        [steerInputName(steer)]: { dims: [1, 1, d], data: Float32Array.from(ref.steering.vector) },
      };
      const table = new ParityTable(model, ['no cache', 'with cache', 'steered', 'steered+cache']);
      for (const steered of [false, true]) {
        const given = steered ? steering : {};
        const all = await session.run(decoderFeeds(session.inputs, ids, null, given));
        const prefix = ids.slice(0, ref.with_cache.prefix_length);
        const first = await session.run(decoderFeeds(session.inputs, prefix, null, given));
        const past = nextPast(first, null, prefix.length);
        const step = await session.run(
          decoderFeeds(session.inputs, ids.slice(prefix.length), past, given),
        );
        const noCache = steered ? ref.steering.no_cache : ref.no_cache;
        const withCache = steered ? ref.steering.with_cache : ref.with_cache;
        const [c1, c2] = steered ? ['steered', 'steered+cache'] : ['no cache', 'with cache'];
        for (const h of Object.keys(noCache.hooks)) {
          table.set(h, c1, maxAbsDiff(all[h]?.data as Float32Array, noCache.hooks[h] ?? []));
          table.set(h, c2, maxAbsDiff(last(step[h], d), withCache.hooks[h] ?? []));
        }
        if (steered) {
          const own = `${steer} (before)`;
          table.set(
            own,
            c1,
            maxAbsDiff(
              all[steer]?.data as Float32Array,
              ref.steering.no_cache.at_hook_before_steering,
            ),
          );
          table.set(
            own,
            c2,
            maxAbsDiff(last(step[steer], d), ref.steering.with_cache.at_hook_before_steering),
          );
        }
        table.set(
          'logits (last token)',
          c1,
          maxAbsDiff(last(all.logits, vocab), noCache.logits_last),
        );
        table.set(
          'logits (last token)',
          c2,
          maxAbsDiff(last(step.logits, vocab), withCache.logits_last),
        );
      }
      console.log(`${table.toString()}\nself-check: ${report.checks.join('; ')}`);
      expect(table.worst()).toBeLessThanOrEqual(ref.tolerance);
    } finally {
      await session.release();
      await original.release();
    }
  });
});
