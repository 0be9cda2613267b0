/** A seeded uniform generator in [-0.5, 0.5) (an LCG): the same draws on every run and machine. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}
