/**
 * Input for the cross-layer bridge figure (bench/bridgeLayer): the text pack's residual stream
 * at another layer than its SAE's (blocks.L.hook_resid_post, exposed from below.onnx by
 * main/bridge/textHooks.ts), over every token of the pack's examples (BOS skipped), written as
 * float32 rows [tokens, d_model] for train_sae.py.
 *   npx tsx bench/bridgeLayer/dump.ts <pack dir> <hook> <out.f32>
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { belowWithHook } from '../../main/bridge/textHooks';
import { lengthBatches } from '../../main/index/build/activations';
import { loadPackCorpus } from '../../main/index/corpus';
import { isHfModel } from '../../main/packs/manifest';
import { readPack } from '../../main/packs/packReader';
import { OnnxSession, type TensorLike } from '../../main/runtime/onnx';

async function main(): Promise<void> {
  const [dir, hook, out] = process.argv.slice(2);
  if (!dir || !hook || !out) throw new Error('usage: dump.ts <pack dir> <hook> <out.f32>');
  const read = await readPack(dir);
  if (!read.ok) throw new Error(read.problem.message);
  const pack = read.pack;
  const m = pack.manifest;
  if (m.kind !== 'text-lm' || isHfModel(m.model)) throw new Error('a split text pack is needed');
  const { d_model: d, n_heads: nHeads, d_head: dHead, context } = m.model;
  const tokenizer = new Tokenizer(
    JSON.parse(await fs.readFile(path.join(pack.dir, m.model.tokenizer), 'utf8')) as object,
    { clean_up_tokenization_spaces: false },
  );
  const { model, output } = await belowWithHook(pack, hook);
  const below = await OnnxSession.create(model, { intraOpThreads: 1 });
  const corpus = await loadPackCorpus(pack, 'auto');
  const ids = corpus.examples.map((e) => [
    m.model.bos_token_id ?? 1,
    ...tokenizer.encode(e.body ?? '', { add_special_tokens: false }).ids.slice(0, context - 1),
  ]);
  const file = await fs.open(out, 'w');
  let rows = 0;
  for (const group of lengthBatches(ids)) {
    const seq = Math.max(...group.map((b) => (ids[b] as number[]).length));
    const flat = new BigInt64Array(group.length * seq);
    const pos = new BigInt64Array(group.length * seq);
    group.forEach((b, g) => {
      for (let s = 0; s < seq; s++) {
        flat[g * seq + s] = BigInt((ids[b] as number[])[s] ?? 0);
        pos[g * seq + s] = BigInt(s);
      }
    });
    const feeds: Record<string, TensorLike> = {};
    for (const i of below.inputs) {
      if (i.name === 'input_ids') feeds[i.name] = { dims: [group.length, seq], data: flat };
      else if (i.name === 'position_ids') feeds[i.name] = { dims: [group.length, seq], data: pos };
      else feeds[i.name] = { dims: [group.length, nHeads, 0, dHead], data: new Float32Array(0) };
    }
    const h = (await below.run(feeds, [output]))[output]?.data;
    if (!(h instanceof Float32Array)) throw new Error(`no ${output}`);
    for (const [g, b] of group.entries()) {
      const n = (ids[b] as number[]).length - 1;
      const part = h.slice((g * seq + 1) * d, (g * seq + 1 + n) * d);
      await file.write(Buffer.from(part.buffer));
      rows += n;
    }
  }
  await file.close();
  await below.release();
  console.log(JSON.stringify({ hook, output, rows, d, out }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
