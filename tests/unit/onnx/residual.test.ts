import { describe, expect, it } from 'vitest';
import { findResidualStream } from '../../../main/onnx/residual';
import { rewireDecoder } from '../../../main/onnx/rewire';
import { buildModel } from '../../../main/runtime/onnxGraph';
import { decoderModel } from '../../support/decoderGraph';

const tiny = (style: 'gpt2' | 'llama', layers = 3): Uint8Array =>
  decoderModel({ style, layers, dModel: 8, vocab: 11, context: 16 });

/** The merged-decoder shape: a top-level If choosing between two branch graphs. */
function mergedDecoder(): Uint8Array {
  return buildModel({
    name: 'merged',
    inputs: [
      { name: 'use_cache_branch', type: 'float32', shape: [1] },
      { name: 'x', type: 'float32', shape: [1] },
    ],
    outputs: [{ name: 'logits', type: 'float32', shape: [1] }],
    initializers: [],
    nodes: [
      { op: 'Cast', inputs: ['use_cache_branch'], outputs: ['cond'], intAttrs: { to: 9 } },
      { op: 'If', inputs: ['cond'], outputs: ['logits'], name: 'optimum::if' },
    ],
  });
}

/** An MLP with no residual connection: x → Relu(x W1) W2 → logits. */
function plainMlp(): Uint8Array {
  const w = Array.from({ length: 16 }, (_, i) => (i % 5) / 5 - 0.4);
  return buildModel({
    name: 'mlp',
    inputs: [{ name: 'x', type: 'float32', shape: ['n', 4] }],
    outputs: [{ name: 'logits', type: 'float32', shape: ['n', 4] }],
    initializers: [
      { name: 'w1', dims: [4, 4], values: w },
      { name: 'w2', dims: [4, 4], values: w },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h'], name: 'fc1' },
      { op: 'Relu', inputs: ['h'], outputs: ['a'], name: 'act' },
      { op: 'MatMul', inputs: ['a', 'w2'], outputs: ['logits'], name: 'fc2' },
    ],
  });
}

describe('finding the residual stream by structure', () => {
  it.each(['gpt2', 'llama'] as const)('maps every block of a %s-shaped decoder', (style) => {
    const map = findResidualStream(tiny(style));
    expect(map.nLayers).toBe(3);
    expect(map.dModel).toBe(8);
    expect(map.hooks.size).toBe(9);
    // resid_post N and resid_pre N+1 are one tensor; pre, mid and post of a block differ.
    expect(map.hooks.get('blocks.0.hook_resid_post')).toBe(
      map.hooks.get('blocks.1.hook_resid_pre'),
    );
    const block = ['pre', 'mid', 'post'].map((k) => map.hooks.get(`blocks.1.hook_resid_${k}`));
    expect(new Set(block).size).toBe(3);
    // resid_pre 0 is the embedding: the Add of two Gathers (gpt2) or the Gather itself (llama).
    expect(map.hooks.get('blocks.0.hook_resid_pre')).toMatch(style === 'gpt2' ? /Add/ : /Gather/);
  });

  it('maps a GPT-2 whose LayerNorms are decomposed into ReduceMean/Sub/Pow/Sqrt/Div', () => {
    const spec = {
      style: 'gpt2',
      layers: 2,
      dModel: 8,
      vocab: 11,
      context: 16,
      decomposedNorm: true,
    } as const;
    const map = findResidualStream(decoderModel(spec));
    expect(map.nLayers).toBe(2);
    expect(map.dModel).toBe(8);
    expect(new Set(map.hooks.values()).size).toBe(5);
  });

  it('refuses a merged decoder and says which file to open instead', () => {
    expect(() => findResidualStream(mergedDecoder())).toThrow(
      expect.objectContaining({
        name: 'OrreryError',
        code: 'bad_input',
        message: expect.stringMatching(
          /'optimum::if' \(If\).*merged decoder.*open onnx\/decoder_model\.onnx instead/s,
        ) as unknown,
      }),
    );
  });

  it('names the node where it stopped in a graph without a residual stream', () => {
    expect(() => findResidualStream(plainMlp())).toThrow(
      expect.objectContaining({
        code: 'bad_input',
        message: expect.stringMatching(
          /Stopped at node 'fc2' \(MatMul\).*no tensor.*normalisation/s,
        ) as unknown,
      }),
    );
  });

  it('names the norm it stopped at when nothing adds a tensor back to its own branch', () => {
    const ones = [1, 1, 1, 1];
    const noResidual = buildModel({
      name: 'norms without residuals',
      inputs: [{ name: 'x', type: 'float32', shape: ['n', 4] }],
      outputs: [{ name: 'logits', type: 'float32', shape: ['n', 4] }],
      initializers: [
        { name: 'g', dims: [4], values: ones },
        { name: 'w', dims: [4, 4], values: [...ones, ...ones, ...ones, ...ones] },
      ],
      nodes: [
        { op: 'LayerNormalization', inputs: ['x', 'g'], outputs: ['n1'], name: 'ln_1' },
        { op: 'MatMul', inputs: ['n1', 'w'], outputs: ['h'], name: 'fc' },
        { op: 'Add', inputs: ['h', 'x'], outputs: ['sum'], name: 'not_normed_after' },
        { op: 'MatMul', inputs: ['sum', 'w'], outputs: ['logits'], name: 'head' },
      ],
    });
    expect(() => findResidualStream(noResidual)).toThrow(
      /Stopped at node 'ln_1' \(LayerNormalization\): its input 'x' feeds a normalisation, but no Add/,
    );
  });

  it('refuses an unknown hook, naming it and the hooks the model has', () => {
    expect(() =>
      rewireDecoder(tiny('gpt2'), { expose: ['blocks.3.hook_resid_pre'], steer: [] }),
    ).toThrow(
      expect.objectContaining({
        code: 'bad_input',
        message: expect.stringMatching(
          /Unknown hook 'blocks\.3\.hook_resid_pre'.*3 blocks/s,
        ) as unknown,
      }),
    );
    expect(() =>
      rewireDecoder(tiny('llama'), { expose: [], steer: ['blocks.0.hook_attn_out'] }),
    ).toThrow(/Unknown hook 'blocks\.0\.hook_attn_out'/);
  });
});
