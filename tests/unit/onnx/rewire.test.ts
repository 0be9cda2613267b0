import { afterAll, describe, expect, it } from 'vitest';
import { decoderFeeds, nextPast } from '../../../main/onnx/decoderFeeds';
import { readGraph } from '../../../main/onnx/graph';
import { allHooks } from '../../../main/onnx/hookNames';
import { findResidualStream, mapResidual } from '../../../main/onnx/residual';
import { rewireChunks, rewireDecoder } from '../../../main/onnx/rewire';
import { verifyRewired } from '../../../main/onnx/verify';
import { OnnxSession, type TensorLike } from '../../../main/runtime/onnx';
import { concat } from '../../../main/runtime/protobuf';
import { decoderModel } from '../../support/decoderGraph';

const sessions: OnnxSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});
async function open(model: Uint8Array): Promise<OnnxSession> {
  const s = await OnnxSession.create(model);
  sessions.push(s);
  return s;
}

const f32 = (t: TensorLike | undefined): Float32Array => {
  if (!(t?.data instanceof Float32Array)) throw new Error('not float32');
  return t.data;
};
const maxDiff = (a: Float32Array, b: Float32Array): number =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] ?? Number.NaN))), 0);

describe.each([
  ['gpt2', false],
  ['gpt2', true],
  ['llama', false],
] as const)('rewiring a %s-shaped decoder (decomposed LayerNorm: %s)', (style, decomposedNorm) => {
  const model = decoderModel({
    style,
    layers: 3,
    dModel: 8,
    vocab: 11,
    context: 16,
    decomposedNorm,
  });
  const map = findResidualStream(model);
  const hooks = allHooks(map.nLayers);

  it('keeps every other byte: no hooks gives the same model, initializers are copied whole', () => {
    expect(Buffer.compare(rewireDecoder(model, { expose: [], steer: [] }), model)).toBe(0);
    const rewired = readGraph(rewireDecoder(model, { expose: hooks, steer: hooks }));
    const before = readGraph(model);
    const raw = (g: ReturnType<typeof readGraph>): Buffer =>
      Buffer.from(concat(g.graphFields.filter((f) => f.n === 5).map((f) => f.raw)));
    expect(raw(rewired).equals(raw(before))).toBe(true);
    expect(rewired.nodes.length).toBe(before.nodes.length + 2 * hooks.length);
  });

  it('exposes each hook before its steering and adds the steering to the stream', async () => {
    const original = await open(model);
    const rewired = await open(
      rewireDecoder(model, { expose: hooks, steer: ['blocks.0.hook_resid_post'] }),
    );
    const feeds = decoderFeeds(rewired.inputs, [3, 5, 7], null);
    const plain = await rewired.run(feeds);
    const orig = await original.run(decoderFeeds(original.inputs, [3, 5, 7], null));
    expect(maxDiff(f32(plain.logits), f32(orig.logits))).toBeLessThan(1e-5);
    expect(
      maxDiff(f32(plain['blocks.0.hook_resid_post']), f32(plain['blocks.1.hook_resid_pre'])),
    ).toBe(0);

    const d = Float32Array.from({ length: 8 }, (_, i) => (i - 3.5) / 4);
    const steered = await rewired.run({
      ...feeds,
      'steer.blocks.0.hook_resid_post': { dims: [1, 1, 8], data: d },
    });
    // resid_post 0 is read before its steering; resid_pre 1 (the same tensor, next hook) after it.
    expect(
      maxDiff(f32(steered['blocks.0.hook_resid_post']), f32(plain['blocks.0.hook_resid_post'])),
    ).toBe(0);
    const pre = f32(plain['blocks.1.hook_resid_pre']);
    const shifted = pre.map((v, i) => v + (d[i % 8] ?? 0));
    expect(maxDiff(f32(steered['blocks.1.hook_resid_pre']), shifted)).toBeLessThan(1e-6);
    expect(
      maxDiff(f32(steered['blocks.0.hook_resid_mid']), f32(plain['blocks.0.hook_resid_mid'])),
    ).toBe(0);
    expect(maxDiff(f32(steered.logits), f32(plain.logits))).toBeGreaterThan(1e-3);
  });

  it('passes its self-check, also with the cache and one-token steps', async () => {
    const original = await open(model);
    const rewired = await open(rewireDecoder(model, { expose: hooks, steer: hooks }));
    const report = await verifyRewired(rewired, map, { original });
    expect(report.checks).toHaveLength(1 + hooks.length);
    // Two prompt tokens then one cached step equals three tokens at once, at every hook.
    const all = await rewired.run(decoderFeeds(rewired.inputs, [4, 2, 9], null));
    const first = await rewired.run(decoderFeeds(rewired.inputs, [4, 2], null));
    const step = await rewired.run(decoderFeeds(rewired.inputs, [9], nextPast(first, null, 2)));
    for (const h of hooks) {
      expect(maxDiff(f32(step[h]), f32(all[h]).subarray(16))).toBeLessThan(1e-5);
    }
  });

  it('checks a steered hook that is not exposed by its effect on the logits', async () => {
    const rewired = await open(
      rewireDecoder(model, { expose: [], steer: ['blocks.2.hook_resid_pre'] }),
    );
    const report = await verifyRewired(rewired, map);
    expect(report.checks).toEqual([
      expect.stringMatching(/^blocks\.2\.hook_resid_pre: steering moves the logits/),
    ]);
  });

  it('fails its self-check, naming the hook, when a steering is not on the stream', async () => {
    // A wrong chain: block 1's resid_mid placed on the attention branch that its Add adds in.
    const g = readGraph(model);
    const chain = mapResidual(g);
    const mid = chain.tensors[3] as string;
    const add = g.producer.get(mid);
    const branch = add?.inputs.find((t) => t !== chain.tensors[2]) as string;
    const wrong = { ...chain, tensors: chain.tensors.map((t) => (t === mid ? branch : t)) };
    const options = { expose: hooks, steer: ['blocks.1.hook_resid_mid'] };
    const rewired = await open(concat(rewireChunks(model, options, wrong).chunks));
    await expect(verifyRewired(rewired, map)).rejects.toThrow(
      /self-check at hook 'blocks\.1\.hook_resid_mid': patching token A's value there does not give token A's logits/,
    );
  });
});
