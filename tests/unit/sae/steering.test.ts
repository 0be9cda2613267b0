import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isAtRest, loadSae, steer, SteeringError, type Dial, type Sae } from '../../../main/sae';
import { FIXTURES, flat, readReference, type Reference } from './helpers';

/** Bit patterns, so -0 ≠ +0 and every NaN payload counts. */
function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

describe.each(['standard', 'topk', 'gated', 'layer_norm'])('steering on %s', (name) => {
  let ref: Reference;
  let sae: Sae;
  let h: Float32Array;
  beforeAll(async () => {
    ref = readReference(name);
    sae = await loadSae(path.join(FIXTURES, name));
    h = flat(ref.x);
    h[3] = -0; // a negative zero must survive steering that does not touch it
  });

  it('with no dials returns a bit-identical copy and a zero delta', () => {
    const out = steer(sae, h, ref.n, []);
    expect(out.changed).toBe(false);
    expect(out.steered).not.toBe(h);
    expect(bits(out.steered)).toEqual(bits(h));
    expect(out.delta.every((v) => v === 0)).toBe(true);
  });

  it('with every dial at rest (add 0, scale 1) changes nothing, bit for bit', () => {
    const dials: Dial[] = [
      { feature: 1, method: 'add', value: 0 },
      { feature: 2, method: 'scale', value: 1 },
      { feature: 3, method: 'scale', value: 1, mask: [1, 0, 0, 0, 0, 0] },
    ];
    expect(dials.every(isAtRest)).toBe(true);
    const out = steer(sae, h, ref.n, dials);
    expect(out.changed).toBe(false);
    expect(bits(out.steered)).toEqual(bits(h));
  });

  it('a pin is never at rest: pin 0 ablates', () => {
    expect(isAtRest({ method: 'pin', value: 0 })).toBe(false);
    const f = sae.encode(h, ref.n);
    const busy = f.findIndex((v) => v > 0) % sae.dSae;
    const out = steer(sae, h, ref.n, [{ feature: busy, method: 'pin', value: 0 }]);
    expect(out.changed).toBe(true);
    expect(out.delta.some((v) => v !== 0)).toBe(true);
  });

  it('pinning a feature to its own value changes nothing', () => {
    const f = sae.encode(h, ref.n);
    const j = f.findIndex((v) => v > 0) % sae.dSae;
    const row = Math.floor(f.findIndex((v) => v > 0) / sae.dSae);
    const mask = Array.from({ length: ref.n }, (_, r) => (r === row ? 1 : 0));
    const out = steer(sae, h, ref.n, [
      { feature: j, method: 'pin', value: f[row * sae.dSae + j] ?? NaN, mask },
    ]);
    expect(bits(out.steered)).toEqual(bits(h));
  });

  it('returns delta = steered − h, and leaves rows outside every mask untouched', () => {
    const mask = [0, 1, 0, 1, 0, 0];
    const out = steer(sae, h, ref.n, [
      { feature: 4, method: 'add', value: 1.25, mask },
      { feature: 9, method: 'pin', value: 2, mask },
    ]);
    for (let i = 0; i < h.length; i++) {
      // == rather than toBe: where delta is 0, steered keeps h's -0 (checked bitwise below).
      const want = Math.fround((h[i] ?? 0) + (out.delta[i] ?? 0));
      if (out.steered[i] !== want) expect(out.steered[i]).toBe(want);
    }
    for (let r = 0; r < ref.n; r++) {
      const rowBits = (a: Float32Array) => bits(a.subarray(r * sae.dIn, (r + 1) * sae.dIn));
      if (mask[r]) expect(rowBits(out.steered)).not.toEqual(rowBits(h));
      else expect(rowBits(out.steered)).toEqual(rowBits(h));
    }
  });

  it('composes in any order, and repeated adds sum', () => {
    const dials: Dial[] = [
      { feature: 4, method: 'add', value: 1 },
      { feature: 7, method: 'scale', value: 3 },
      { feature: 9, method: 'pin', value: 0.5 },
      { feature: 4, method: 'add', value: 0.5 },
    ];
    const a = steer(sae, h, ref.n, dials);
    const b = steer(sae, h, ref.n, [...dials].reverse());
    for (let i = 0; i < h.length; i++) expect(b.delta[i]).toBeCloseTo(a.delta[i] ?? NaN, 6);
    const once = steer(sae, h, ref.n, [{ feature: 4, method: 'add', value: 1.5 }]);
    const twice = steer(sae, h, ref.n, [
      { feature: 4, method: 'add', value: 1 },
      { feature: 4, method: 'add', value: 0.5 },
    ]);
    for (let i = 0; i < h.length; i++) expect(twice.delta[i]).toBeCloseTo(once.delta[i] ?? NaN, 6);
  });

  it('does not modify its input', () => {
    const copy = h.slice();
    steer(sae, h, ref.n, [{ feature: 0, method: 'pin', value: 5 }]);
    expect(bits(h)).toEqual(bits(copy));
  });
});

