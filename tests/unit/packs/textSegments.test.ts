// The split text graphs in run order (main/packs/textSegments): one hook (below, above, as every
// earlier pack), several hooks (a middle graph between each pair), and the manifests that
// disagree with themselves, refused with the field named.
import { describe, expect, it } from 'vitest';
import { textSegments } from '../../../main/packs/textSegments';

const hook = (l: number): string => `blocks.${l}.hook_resid_post`;

describe('textSegments', () => {
  it('one hook: below runs 0…H, above the rest', () => {
    const s = textSegments({
      onnx: { below: 'b.onnx', above: 'a.onnx' },
      hook: hook(2),
      n_layers: 4,
    });
    expect(s.map((x) => [x.rel, x.from, x.to, x.layers, x.output])).toEqual([
      ['b.onnx', null, hook(2), [0, 1, 2], 'hook_resid'],
      ['a.onnx', hook(2), null, [3], 'logits'],
    ]);
  });

  it('two hooks: below, the middle graph between them, above', () => {
    const s = textSegments({
      onnx: { below: 'b.onnx', middle: ['m1.onnx'], above: 'a.onnx' },
      hook: hook(1),
      hooks: [hook(1), hook(4)],
      n_layers: 6,
    });
    expect(s.map((x) => [x.rel, x.from, x.to, x.layers, x.output])).toEqual([
      ['b.onnx', null, hook(1), [0, 1], 'hook_resid'],
      ['m1.onnx', hook(1), hook(4), [2, 3, 4], 'next_hook_resid'],
      ['a.onnx', hook(4), null, [5], 'logits'],
    ]);
  });

  it('refuses hooks out of order, a first hook other than model.hook, a middle count that disagrees', () => {
    const onnx = { below: 'b.onnx', middle: ['m1.onnx'], above: 'a.onnx' };
    expect(() =>
      textSegments({ onnx, hook: hook(4), hooks: [hook(4), hook(1)], n_layers: 6 }),
    ).toThrow(/in layer order/);
    expect(() =>
      textSegments({ onnx, hook: hook(2), hooks: [hook(1), hook(4)], n_layers: 6 }),
    ).toThrow(/must be the first of model.hooks/);
    expect(() =>
      textSegments({
        onnx: { below: 'b', above: 'a' },
        hook: hook(1),
        hooks: [hook(1), hook(4)],
        n_layers: 6,
      }),
    ).toThrow(/names 0 graph\(s\); 2 hook\(s\) need 1/);
    expect(() => textSegments({ onnx, hook: hook(1), n_layers: 6 })).toThrow(/names 1 graph/);
    expect(() =>
      textSegments({ onnx, hook: hook(1), hooks: [hook(1), hook(6)], n_layers: 6 }),
    ).toThrow(/model.hooks\[1\] "blocks.6.hook_resid_post" is not/);
  });
});
