/**
 * What each part of the reliability suite measured, for the one table the suite prints at the
 * end (summaryReporter.ts). A part writes its figures and detail tables to
 * test-results/reliability/parts/<part>.json; the reporter reads them after the run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../support/tmp';

export const resultsDir = path.join(repoRoot, 'test-results', 'reliability');
/**
 * This run's parts: the reporter names the run (RELIABILITY_RUN, set before the test processes
 * start), so two runs in one checkout do not mix their figures.
 */
export function partsDir(): string {
  return path.join(resultsDir, 'parts', process.env.RELIABILITY_RUN ?? 'default');
}

export interface Figure {
  label: string;
  value: number | string;
  /** What it should be, when there is a goal ("0", ">= 10000", "all"). */
  goal?: string;
}

export interface DetailTable {
  title: string;
  header: string[];
  rows: string[][];
}

export interface PartFigures {
  part: string;
  order: number;
  figures: Figure[];
  tables?: DetailTable[];
}

export function recordPart(p: PartFigures): void {
  mkdirSync(partsDir(), { recursive: true });
  writeFileSync(
    path.join(partsDir(), `${p.part.replace(/[^a-z0-9-]/gi, '_')}.json`),
    JSON.stringify(p, null, 2),
  );
}

/** One line of at most `n` characters (messages in tables). */
export function clip(s: string, n = 110): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
