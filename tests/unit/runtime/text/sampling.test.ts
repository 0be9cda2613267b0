import { describe, expect, it } from 'vitest';
import {
  argmax,
  candidates,
  Prng,
  sampleToken,
  type SamplingParams,
} from '../../../../main/runtime/text/sampling';

const logitsOf = (probs: number[]): Float32Array => Float32Array.from(probs, (p) => Math.log(p));

function frequencies(
  logits: Float32Array,
  params: SamplingParams,
  draws: number,
  seed = 1,
): number[] {
  const rng = new Prng(seed);
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) {
    const t = sampleToken(logits, params, rng);
    counts[t] = (counts[t] ?? 0) + 1;
  }
  return counts.map((c) => c / draws);
}

describe('Prng', () => {
  it('repeats for a seed and differs across seeds', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const xs = Array.from({ length: 8 }, () => a.next());
    expect(Array.from({ length: 8 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.next())).not.toEqual(xs);
  });

  it('is uniform in [0, 1)', () => {
    const rng = new Prng(7);
    const bins = new Array<number>(10).fill(0);
    const n = 50_000;
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      const bin = Math.floor(u * 10);
      bins[bin] = (bins[bin] ?? 0) + 1;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    for (const b of bins) expect(Math.abs(b / n - 0.1)).toBeLessThan(0.01);
  });
});

describe('argmax', () => {
  it('takes the largest, the lower index on ties, and skips NaN', () => {
    expect(argmax([1, 3, 2])).toBe(1);
    expect(argmax([5, 1, 5])).toBe(0);
    expect(argmax([Number.NaN, -Infinity, -5])).toBe(2);
    expect(argmax([-Infinity, -Infinity])).toBe(0);
    expect(() => argmax([])).toThrow(RangeError);
  });
});

describe('candidates', () => {
  it('top-k keeps exactly the k most likely (ties: lower id), renormalised', () => {
    const c = candidates([1, 5, 3, 5, 2], { temperature: 1, topK: 2, topP: 1 });
    expect(c.ids).toEqual([1, 3]);
    expect(c.probs[0]).toBeCloseTo(0.5, 12);
    expect(c.probs[1]).toBeCloseTo(0.5, 12);
    expect(candidates([1, 5, 3], { temperature: 1, topK: 99, topP: 1 }).ids).toEqual([1, 2, 0]);
  });

  it('top-p keeps the smallest prefix whose mass reaches p', () => {
    const logits = logitsOf([0.5, 0.3, 0.15, 0.05]);
    const two = candidates(logits, { temperature: 1, topK: 0, topP: 0.75 });
    expect(two.ids).toEqual([0, 1]);
    expect(two.probs[0]).toBeCloseTo(0.625, 6);
    expect(two.probs[1]).toBeCloseTo(0.375, 6);
    expect(candidates(logits, { temperature: 1, topK: 0, topP: 0.81 }).ids).toEqual([0, 1, 2]);
    expect(candidates(logits, { temperature: 1, topK: 0, topP: 0.4 }).ids).toEqual([0]);
    expect(candidates(logits, { temperature: 1, topK: 0, topP: 1 }).ids).toEqual([0, 1, 2, 3]);
    // top-k first, then top-p over what is left.
    expect(candidates(logits, { temperature: 1, topK: 3, topP: 0.9 }).ids).toEqual([0, 1, 2]);
  });

  it('applies the temperature: softmax(logits / T)', () => {
    const logits = [0, Math.log(3)];
    const hot = candidates(logits, { temperature: 2, topK: 0, topP: 1 });
    // softmax([0, ln3 / 2]) = [1, √3] / (1 + √3)
    expect(hot.ids).toEqual([1, 0]);
    expect(hot.probs[0]).toBeCloseTo(Math.sqrt(3) / (1 + Math.sqrt(3)), 10);
  });

  it('rejects temperature 0 and a bad top-p', () => {
    expect(() => candidates([1], { temperature: 0, topK: 0, topP: 1 })).toThrow(RangeError);
    expect(() => candidates([1], { temperature: 1, topK: 0, topP: 0 })).toThrow(RangeError);
  });
});

