/**
 * blocks.N.attn.hook_z on the real Hugging Face fixtures (GPT-2 style with a c_proj bias,
 * Llama style without): found by structure for every block with width n_heads·d_head = 64,
 * exposed and steered through the rewired graph in onnxruntime. Checked against the graph's
 * own weights: resid_mid N = resid_pre N + hook_z N @ W_O (+ b_O), and a steering d at hook_z
 * moves resid_mid N by exactly d @ W_O and leaves resid_pre N and hook_z N as they were.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decoderFeeds } from '../../../main/onnx/decoderFeeds';
import { readGraph } from '../../../main/onnx/graph';
import { rewiredModelFile } from '../../../main/onnx/graphCache';
import { hookName, steerInputName, zHookName } from '../../../main/onnx/hookNames';
import { readInitializerFloats } from '../../../main/onnx/initializerData';
import { mapResidual, type ZSite } from '../../../main/onnx/residual';
import { verifyRewired } from '../../../main/onnx/verify';
import { Prng } from '../../../main/runtime/text/sampling';
import { OnnxSession, type TensorLike } from '../../../main/runtime/onnx';
import { hfFixture, readHfReference } from '../../support/hfReference';
import { cleanupTmp, tmpDir } from '../../support/tmp';

afterAll(cleanupTmp);

const floats = (t: TensorLike | undefined): Float32Array => t?.data as Float32Array;

/** rows [n, k] @ W → [n, m], W as stored ([k, m], or [m, k] when transposed). */
function project(rows: Float32Array, site: ZSite, w: Float32Array): Float32Array {
  const k = site.width;
  const m = w.length / k;
  const n = rows.length / k;
  const out = new Float32Array(n * m);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let i = 0; i < k; i++) {
        s += (rows[r * k + i] ?? 0) * (w[site.transposed ? j * k + i : i * m + j] ?? 0);
      }
      out[r * m + j] = s;
    }
  }
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

describe.each(['gpt2-tiny', 'llama-tiny'])('attn.hook_z on the %s fixture', (model) => {
  const file = path.join(hfFixture(model), 'onnx', 'decoder_model.onnx');
  const chain = mapResidual(readGraph(readFileSync(file)));

  it('is found for every block, 64 wide, at the output projection', () => {
    expect(chain.z.map((s) => s.hook)).toEqual([0, 1, 2].map(zHookName));
    for (const site of chain.z) {
      expect(site.width).toBe(64);
      expect(chain.map.widths.get(site.hook)).toBe(64);
      expect(chain.map.z.get(site.hook)).toBe(site.tensor);
      expect(chain.map.hooks.has(site.hook)).toBe(false);
    }
    expect(chain.map.widths.get(hookName(1, 'hook_resid_mid'))).toBe(64);
    expect(chain.z.every((s) => s.bias !== null)).toBe(model === 'gpt2-tiny');
  });

  it('resid_mid = resid_pre + hook_z @ W_O (+ b_O); steering d there moves resid_mid by d @ W_O', async () => {
    const ref = readHfReference(model);
    const expose = chain.z.flatMap((s, b) => [
      hookName(b, 'hook_resid_pre'),
      s.hook,
      hookName(b, 'hook_resid_mid'),
    ]);
    const steered = zHookName(1);
    const rewired = await rewiredModelFile(file, { expose, steer: [steered] }, tmpDir());
    expect(rewired.hooks.widths.get(steered)).toBe(64);
    const session = await OnnxSession.create(rewired.file);
    try {
      const report = await verifyRewired(session, rewired.hooks);
      expect(report.checks.some((c) => c.startsWith(`${steered}: steering moves`))).toBe(true);
      const ids = ref.input_ids;
      const plain = await session.run(decoderFeeds(session.inputs, ids, null));
      for (const [b, site] of chain.z.entries()) {
        const w = readInitializerFloats(file, site.weight);
        const bias = site.bias ? readInitializerFloats(file, site.bias) : null;
        const pre = floats(plain[hookName(b, 'hook_resid_pre')]);
        const z = floats(plain[site.hook]);
        expect(z.length).toBe(ids.length * 64);
        const out = project(z, site, w);
        const want = out.map((v, i) => v + (pre[i] ?? 0) + (bias?.[i % bias.length] ?? 0));
        const mid = floats(plain[hookName(b, 'hook_resid_mid')]);
        expect(maxDiff(mid, want)).toBeLessThanOrEqual(1e-4);
        // hook_z is not resid_mid minus resid_pre: the identity above is not trivially true.
        expect(maxDiff(mid, pre)).toBeGreaterThan(1e-2);
      }
      const rng = new Prng(7);
      const d = Float32Array.from({ length: 64 }, () => rng.next() * 2 - 1);
      const steer = { [steerInputName(steered)]: { dims: [1, 1, 64], data: d } };
      const moved = await session.run(decoderFeeds(session.inputs, ids, null, steer));
      const site = chain.z[1] as ZSite;
      const dW = project(d, site, readInitializerFloats(file, site.weight));
      const mid1 = hookName(1, 'hook_resid_mid');
      const delta = floats(moved[mid1]).map((v, i) => v - (floats(plain[mid1])[i] ?? 0));
      const want = delta.map((_, i) => dW[i % 64] ?? 0);
      expect(maxDiff(delta, want)).toBeLessThanOrEqual(1e-4);
      expect(Math.max(...want.map(Math.abs))).toBeGreaterThan(1e-2);
      for (const h of [hookName(1, 'hook_resid_pre'), steered]) {
        expect(maxDiff(floats(moved[h]), floats(plain[h]))).toBe(0);
      }
    } finally {
      await session.release();
    }
  });
});
