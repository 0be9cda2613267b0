/**
 * Clusters of the 3D map: k-means (k-means++ seeding, seeded PRNG) on the positions, and a
 * label per cluster from its members' labels (the most common metadata label, else the most
 * common label of any source), with how many members carry it.
 */
import { mulberry32 } from './rng';

export interface Clustering {
  k: number;
  /** [n] cluster of each point */
  assign: Uint32Array;
  /** [k, 3] */
  centroids: Float32Array;
  sizes: Uint32Array;
}

export function clusterCount(n: number): number {
  return Math.max(1, Math.min(64, Math.round(Math.sqrt(n / 4))));
}

export function kmeans3(
  xyz: Float32Array,
  n: number,
  k: number,
  seed = 7,
  iterations = 50,
): Clustering {
  const kk = Math.max(1, Math.min(k, n));
  const rand = mulberry32(seed);
  const c = new Float32Array(kk * 3);
  const d2 = new Float64Array(n).fill(Infinity);
  let first = Math.floor(rand() * n);
  for (let j = 0; j < kk; j++) {
    c.set(xyz.subarray(first * 3, first * 3 + 3), j * 3);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const dx = (xyz[i * 3] ?? 0) - (c[j * 3] ?? 0);
      const dy = (xyz[i * 3 + 1] ?? 0) - (c[j * 3 + 1] ?? 0);
      const dz = (xyz[i * 3 + 2] ?? 0) - (c[j * 3 + 2] ?? 0);
      const v = dx * dx + dy * dy + dz * dz;
      if (v < (d2[i] ?? 0)) d2[i] = v;
      total += d2[i] ?? 0;
    }
    let r = rand() * total;
    first = n - 1;
    for (let i = 0; i < n; i++) {
      r -= d2[i] ?? 0;
      if (r <= 0) {
        first = i;
        break;
      }
    }
  }
  const assign = new Uint32Array(n);
  const sizes = new Uint32Array(kk);
  for (let it = 0; it < iterations; it++) {
    let moved = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bv = Infinity;
      for (let j = 0; j < kk; j++) {
        const dx = (xyz[i * 3] ?? 0) - (c[j * 3] ?? 0);
        const dy = (xyz[i * 3 + 1] ?? 0) - (c[j * 3 + 1] ?? 0);
        const dz = (xyz[i * 3 + 2] ?? 0) - (c[j * 3 + 2] ?? 0);
        const v = dx * dx + dy * dy + dz * dz;
        if (v < bv) {
          bv = v;
          best = j;
        }
      }
      if (assign[i] !== best || it === 0) moved++;
      assign[i] = best;
    }
    const sum = new Float64Array(kk * 3);
    sizes.fill(0);
    for (let i = 0; i < n; i++) {
      const j = assign[i] ?? 0;
      sizes[j] = (sizes[j] ?? 0) + 1;
      for (let t = 0; t < 3; t++) sum[j * 3 + t] = (sum[j * 3 + t] ?? 0) + (xyz[i * 3 + t] ?? 0);
    }
    for (let j = 0; j < kk; j++) {
      const s = sizes[j] ?? 0;
      if (s > 0) for (let t = 0; t < 3; t++) c[j * 3 + t] = (sum[j * 3 + t] ?? 0) / s;
    }
    if (moved === 0) break;
  }
  return { k: kk, assign, centroids: c, sizes };
}

export interface MemberLabel {
  label: string | null;
  source: string | null;
}

/** "category=science (12 of 40)", or "cluster 3" when no member has a label. */
export function clusterLabel(members: readonly MemberLabel[], id: number): string {
  const count = (pred: (m: MemberLabel) => boolean): [string, number] | null => {
    const c = new Map<string, number>();
    for (const m of members) if (m.label && pred(m)) c.set(m.label, (c.get(m.label) ?? 0) + 1);
    let best: [string, number] | null = null;
    for (const [l, v] of [...c.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (!best || v > best[1]) best = [l, v];
    }
    return best;
  };
  const best = count((m) => m.source === 'metadata') ?? count(() => true);
  return best ? `${best[0]} (${best[1]} of ${members.length})` : `cluster ${id}`;
}