describe('sampleToken', () => {
  const logits = logitsOf([0.5, 0.3, 0.15, 0.05]);

  it('is greedy at temperature 0 and leaves the generator alone', () => {
    const rng = new Prng(3);
    const twin = new Prng(3);
    expect(sampleToken([0.1, 0.7, 0.2], { temperature: 0, topK: 0, topP: 1 }, rng)).toBe(1);
    expect(rng.next()).toBe(twin.next());
  });

  it('draws with the softmax probabilities', () => {
    const f = frequencies(logits, { temperature: 1, topK: 0, topP: 1 }, 40_000);
    [0.5, 0.3, 0.15, 0.05].forEach((p, i) => expect(Math.abs((f[i] ?? 0) - p)).toBeLessThan(0.01));
  });

  it('never draws outside top-k / top-p', () => {
    const k = frequencies(logits, { temperature: 1, topK: 2, topP: 1 }, 20_000);
    expect(k[2]).toBe(0);
    expect(k[3]).toBe(0);
    expect(Math.abs((k[0] ?? 0) - 0.625)).toBeLessThan(0.015);
    const p = frequencies(logits, { temperature: 1, topK: 0, topP: 0.81 }, 20_000);
    expect(p[3]).toBe(0);
    expect(p[2]).toBeGreaterThan(0.1);
  });

  it('a low temperature concentrates, a high one flattens', () => {
    const cold = frequencies(logits, { temperature: 0.2, topK: 0, topP: 1 }, 10_000);
    const warm = frequencies(logits, { temperature: 3, topK: 0, topP: 1 }, 10_000);
    expect(cold[0]).toBeGreaterThan(0.9);
    expect(warm[0]).toBeLessThan(0.4);
    expect(warm[3]).toBeGreaterThan(0.12);
  });

  it('is deterministic for a seed', () => {
    const params = { temperature: 1, topK: 0, topP: 0.95 };
    const run = (seed: number): number[] => {
      const rng = new Prng(seed);
      return Array.from({ length: 64 }, () => sampleToken(logits, params, rng));
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });
});

describe('candidates over a large vocabulary', () => {
  /** The definition: sort the whole vocabulary, cut to k, then to mass p. */
  function reference(logits: Float32Array, p: SamplingParams): number[] {
    const order = Array.from(logits, (_, i) => i).sort(
      (a, b) => (logits[b] ?? 0) - (logits[a] ?? 0) || a - b,
    );
    const top = order.slice(0, p.topK > 0 ? p.topK : order.length);
    const w = top.map((i) =>
      Math.exp(((logits[i] ?? 0) - (logits[top[0] ?? 0] ?? 0)) / p.temperature),
    );
    const total = w.reduce((a, b) => a + b, 0);
    let mass = 0;
    for (let s = 0; s < top.length; s++) {
      mass += (w[s] ?? 0) / total;
      if (mass >= p.topP) return top.slice(0, s + 1);
    }
    return top;
  }

  it('gives exactly the ids of a full sort', () => {
    const rng = new Prng(9);
    for (let trial = 0; trial < 20; trial++) {
      const V = 4096;
      const spread = 1 + rng.next() * 12;
      const logits = Float32Array.from({ length: V }, () => (rng.next() - 0.5) * spread);
      for (const p of [
        { temperature: 0.7, topK: 0, topP: 0.9 },
        { temperature: 1.5, topK: 0, topP: 0.999 },
        { temperature: 1, topK: 50, topP: 1 },
        { temperature: 0.3, topK: 3000, topP: 0.5 },
      ]) {
        expect(candidates(logits, p).ids).toEqual(reference(logits, p));
      }
    }
  });

  it('samples without truncation from the softmax, whatever the order', () => {
    const f = frequencies(logitsOf([0.1, 0.6, 0.3]), { temperature: 1, topK: 0, topP: 1 }, 30_000);
    [0.1, 0.6, 0.3].forEach((p, i) => expect(Math.abs((f[i] ?? 0) - p)).toBeLessThan(0.01));
  });
});