describe('dial validation', () => {
  let sae: Sae;
  const n = 2;
  let h: Float32Array;
  beforeAll(async () => {
    sae = await loadSae(path.join(FIXTURES, 'standard'));
    h = new Float32Array(n * sae.dIn).fill(0.25);
  });

  const bad: [string, Dial[], RegExp][] = [
    [
      'a NaN value',
      [{ feature: 1, method: 'add', value: NaN }],
      /dial 0: add on feature 1: value NaN is not a finite number/,
    ],
    [
      'an infinite value',
      [{ feature: 1, method: 'pin', value: -Infinity }],
      /value -Infinity is not a finite number/,
    ],
    ['an absurd value', [{ feature: 1, method: 'add', value: 2e6 }], /exceeds 1000000/],
    [
      'an absurd factor',
      [{ feature: 1, method: 'scale', value: 2e4 }],
      /a factor of 20000 exceeds ±10000/,
    ],
    [
      'a value far beyond the max activation',
      [{ feature: 1, method: 'pin', value: 600, maxActivation: 0.05 }],
      /\|value\| 600 is more than 10000 × the feature's max activation 0\.05/,
    ],
    [
      'a feature out of range',
      [{ feature: 32, method: 'add', value: 1 }],
      /feature 32 is not in 0…31/,
    ],
    ['a fractional feature', [{ feature: 1.5, method: 'add', value: 1 }], /feature 1\.5 is not in/],
    [
      'an unknown method',
      [{ feature: 1, method: 'clamp' as 'pin', value: 1 }],
      /method "clamp" is not add, pin or scale/,
    ],
    [
      'a mask of the wrong length',
      [{ feature: 1, method: 'add', value: 1, mask: [1, 0, 1] }],
      /mask has 3 entries for 2 rows/,
    ],
    [
      'two pin/scale dials on one feature',
      [
        { feature: 3, method: 'pin', value: 1 },
        { feature: 3, method: 'scale', value: 2 },
      ],
      /dial 1: feature 3 already has a pin\/scale dial \(dial 0\)/,
    ],
  ];
  it.each(bad)('rejects %s', (_what, dials, message) => {
    expect(() => steer(sae, h, n, dials)).toThrow(SteeringError);
    expect(() => steer(sae, h, n, dials)).toThrow(message);
  });

  it('accepts a large value within the max-activation bound', () => {
    expect(
      steer(sae, h, n, [{ feature: 1, method: 'add', value: 400, maxActivation: 0.05 }]).changed,
    ).toBe(true);
  });

  it('rejects h of the wrong size or with NaN', () => {
    expect(() => steer(sae, new Float32Array(5), n, [])).toThrow(/h has 5 values/);
    const bad = h.slice();
    bad[0] = NaN;
    expect(() => steer(sae, bad, n, [{ feature: 0, method: 'pin', value: 1 }])).toThrow(
      /not a finite number/,
    );
  });
});
