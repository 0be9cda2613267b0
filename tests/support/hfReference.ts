/**
 * The Hugging Face fixtures' torch references (tests/fixtures/hf/<model>/reference.json,
 * written by the fixture recipe from torch forward hooks; schema in tests/fixtures/hf/README.md)
 * and a parity table against them: for each hook, the largest |ours − torch| per condition.
 * Used by the graph-surgery parity test and reusable by the HF engine's tests.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './tmp';

type Rows = number[][];

export interface HfRun {
  hooks: Record<string, Rows | number[]>;
  logits_last: number[];
}

export interface HfReference {
  model: string;
  tolerance: number;
  input_ids: number[];
  hooks: string[];
  no_cache: HfRun & { hooks: Record<string, Rows> };
  with_cache: HfRun & { hooks: Record<string, number[]>; prefix_length: number; position: number };
  steering: {
    hook: string;
    vector: number[];
    downstream_hooks: string[];
    no_cache: HfRun & { hooks: Record<string, Rows>; at_hook_before_steering: Rows };
    with_cache: HfRun & { hooks: Record<string, number[]>; at_hook_before_steering: number[] };
  };
}

export const hfFixture = (model: string): string =>
  path.join(repoRoot, 'tests', 'fixtures', 'hf', model);

export function readHfReference(model: string): HfReference {
  return JSON.parse(
    readFileSync(path.join(hfFixture(model), 'reference.json'), 'utf8'),
  ) as HfReference;
}

/** Largest |a − b| over a flat float array and reference rows (or one row). */
export function maxAbsDiff(ours: ArrayLike<number>, torch: Rows | number[]): number {
  const flat = (torch as (number | number[])[]).flat();
  if (flat.length !== ours.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < flat.length; i++) m = Math.max(m, Math.abs((ours[i] ?? 0) - (flat[i] ?? 0)));
  return m;
}

/** A table of differences: one row per name, one column per condition (blank: not compared). */
export class ParityTable {
  private readonly rows = new Map<string, Map<string, number>>();
  constructor(
    readonly title: string,
    readonly columns: string[],
  ) {}

  set(row: string, column: string, diff: number): void {
    const r = this.rows.get(row) ?? new Map<string, number>();
    r.set(column, diff);
    this.rows.set(row, r);
  }

  worst(): number {
    let m = 0;
    for (const r of this.rows.values()) for (const v of r.values()) m = Math.max(m, v);
    return m;
  }

  toString(): string {
    const head = ['', ...this.columns].map((c, i) => (i === 0 ? c.padEnd(34) : c.padStart(14)));
    const lines = [`${this.title}: max |ours − torch|`, head.join('')];
    for (const [name, r] of this.rows) {
      const cells = this.columns.map((c) => {
        const v = r.get(c);
        return (v === undefined ? '' : v.toExponential(2)).padStart(14);
      });
      lines.push(name.padEnd(34) + cells.join(''));
    }
    return lines.join('\n');
  }
}
