/**
 * Prints the reliability suite's one table of figures after the run and writes it to
 * test-results/reliability/summary.txt: the figures each part recorded (figures.ts), and the
 * tests of each file (passed / failed), so a part that failed before recording still shows.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { partsDir, resultsDir, type PartFigures } from './figures';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export default class SummaryReporter implements Reporter {
  onTestRunStart(): void {
    rmSync(partsDir(), { recursive: true, force: true });
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    // This run's folder (vitest.reliability.config.ts names the run), then it is removed.
    const dir = partsDir();
    const parts: PartFigures[] = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.json'))
          .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as PartFigures)
          .sort((a, b) => a.order - b.order)
      : [];
    rmSync(dir, { recursive: true, force: true });
    const rows: string[][] = [];
    for (const p of parts)
      for (const f of p.figures) rows.push([p.part, f.label, String(f.value), f.goal ?? '']);
    const tests: string[][] = testModules.map((m) => {
      const all = [...m.children.allTests()];
      const passed = all.filter((t) => t.result().state === 'passed').length;
      const failed = all.filter((t) => t.result().state === 'failed').length;
      return [path.relative(process.cwd(), m.moduleId), String(passed), String(failed)];
    });
    const out = [
      '== Reliability suite: figures',
      table(['part', 'figure', 'value', 'goal'], rows),
      '',
      '== Test files',
      table(['file', 'passed', 'failed'], tests),
    ];
    for (const p of parts)
      for (const t of p.tables ?? [])
        out.push('', `== ${p.part}: ${t.title}`, table(t.header, t.rows));
    const text = `${out.join('\n')}\n`;
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(path.join(resultsDir, 'summary.txt'), text);
    process.stdout.write(`\n${text}`);
  }
}
